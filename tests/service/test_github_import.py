"""`partnerscope import github`: the Jira import's contract, for tickets whose items span files."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.jobs import github_import
from service.cli import cli
from service.store.models import Account, Attribution, Event, Ticket
from tests.connectors import github_rest as rest

REPO = "acme/webshop"


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def export_files(tmp_path: Path) -> list[Path]:
    """Issue #1 (a bug a client reported), pull request #2 fixing it; items spread over four files."""
    issues = write(tmp_path, "issues.json", [[rest.issue(REPO, 1, author="client-1")],
                                             [rest.issue(REPO, 2, pull=True, author="partner-1")]])
    pulls = write(tmp_path, "pulls.json", [rest.pull(REPO, 2, body="Fixes #1", merged_by="partner-1")])
    events = write(tmp_path, "events.jsonl", "\n".join(json.dumps(e) for e in [
        rest.event(REPO, 1, 51, "closed", "2024-03-02T10:00:00Z", "partner-1", state_reason="completed"),
        rest.event(REPO, 2, 52, "merged", "2024-03-02T10:00:00Z", "partner-1", commit_id="abc123"),
    ]))
    reviews = write(tmp_path, "reviews.json", [rest.review(REPO, 2, 71, "2024-03-02T09:00:00Z", "client-1"),
                                               rest.comment(REPO, 1, 61, "2024-03-01T10:00:00Z", "partner-1")])
    return [issues, pulls, events, reviews]


def github_config(config):
    """The test organisations, with their GitHub accounts."""
    from service.config import parse_config

    from tests.conftest import TEST_CONFIG
    data = json.loads(json.dumps(TEST_CONFIG))
    data["organisations"][0]["accounts"].append("github:client-1")
    data["organisations"][1]["accounts"].append("github:partner-1")
    data["database"] = {"url": config.database_url}
    return parse_config(data, Path("test-config.toml"))


def roles(sessions) -> set[tuple[str, str, str, str]]:
    with sessions() as s:
        return set(s.execute(select(Ticket.key, Attribution.role, Account.external_id, Attribution.side)
                             .join(Ticket, Ticket.id == Attribution.ticket_id)
                             .join(Account, Account.id == Attribution.account_id)).all())


def test_items_from_several_files_make_one_ticket_each(sessions, config, tmp_path: Path) -> None:
    result = github_import.import_github_files(sessions, github_config(config), export_files(tmp_path), "gh")
    assert (result.files, result.tickets, result.refused, result.warnings) == (4, 2, [], [])
    assert result.events == 6  # two created, closed, merged, a review, a comment
    found = roles(sessions)
    assert ("acme/webshop#1", "detect", "client-1", "client") in found
    assert ("acme/webshop#1", "resolve", "partner-1", "partner") in found
    assert ("acme/webshop#2", "test", "client-1", "client") in found  # the approving review
    assert ("acme/webshop#1", "test", "client-1", "client") in found  # through "Fixes #1"


def test_a_refused_file_adds_nothing_to_tickets_of_other_files(sessions, config, tmp_path: Path) -> None:
    files = export_files(tmp_path)
    files[3].write_text(files[3].read_text()[:-20], encoding="utf-8")  # the reviews file is cut off
    result = github_import.import_github_files(sessions, github_config(config), files, "gh")
    assert result.refused == [(str(files[3]), "ends before its JSON does (a cut-off file?)")]
    assert (result.files, result.tickets) == (3, 2)
    with sessions() as s:
        kinds = set(s.scalars(select(Event.kind)))
    assert "review" not in kinds and "comment" not in kinds


def test_a_malformed_ticket_is_refused_by_key_and_one_without_its_issue_is_named(sessions, config, tmp_path) -> None:
    bad = rest.issue(REPO, 3, created_at="2024-03-01 09:00:00")
    issues = write(tmp_path, "issues.json", [rest.issue(REPO, 1), bad])
    comments = write(tmp_path, "comments.json", [rest.comment(REPO, 9, 61, "2024-03-01T10:00:00Z", "partner-1")])
    result = github_import.import_github_files(sessions, github_config(config), [issues, comments], "gh")
    assert [str(n) for n in result.warnings] == [
        f"{issues}: acme/webshop#3: refused: created_at '2024-03-01 09:00:00' has no time zone offset",
        f"{comments}: acme/webshop#9: refused: the export holds 1 comments of it but neither the issue nor the "
        "pull request itself",
    ]
    assert result.failed and (result.files, result.tickets) == (2, 1)


def test_a_database_error_refuses_its_batch_by_files_and_tickets(sessions, config, tmp_path, monkeypatch) -> None:
    real = github_import.store_and_attribute

    def failing(session, parsed, *args, **kwargs):
        if any(item.ticket.key == "acme/webshop#2" for item in parsed):
            raise IntegrityError("INSERT INTO events …", {}, Exception("duplicate key value"))
        return real(session, parsed, *args, **kwargs)

    monkeypatch.setattr(github_import, "store_and_attribute", failing)
    files = export_files(tmp_path)
    extra = write(tmp_path, "more.json", [rest.issue(REPO, 3, author="newcomer")])
    result = github_import.import_github_files(sessions, github_config(config), [*files, extra], "gh", batch=1)
    message = "refused: database error: IntegrityError: duplicate key value; 1 tickets (acme/webshop#2) were not stored"
    assert [str(n) for n in result.warnings] == [f"{files[i]}: {message}" for i in range(4)]
    assert (result.files, result.tickets) == (1, 2)  # more.json only: every other file had a part of #2
    with sessions() as s:
        assert set(s.scalars(select(Ticket.key))) == {"acme/webshop#1", "acme/webshop#3"}


def test_cli_import_github(db_url: str, tmp_path: Path) -> None:
    files = export_files(tmp_path)
    broken = write(tmp_path, "broken.json", "[{")
    cfg = write(tmp_path, "c.toml", f'[database]\nurl = "{db_url}"\n')
    out = CliRunner().invoke(cli, ["--config", str(cfg), "import", "github", *map(str, files), str(broken),
                                   "--source", "acme-github"])
    assert out.exit_code == 1
    assert out.stderr.splitlines() == [
        f"refused {broken}: ends before its JSON does (a cut-off file?); nothing from it was stored",
        # The test configuration affiliates nobody on GitHub: the import says so.
        "data quality: 2 people belong to no organisation; their 6 acts count as unknown "
        "(see `partnerscope people --unaffiliated`)",
    ]
    assert out.stdout.startswith("imported 4 of 5 files: 2 tickets, 6 events, ")
    ok = CliRunner().invoke(cli, ["--config", str(cfg), "import", "github", *map(str, files)])
    assert ok.exit_code == 0 and ok.stdout.startswith("imported 4 of 4 files: 2 tickets")

