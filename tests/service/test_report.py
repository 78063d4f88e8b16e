"""The report's numbers on a small case checked by hand, through the query, CLI and API."""
from __future__ import annotations

import csv
import io
import json
from datetime import date

from click.testing import CliRunner

from service.cli import cli
from service.store.report import Filters, people, responsibility_report, statuses
from tests.service.builders import bug_through_qa
from tests.service.test_store import ingest


def three_bugs(sessions, config) -> None:
    # Reported by the client; investigated and tested by the partner; deployed
    # (and so resolved) twice by the client and once by the partner.
    ingest(sessions, config, [
        bug_through_qa(1, deployer="jira:client-1"),
        bug_through_qa(2, deployer="jira:client-1"),
        bug_through_qa(3, deployer="jira:partner-1", project="PAY"),
    ])


def test_report_numbers_by_hand(sessions, config) -> None:
    three_bugs(sessions, config)
    with sessions() as s:
        report = responsibility_report(s, config)
    roles = report["roles"]
    assert roles["detect"] == {"partner": 0, "client": 3, "unknown": 0}
    assert roles["investigate"] == {"partner": 3, "client": 0, "unknown": 0}
    assert roles["test"] == {"partner": 3, "client": 0, "unknown": 0}
    assert roles["deploy"] == {"partner": 1, "client": 2, "unknown": 0}
    assert roles["resolve"] == {"partner": 1, "client": 2, "unknown": 0}
    assert roles["specify"] == roles["accept"] == roles["improve"] == {"partner": 0, "client": 0, "unknown": 0}
    qa = report["areas"]["quality_assurance"]
    # detect + test + accept: 3 partner, 3 client; Wilson(3, 6) = 0.1876..0.8124
    assert (qa["partner"], qa["client"], qa["partner_share"], qa["low"], qa["high"], qa["assessment"]) == (
        3, 3, 0.5, 0.1876, 0.8124, "mixed")
    issues = report["areas"]["issue_management"]
    assert (issues["partner"], issues["client"], issues["partner_share"], issues["low"], issues["high"]) == (
        4, 2, 0.6667, 0.3, 0.9032)
    deployment = report["areas"]["deployment"]
    assert (deployment["partner_share"], deployment["low"], deployment["high"]) == (0.3333, 0.0615, 0.7923)
    assert report["areas"]["requirements"]["assessment"] == "insufficient data"
    assert report["areas"]["requirements"]["partner_share"] is None


def test_report_filters_by_project_and_dates(sessions, config) -> None:
    three_bugs(sessions, config)
    with sessions() as s:
        pay = responsibility_report(s, config, Filters(project="PAY"))
        before = responsibility_report(s, config, Filters(until=date(2025, 1, 31)))
        during = responsibility_report(s, config, Filters(since=date(2025, 2, 1), until=date(2025, 2, 1)))
    assert pay["roles"]["deploy"] == {"partner": 1, "client": 0, "unknown": 0}
    assert before["roles"]["detect"]["client"] == 0
    assert during["roles"]["detect"]["client"] == 3


def test_cli_report_json_and_csv(sessions, config, db_url, tmp_path) -> None:
    three_bugs(sessions, config)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[database]\nurl = "{db_url}"\n[scorecard]\nmin_samples = 2\n'
        '[[organisations]]\nname = "Acme"\nside = "client"\naccounts = ["jira:client-1"]\n'
        '[[organisations]]\nname = "Nordlys"\nside = "partner"\naccounts = ["jira:partner-1"]\n'
    )
    runner = CliRunner()
    out = runner.invoke(cli, ["--config", str(cfg), "report", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["areas"]["deployment"]["client"] == 2
    out = runner.invoke(cli, ["--config", str(cfg), "report", "--format", "csv", "--project", "SHOP"])
    rows = list(csv.DictReader(io.StringIO(out.output)))
    deploy = next(r for r in rows if r["name"] == "deployment")
    assert (deploy["partner"], deploy["client"], deploy["assessment"]) == ("0", "2", "win-lose")
    out = runner.invoke(cli, ["--config", str(cfg), "report"])
    assert "quality_assurance" in out.output and "mixed" in out.output


def test_api_report_json_csv_and_bad_date(client, sessions, config) -> None:
    three_bugs(sessions, config)
    data = client.get("/api/report?project=SHOP").get_json()
    assert data["roles"]["deploy"] == {"partner": 0, "client": 2, "unknown": 0}
    response = client.get("/api/report?format=csv")
    assert response.mimetype == "text/csv" and "quality_assurance" in response.get_data(as_text=True)
    bad = client.get("/api/report?since=yesterday")
    assert bad.status_code == 400 and "since" in bad.get_json()["message"]
    page = client.get("/")
    assert page.status_code == 200 and b"quality assurance" in page.data


def test_people_most_active_first_and_unaffiliated(sessions, config) -> None:
    three_bugs(sessions, config)
    ingest(sessions, config, [bug_through_qa(4, deployer="jira:stranger")])
    with sessions() as s:
        everyone = people(s, config)
        strangers = people(s, config, unaffiliated_only=True)
    assert everyone[0].account == "jira:partner-1"  # 4 tickets x 2-3 transitions each
    assert [p.activity for p in everyone] == sorted((p.activity for p in everyone), reverse=True)
    assert [p.account for p in strangers] == ["jira:stranger"]
    assert strangers[0].side == "unknown"


def test_statuses_lists_unmapped(sessions, config) -> None:
    from tests.service.builders import parsed, ticket, transition

    ingest(sessions, config, [parsed(ticket(9, status="已完成"), [transition(1, 1, "jira:partner-1", "Backlog", "已完成")])])
    with sessions() as s:
        unmapped = statuses(s, config, unmapped_only=True)
        everything = statuses(s, config)
    assert [r.status for r in unmapped] == ["已完成"]
    assert unmapped[0].uses == 2
    assert {r.status: r.phase for r in everything}["Backlog"] == "backlog"


def test_the_page_lists_unaffiliated_accounts_with_their_unknown_acts_within_its_filters(client, sessions, config) -> None:
    three_bugs(sessions, config)
    ingest(sessions, config, [bug_through_qa(4, deployer="jira:stranger")])
    with sessions() as s:
        listed = responsibility_report(s, config)["data_quality"]["unmapped_accounts"]["accounts"]
    assert [(a["account"], a["acts"]) for a in listed] == [("jira:stranger", 2)]  # deployed and resolved
    page = client.get("/").get_data(as_text=True)
    assert "Unaffiliated accounts" in page and "<td>jira:stranger</td><td>Stranger</td><td>2</td>" in page
    assert "Unaffiliated accounts" not in client.get("/?project=NONE").get_data(as_text=True)
    for project, expected in (("SHOP", [("jira:stranger", 2)]), ("PAY", [])):
        with sessions() as s:
            listed = responsibility_report(s, config, Filters(project=project))["data_quality"]["unmapped_accounts"]
        assert [(a["account"], a["acts"]) for a in listed["accounts"]] == expected
