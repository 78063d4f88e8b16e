"""`partnerscope import jira`: a bad file is refused whole by name, a bad issue alone; the rest lands."""
from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from connectors.exports import MAX_TEXT
from service.cli import cli
from service.jobs.ingest import import_files
from service.store.models import Account, Attribution, Event, Ticket


def user(account_id: str, name: str) -> dict:
    return {"accountId": account_id, "displayName": name, "accountType": "atlassian", "active": True}


def issue(number: int, reporter: dict | None = None, updated: str = "2025-02-03T10:00:00.000+0000") -> dict:
    """A Jira Cloud issue as the v3 search returns it with the changelog expanded."""
    return {
        "id": str(10000 + number),
        "key": f"SHOP-{number}",
        "self": f"https://acme.atlassian.net/rest/api/3/issue/{10000 + number}",
        "fields": {
            "summary": f"Checkout fails #{number}",
            "issuetype": {"name": "Bug", "id": "1"},
            "status": {"name": "Done", "statusCategory": {"key": "done"}},
            "project": {"key": "SHOP", "name": "Shop", "id": "100"},
            "reporter": reporter if reporter is not None else user("client-1", "Cleo Client"),
            "creator": reporter if reporter is not None else user("client-1", "Cleo Client"),
            "assignee": None,
            "created": "2025-02-01T09:00:00.000+0000",
            "updated": updated,
            "resolutiondate": updated,
            "labels": [],
            "priority": {"name": "High"},
            "comment": {"comments": [], "maxResults": 0, "total": 0, "startAt": 0},
        },
        "changelog": {
            "startAt": 0, "maxResults": 1, "total": 1,
            "histories": [{
                "id": f"{number}01",
                "author": user("partner-1", "Per Partner"),
                "created": "2025-02-02T09:00:00.000+0000",
                "items": [{"field": "status", "fieldtype": "jira", "from": "1", "fromString": "In QA",
                           "to": "2", "toString": "Done"}],
            }],
        },
    }


def write(tmp_path: Path, name: str, content: object) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def test_good_files_land_and_bad_ones_are_refused_whole(sessions, config, tmp_path: Path) -> None:
    search_page = write(tmp_path, "page.json", {"issues": [issue(1), issue(2)], "isLast": True})
    single = write(tmp_path, "one.json", issue(3))
    broken = write(tmp_path, "broken.json", '{"issues": [')
    wrong_shape = write(tmp_path, "wrong.json", {"values": []})
    # One good issue and one that is no issue: the good one lands, the other is refused by key.
    half_bad = write(tmp_path, "half.json", {"issues": [issue(4), {"key": "SHOP-5"}]})
    result = import_files(sessions, config, [search_page, broken, single, wrong_shape, half_bad], "acme-jira")
    assert (result.files, result.tickets) == (3, 4)
    refused = dict(result.refused)
    assert set(refused) == {str(broken), str(wrong_shape)}
    assert "ends before its JSON does" in refused[str(broken)]
    assert "is an object with values" in refused[str(wrong_shape)]
    assert [str(n) for n in result.warnings] == [f"{half_bad}: SHOP-5: refused: has no id or fields; not a Jira issue"]
    assert result.failed
    with sessions() as s:
        keys = set(s.scalars(select(Ticket.key)))
        tested = s.scalar(select(func.count()).select_from(Attribution).where(Attribution.role == "test"))
    assert keys == {"SHOP-1", "SHOP-2", "SHOP-3", "SHOP-4"}
    assert tested == 4


def test_importing_twice_changes_nothing(sessions, config, tmp_path: Path) -> None:
    page = write(tmp_path, "page.json", {"issues": [issue(1)], "isLast": True})
    assert import_files(sessions, config, [page], "acme-jira").tickets == 1
    again = import_files(sessions, config, [page], "acme-jira")
    assert (again.files, again.tickets, again.events) == (1, 0, 0)


def test_cli_import_names_the_refused_file(db_url: str, tmp_path: Path) -> None:
    good = write(tmp_path, "good.json", {"issues": [issue(1)], "isLast": True})
    bad = write(tmp_path, "bad.json", "not json at all")
    cfg = write(tmp_path, "c.toml", f'[database]\nurl = "{db_url}"\n')
    out = CliRunner().invoke(cli, ["--config", str(cfg), "import", "jira", str(good), str(bad)])
    assert out.exit_code == 1
    assert f"refused {bad}: is not valid JSON" in out.output
    assert "imported 1 of 2 files: 1 tickets" in out.output


def stored_keys(sessions) -> set[str]:
    with sessions() as s:
        return set(s.scalars(select(Ticket.key)))


