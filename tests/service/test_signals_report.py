"""The signals through the store: tickets' shares and the daily and monthly sums kept in step, filters, the report."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from connectors.records import Event, ParsedTicket, Ticket
from service.cli import cli
from service.jobs.classify import Classifier
from service.store.directory import Directory
from service.store.db import transaction
from service.store.report import Filters, responsibility_report
from service.store.rollups import DAYS, ROLLUPS, TICKET_SHARES
from service.store.sql import ATTRIBUTIONS
from service.store.upserts import mark_deleted
from tests.service.test_store import ingest

START = datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)


def bug(number: int, day: int, *, deployer: str, reporter: str = "jira:client-1", project: str = "SHOP") -> ParsedTicket:
    """A bug reported by `reporter` on `day` (days after START), answered by the partner an hour
    later, tested by the partner and deployed by `deployer` the next day."""
    at = START + timedelta(days=day)
    t = Ticket(source="test-jira", external_id=str(20000 + number), key=f"{project}-{number}", project=project,
               type_name="Bug", kind="bug", title=f"bug {number}", status="Deployed", created=at,
               updated=at + timedelta(days=2), reporter=reporter)
    events = [
        Event("created", "created", at, reporter),
        Event(f"m{number}", "comment", at + timedelta(hours=1), "jira:partner-1"),
        Event("h1", "transition", at + timedelta(hours=2), "jira:partner-1", "status", "Backlog", "In Progress"),
        Event("h2", "transition", at + timedelta(hours=3), "jira:partner-1", "status", "In Progress", "In QA"),
        Event("h3", "transition", at + timedelta(hours=4), "jira:partner-1", "status", "In QA", "Ready for Release"),
        Event("h4", "transition", at + timedelta(days=1), deployer, "status", "Ready for Release", "Deployed"),
    ]
    from connectors.records import Account

    refs = {reporter, "jira:partner-1", deployer}
    return ParsedTicket(t, [Account("jira", r.split(":")[1], r.split(":")[1]) for r in refs], events)


def year_of_bugs(sessions, config) -> None:
    """Client deploys for the first six months, the partner for the last six; two bugs a week."""
    items = []
    for i in range(104):
        day = i * 7 // 2
        items.append(bug(i + 1, day, deployer="jira:client-1" if day < 182 else "jira:partner-1",
                         project="SHOP" if i % 4 else "PAY"))
    ingest(sessions, config, items)


def sums_from_shares(session, by: str) -> dict:
    """The tickets' shares added up by day or by month, as `signal_days` and `signal_rollups` key them."""
    out: dict = {}
    for project, text in session.execute(select(TICKET_SHARES.c.project, TICKET_SHARES.c.sums)):
        for day, measure, partner, side, person, other, n, k, c in json.loads(text):
            cell = out.setdefault((day if by == "day" else day[:7], measure, partner, project, side, person, other),
                                  [0, 0, 0])
            for i, value in enumerate((n, k, c)):
                cell[i] += value
    return {key: cell for key, cell in out.items() if any(cell)}


def stored_sums(session, table) -> dict:
    t = table.c
    when = t.day if table is DAYS else t.month
    return {tuple(row[:7]): list(row[7:])
            for row in session.execute(select(when, t.measure, t.partner, t.project, t.side, t.person_id,
                                              t.other_person_id, t.n, t.k, t.c))}


def assert_sums_agree(session) -> None:
    assert stored_sums(session, DAYS) == sums_from_shares(session, "day")
    assert stored_sums(session, ROLLUPS) == sums_from_shares(session, "month")
    assert all(v[2] > 0 for v in stored_sums(session, ROLLUPS).values())
    assert all(v[2] > 0 for v in stored_sums(session, DAYS).values())


