"""`partnerscope import jira`: good files land, a bad file is refused by name and stores nothing."""
from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from service.cli import cli
from service.ingest import import_files
from service.models import Attribution, Ticket


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
    # One good issue and one malformed issue: the whole file is refused, the good one too.
    half_bad = write(tmp_path, "half.json", {"issues": [issue(4), {"key": "SHOP-5"}]})
    result = import_files(sessions, config, [search_page, broken, single, wrong_shape, half_bad], "acme-jira")
    assert (result.files, result.tickets) == (2, 3)
    refused = dict(result.refused)
    assert set(refused) == {str(broken), str(wrong_shape), str(half_bad)}
    assert "not valid JSON" in refused[str(broken)]
    assert "SHOP-5" in refused[str(half_bad)]
    with sessions() as s:
        keys = set(s.scalars(select(Ticket.key)))
        tested = s.scalar(select(func.count()).select_from(Attribution).where(Attribution.role == "test"))
    assert keys == {"SHOP-1", "SHOP-2", "SHOP-3"}
    assert tested == 3


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