@pytest.mark.parametrize("encode", [
    pytest.param(lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), id="utf-8-bom"),
    pytest.param(lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"), id="utf-16-le"),
    pytest.param(lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"), id="utf-16-be"),
])
def test_exports_windows_tools_write_are_imported(sessions, config, tmp_path: Path, encode) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(encode(json.dumps({"issues": [issue(1), issue(2)]}, indent=2, ensure_ascii=False)))
    result = import_files(sessions, config, [path], "acme-jira")
    assert (result.files, result.tickets, result.refused) == (1, 2, [])
    assert stored_keys(sessions) == {"SHOP-1", "SHOP-2"}


@pytest.mark.parametrize("layout", [
    pytest.param(lambda issues: json.dumps(issues), id="json-array"),
    pytest.param(lambda issues: json.dumps([{"issues": issues[:1]}, {"issues": issues[1:]}], indent=1),
                 id="array-of-search-pages"),
    pytest.param(lambda issues: "\n".join(json.dumps(i) for i in issues) + "\n", id="json-lines"),
])
def test_export_layouts(sessions, config, tmp_path: Path, layout) -> None:
    path = write(tmp_path, "export.json", layout([issue(1), issue(2), issue(3)]))
    result = import_files(sessions, config, [path], "acme-jira")
    assert (result.files, result.tickets, result.warnings) == (1, 3, [])
    assert stored_keys(sessions) == {"SHOP-1", "SHOP-2", "SHOP-3"}


def test_a_malformed_json_line_is_refused_by_number_the_others_kept(sessions, config, tmp_path: Path) -> None:
    lines = [json.dumps(issue(1)), '{"id": "10002", "key": "SHOP-2", "fields": {', "", json.dumps(issue(3))]
    path = write(tmp_path, "export.jsonl", "\n".join(lines))
    result = import_files(sessions, config, [path], "acme-jira")
    assert (result.files, result.tickets) == (1, 2)
    [notice] = result.warnings
    assert notice.refused and str(notice).startswith(f"{path}: line 2: refused: is not valid JSON")
    assert stored_keys(sessions) == {"SHOP-1", "SHOP-3"}


def test_a_timestamp_without_zone_refuses_that_issue_only(sessions, config, tmp_path: Path) -> None:
    bad = issue(2)
    bad["fields"]["created"] = "2025-02-01T09:00:00.000"
    path = write(tmp_path, "page.json", {"issues": [issue(1), bad, issue(3)]})
    result = import_files(sessions, config, [path], "acme-jira")
    assert (result.files, result.tickets, result.refused) == (1, 2, [])
    assert [str(n) for n in result.warnings] == [
        f"{path}: SHOP-2: refused: created '2025-02-01T09:00:00.000' has no time zone offset"]
    assert stored_keys(sessions) == {"SHOP-1", "SHOP-3"}


def test_items_that_are_not_issues(sessions, config, tmp_path: Path) -> None:
    zeros = write(tmp_path, "zeros.json", "[0, 0, 0]")
    late = write(tmp_path, "late.json", [issue(1), 0])
    result = import_files(sessions, config, [zeros, late], "acme-jira")
    assert result.refused == [(str(zeros), "item 1 is a JSON number; expected a Jira search response or an issue object")]
    assert [str(n) for n in result.warnings] == [f"{late}: item 2: refused: is a JSON number, not an issue object"]
    assert stored_keys(sessions) == {"SHOP-1"}


def test_counts_are_of_what_was_stored(sessions, config, tmp_path: Path) -> None:
    twice = issue(1)
    twice["changelog"]["histories"] *= 2  # an export that repeats a history entry
    first = import_files(sessions, config, [write(tmp_path, "a.json", {"issues": [twice]})], "acme-jira")
    assert (first.tickets, first.events) == (1, 2)  # created + one transition, not three
    newer = issue(1, updated="2025-02-04T10:00:00.000+0000")
    newer["changelog"]["histories"].append({
        "id": "102", "author": user("partner-1", "Per Partner"), "created": "2025-02-04T10:00:00.000+0000",
        "items": [{"field": "labels", "fromString": "", "toString": "verified"}]})
    stale = issue(1, updated="2025-02-02T10:00:00.000+0000")
    later = import_files(sessions, config, [write(tmp_path, "b.json", [newer]), write(tmp_path, "c.json", [stale])],
                         "acme-jira")
    assert (later.files, later.tickets, later.events) == (2, 1, 1)  # the stale copy stored nothing
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == 3


def test_a_database_error_refuses_that_file_by_name_and_the_next_is_imported(
        sessions, config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.jobs import ingest

    real = ingest.store_and_attribute

    def failing(session, parsed, *args):
        if any(item.ticket.key == "SHOP-3" for item in parsed):
            raise OperationalError("INSERT INTO tickets …", {}, Exception("disk I/O error"))
        return real(session, parsed, *args)

    monkeypatch.setattr(ingest, "store_and_attribute", failing)
    newcomer = user("newcomer-1", "Nina Newcomer")
    good = write(tmp_path, "good.json", [issue(1)])
    # SHOP-2 is stored in a first batch, then SHOP-3's batch fails: neither may remain, nor
    # the account SHOP-2 brought in, which SHOP-4 in the next file needs again.
    bad = write(tmp_path, "bad.json", [issue(2, reporter=newcomer), issue(3)])
    after = write(tmp_path, "after.json", [issue(4, reporter=newcomer)])
    result = ingest.import_files(sessions, config, [good, bad, after], "acme-jira", batch=1)
    assert result.refused == [(str(bad), "database error: OperationalError: disk I/O error")]
    assert (result.files, result.tickets) == (2, 2)
    assert stored_keys(sessions) == {"SHOP-1", "SHOP-4"}
    with sessions() as s:
        reporter = s.scalar(select(Account.external_id).join(Ticket, Ticket.reporter_id == Account.id)
                            .where(Ticket.key == "SHOP-4"))
    assert reporter == "newcomer-1"


def test_an_absurd_title_is_cut_and_named(sessions, config, tmp_path: Path) -> None:
    huge = issue(1)
    huge["fields"]["summary"] = "Checkout " * 30_000
    path = write(tmp_path, "page.json", [huge, issue(2)])
    result = import_files(sessions, config, [path], "acme-jira")
    assert [str(n) for n in result.warnings] == [
        f"{path}: SHOP-1: title (270,000 characters) was cut to fit its column"]
    assert not result.failed
    with sessions() as s:
        title = s.scalar(select(Ticket.title).where(Ticket.key == "SHOP-1"))
    assert len(title) == MAX_TEXT and title.endswith("…")


def test_cli_prints_each_notice_on_stderr_and_exits_1_for_a_refused_issue(db_url: str, tmp_path: Path) -> None:
    bad = issue(2)
    bad["fields"]["updated"] = "yesterday"
    cut = issue(3)
    cut["fields"]["summary"] = "x" * (MAX_TEXT + 5)
    path = write(tmp_path, "page.json", {"issues": [issue(1), bad, cut]})
    cfg = write(tmp_path, "c.toml", f'[database]\nurl = "{db_url}"\n')
    out = CliRunner().invoke(cli, ["--config", str(cfg), "import", "jira", str(path)])
    assert out.exit_code == 1
    assert out.stderr.splitlines() == [
        f"{path}: SHOP-2: refused: updated 'yesterday' is not an ISO 8601 time",
        f"{path}: SHOP-3: title ({MAX_TEXT + 5:,} characters) was cut to fit its column",
        # This configuration names no organisation: every acting account is unaffiliated, and said so.
        "data quality: 2 people belong to no organisation; their 6 acts count as unknown "
        "(see `partnerscope people --unaffiliated`)",
    ]
    assert out.stdout.startswith("imported 1 of 1 files: 2 tickets, 4 events, ")
    only_cut = CliRunner().invoke(cli, ["--config", str(cfg), "import", "jira", str(write(tmp_path, "cut.json", [cut]))])
    assert only_cut.exit_code == 0 and "was cut to" in only_cut.stderr


def test_a_jira_error_response_is_refused_with_jiras_words(sessions, config, tmp_path: Path) -> None:
    error = write(tmp_path, "error.json", {"errorMessages": ["Field 'projct' does not exist."], "errors": {}})
    result = import_files(sessions, config, [error], "acme-jira")
    assert result.refused == [(str(error), "the document is a Jira error response (Field 'projct' does not exist.), "
                                           "not issues")]


def test_notices_of_one_file_are_counted_past_a_hundred(sessions, config, tmp_path: Path) -> None:
    bad = [{"id": str(n), "key": f"SHOP-{n}", "fields": {"created": "never"}} for n in range(2, 107)]
    path = write(tmp_path, "many.json", [issue(1), *bad])
    result = import_files(sessions, config, [path], "acme-jira")
    assert result.tickets == 1 and len(result.warnings) == 101
    assert str(result.warnings[-1]) == f"{path}: 5 more items refused" and result.warnings[-1].refused


def test_the_demo_stores_what_its_export_imports(sessions, db_url: str, tmp_path: Path) -> None:
    """The demo build takes issues as they are played (creation order), an export pages them by
    `updated`: the same tickets, events and attributions either way, whatever the batch size."""
    from service.config import parse_config
    from service.jobs.ingest import DEMO_SOURCE, build_demo
    from simulator.scenario import scenario_config, write_export

    demo_config = parse_config(dict(scenario_config(), database={"url": db_url}), None)
    built = build_demo(sessions, demo_config, 300, batch=40)
    imported = import_files(sessions, demo_config, write_export(tmp_path / "export", 300), "jira-import", batch=70)
    assert built.tickets == imported.tickets == 300
    assert built.events == imported.events and built.attributions == imported.attributions > 0

    def acts(source: str) -> list[tuple]:
        with sessions() as session:
            return sorted(session.execute(
                select(Ticket.key, Attribution.role, Account.external_id, Attribution.side, Attribution.at)
                .join(Ticket, Ticket.id == Attribution.ticket_id).join(Account, Account.id == Attribution.account_id)
                .where(Ticket.source == source)).all())

    assert acts(DEMO_SOURCE) == acts("jira-import")