def test_deployment_signal_agrees_with_the_area_and_finds_the_shift(sessions, config) -> None:
    year_of_bugs(sessions, config)
    with sessions() as s:
        report = responsibility_report(s, config)
    signal, area = report["signals"]["deployment"], report["areas"]["deployment"]
    assert signal["whole"]["n"] == area["partner"] + area["client"] == 104
    assert signal["whole"]["value"] == area["partner_share"]
    assert signal["series"][0]["value"] == 0.0 and signal["series"][-1]["value"] == 1.0
    assert signal["recent"]["assessment"] == "win-win" and signal["whole"]["assessment"] == "mixed"
    assert signal["shift"]["month"] == "2025-07" and signal["shift"]["before"] == 0.0
    assert set(signal["by_project"]) == {"PAY", "SHOP"} and set(signal["by_partner"]) == {"Nordlys"}
    issue = report["signals"]["issue_management"]["whole"]
    hours = issue["first_response_hours"]
    assert (hours["n"], hours["unanswered"]) == (104, 0)
    assert hours["median"] == pytest.approx(1.0, rel=0.025) and hours["p90"] == pytest.approx(1.0, rel=0.025)
    assert issue["participation"]["value"] == 1.0
    # Escaped defects count from the month after the partner's first close (its first deploy, 2025-07).
    later = sum(1 for i in range(104) if (START + timedelta(days=i * 7 // 2)).strftime("%Y-%m") > "2025-07")
    qa = report["signals"]["quality_assurance"]["whole"]
    assert qa["escaped_defects"]["n"] == later and qa["escaped_defects"]["value"] == 1.0
    partner_closes = sum(1 for i in range(104) if i * 7 // 2 >= 182)
    assert (qa["client_reopens"]["value"], qa["client_reopens"]["n"]) == (0.0, partner_closes)


def test_sums_stay_equal_to_the_tickets_shares_through_reattribution_and_deletion(sessions, config) -> None:
    year_of_bugs(sessions, config)
    with transaction(sessions) as s:
        assert_sums_agree(s)
        assert stored_sums(s, ROLLUPS) and stored_sums(s, DAYS)
        classifier = Classifier(config, Directory(s))
        ids = [i for (i,) in s.execute(select(TICKET_SHARES.c.ticket_id).limit(30))]
        classifier.reclassify(s, ids)
        mark_deleted(s, "test-jira", ["20001", "20002", "20050"])
    # The same ticket again with another deployer: its old facts leave the sums, the new ones enter.
    ingest(sessions, config, [bug(3, 7, deployer="jira:partner-1")])
    with sessions() as s:
        assert_sums_agree(s)
        report = responsibility_report(s, config)
    assert report["signals"]["deployment"]["whole"]["n"] == 101


def test_filters_cut_months_from_their_daily_sums(sessions, config) -> None:
    year_of_bugs(sessions, config)
    since, until = date(2025, 2, 10), date(2025, 8, 20)
    with sessions() as s:
        report = responsibility_report(s, config, Filters(since=since, until=until))
        project = responsibility_report(s, config, Filters(project="PAY"))
        a = ATTRIBUTIONS.c
        expected = s.scalar(select(func.count()).where(
            a.role == "deploy", a.side.in_(("partner", "client")), a.at >= datetime(2025, 2, 10, tzinfo=timezone.utc),
            a.at < datetime(2025, 8, 21, tzinfo=timezone.utc)))
    signal = report["signals"]["deployment"]
    assert signal["whole"]["n"] == expected == report["areas"]["deployment"]["partner"] + report["areas"][
        "deployment"]["client"]
    assert (signal["whole"]["from"], signal["whole"]["until"]) == ("2025-02", "2025-08")
    assert (signal["recent"]["from"], signal["recent"]["until"]) == ("2025-03", "2025-08")
    assert project["signals"]["deployment"]["whole"]["n"] == 26
    assert set(project["signals"]["deployment"]["by_project"]) == {"PAY"}


def test_empty_database_and_filters_that_match_nothing(sessions, config) -> None:
    with sessions() as s:
        report = responsibility_report(s, config)
    entry = report["signals"]["quality_assurance"]
    assert entry["series"] == [] and entry["whole"]["value"] is None
    assert entry["whole"]["assessment"] == "insufficient data" and entry["shift"] is None


def test_cli_report_json_has_signals_and_table_names_the_window(sessions, config, db_url, tmp_path) -> None:
    year_of_bugs(sessions, config)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "{db_url}"\n[[organisations]]\nname = "Acme"\nside = "client"\n'
                   'accounts = ["jira:client-1"]\n[[organisations]]\nname = "Nordlys"\nside = "partner"\n'
                   'accounts = ["jira:partner-1"]\n[scorecard]\nrecent_months = 3\n'
                   '[declared]\ncontract_type = "target price"\n')
    runner = CliRunner()
    out = runner.invoke(cli, ["--config", str(cfg), "report", "--format", "json"])
    assert out.exit_code == 0, out.output
    signals = json.loads(out.output)["signals"]
    assert (signals["deployment"]["recent"]["from"], signals["deployment"]["recent"]["until"]) == ("2025-11", "2026-01")
    assert signals["contract_type"]["recent"]["assessment"] == "declared: target price"
    table = runner.invoke(cli, ["--config", str(cfg), "report"])
    assert table.exit_code == 0, table.output
    assert "recent window 2025-11 to 2026-01" in table.output
    assert "declared: target price" in table.output


@pytest.mark.parametrize("version", ["0004", "0005"])
def test_a_database_upgraded_with_attributions_owes_a_classify(tmp_path, config, version) -> None:
    """Before 0005 there were no facts; at 0005 one row per fact, which 0006 does not carry over."""
    from dataclasses import replace

    from alembic import command
    from sqlalchemy import text

    from service.jobs.classify import classify_all
    from service.store.db import alembic_config, make_engine, session_factory, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    config = replace(config, database_url=str(engine.url))
    year_of_bugs(sessions, config)
    command.downgrade(alembic_config(engine), version)
    if version == "0005":
        with engine.begin() as c:  # what 0005 kept: facts and their monthly sums
            c.execute(text("INSERT INTO signal_facts (ticket_id, measure, at, month, project, side, n, k) "
                           "VALUES (1, 'role:deploy', '2025-01-07 09:00:00', '2025-01', 'SHOP', 'client', 1, 0)"))
            c.execute(text("INSERT INTO signal_rollups (measure, month, partner, project, side, person_id, "
                           "other_person_id, n, k, c) VALUES ('role:deploy', '2025-01', '', 'SHOP', 'client', 0, 0, 1, 0, 1)"))
    upgrade(engine)
    with sessions() as s:
        before = responsibility_report(s, config)
    assert before["data_quality"]["signals_need_classify"] is True
    assert before["signals"]["deployment"]["whole"]["n"] == 0
    assert before["areas"]["deployment"]["partner"] + before["areas"]["deployment"]["client"] == 104
    with transaction(sessions) as s:
        classify_all(s, config)
    with sessions() as s:
        after = responsibility_report(s, config)
        assert_sums_agree(s)
    assert after["data_quality"]["signals_need_classify"] is False
    assert after["signals"]["deployment"]["whole"]["n"] == 104
    engine.dispose()


def test_page_and_api_show_the_signals_and_their_window(client, sessions, config) -> None:
    year_of_bugs(sessions, config)
    page = client.get("/").get_data(as_text=True)
    assert "Recent window 2025-08 to 2026-01" in page and "whole period 2025-01 to 2026-01" in page
    assert "project management" in page and "2025-07: 0 % → 96 %" in page
    data = client.get("/api/report?since=2025-03-01").get_json()
    assert data["signals"]["deployment"]["whole"]["from"] == "2025-03"
    empty = client.get("/?since=2030-01-01").get_data(as_text=True)
    assert "No acts in the filtered range." in empty


def test_a_merge_of_two_accounts_reaches_the_signal_sums(sessions, config) -> None:
    from service.jobs.classify import regroup
    from service.store.identity import record

    items = []
    for i, commenter in enumerate(["jira:client-1", "jira:client-2"] * 3):
        item = bug(i + 1, i * 3, deployer="jira:partner-1", reporter="jira:client-3")
        item.events.append(Event(f"x{i}", "comment", item.ticket.created + timedelta(hours=2), commenter))
        from connectors.records import Account
        item.accounts += [Account("jira", commenter.split(":")[1], commenter.split(":")[1],
                                  "second@acme.example" if commenter.endswith("2") else None),
                          Account("jira", "client-3", "Client 3", "third@acme.example")]
        items.append(item)
    ingest(sessions, config, items)
    with sessions() as s:
        before = responsibility_report(s, config)["signals"]["communication"]["whole"]
    with transaction(sessions) as s:
        record(s, "merge", "jira:client-1", "jira:client-2")
        regroup(s, config, Classifier(config, Directory(s)))
    with sessions() as s:
        after = responsibility_report(s, config)["signals"]["communication"]["whole"]
        assert_sums_agree(s)
    # Two client people and the partner: two pairs among three; merged, one pair among two. The
    # merged accounts only comment: no attribution names them, their acts do.
    assert (before["value"], before["n"]) == (0.6667, 3)
    assert (after["value"], after["n"]) == (0.5, 2)


def test_onboarding_counts_a_newcomers_client_contacts_in_their_first_60_days(sessions, config) -> None:
    from connectors.records import Account

    items = [bug(1, 0, deployer="jira:client-1")]  # the data begins on START
    newcomer = "jira:fresh"  # partner by domain; first act 100 days later
    for i, (day, client) in enumerate([(100, "jira:client-1"), (120, "jira:client-2"), (130, "jira:client-1"),
                                       (200, "jira:client-3")]):
        item = bug(10 + i, day, deployer="jira:client-1", reporter=client)
        item.events += [Event(f"n{i}", "comment", item.ticket.created + timedelta(hours=3), newcomer),
                        Event(f"r{i}", "comment", item.ticket.created + timedelta(hours=4), client)]
        item.accounts += [Account("jira", "fresh", "Fresh", "fresh@nordlys.example"),
                          Account("jira", client.split(":")[1], client, f"{client.split(':')[1]}@acme.example")]
        items.append(item)
    ingest(sessions, config, items)
    with sessions() as s:
        onboarding = responsibility_report(s, config)["signals"]["onboarding"]
    # Within 60 days of the first act (day 100): client-1 and client-2; client-3 on day 200 is later.
    # partner-1 acted from day 0, so is no newcomer.
    assert (onboarding["whole"]["value"], onboarding["whole"]["n"]) == (2.0, 1)
    assert onboarding["series"][3] == {"month": "2025-04", "value": 2.0, "low": None, "high": None, "n": 1}
    assert onboarding["whole"]["days_to_first_resolve"] == {"median": None, "n": 0, "never": 1}


def test_a_classify_that_writes_its_sums_out_in_parts_adds_them_up(sessions, config, monkeypatch) -> None:
    """A rebuild holds its sums in memory and writes them out whenever they pass `FLUSH_AT` keys;
    keys written out early get the later batches added, not replaced."""
    from service.jobs import classify as classify_module
    from service.jobs.classify import classify_all
    from service.store import rollups as rollups_module

    year_of_bugs(sessions, config)
    with sessions() as s:
        before = responsibility_report(s, config)["signals"]
    monkeypatch.setattr(rollups_module, "FLUSH_AT", 5)
    monkeypatch.setattr(classify_module, "BATCH", 7)
    with transaction(sessions) as s:
        classify_all(s, config)
    with sessions() as s:
        assert_sums_agree(s)
        assert responsibility_report(s, config)["signals"] == before


def test_a_ticket_that_yields_no_fact_is_stored_and_attributed_again(sessions, config) -> None:
    """Its share is empty, and its row must still go when it is attributed anew (a newer copy, a
    regroup, a deletion): else the next share of it collides with the old row."""
    from tests.service.builders import parsed, ticket

    quiet = parsed(ticket(77, kind="other", type_name="Gizmo", status="Open", reporter="jira:stranger"), [])
    ingest(sessions, config, [quiet])
    with sessions() as s:
        assert json.loads(s.scalar(select(TICKET_SHARES.c.sums))) == []
    ingest(sessions, config, [replace(quiet, ticket=replace(quiet.ticket, updated=quiet.ticket.updated + timedelta(days=1)))])
    with transaction(sessions) as s:
        tid = s.scalar(select(TICKET_SHARES.c.ticket_id))
        Classifier(config, Directory(s)).reclassify(s, [tid])
        mark_deleted(s, "test-jira", [quiet.ticket.external_id])
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(TICKET_SHARES)) == 0
        assert_sums_agree(s)
