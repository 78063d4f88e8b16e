"""`connectors.github_export`: REST items recognised by shape and grouped by ticket across files."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.exports import ExportError, read_export
from connectors.github_export import GitHubExport, kind_of, slim_item, ticket_of
from tests.connectors import github_rest as rest

REPO = "acme/webshop"


@pytest.mark.parametrize(("raw", "kind", "key"), [
    pytest.param(rest.issue(REPO, 1), "issue", "acme/webshop#1", id="issue"),
    pytest.param(rest.issue(REPO, 2, pull=True), "issue", "acme/webshop#2", id="pull-request-in-issues-listing"),
    pytest.param(rest.pull(REPO, 2), "pull", "acme/webshop#2", id="pull"),
    pytest.param(rest.event(REPO, 3, 51, "closed", "2024-03-02T10:00:00Z", "p-partner"), "event", "acme/webshop#3",
                 id="repository-issue-event"),
    pytest.param(rest.event(REPO, 3, 51, "labeled", "2024-03-02T10:00:00Z", "p-partner", embed=False), "event", None,
                 id="timeline-event"),
    pytest.param(rest.comment(REPO, 4, 61, "2024-03-02T10:00:00Z", "c-client"), "comment", "acme/webshop#4",
                 id="comment"),
    pytest.param(rest.comment(REPO, 4, 61, "2024-03-02T10:00:00Z", "c-client", timeline=True), "comment",
                 "acme/webshop#4", id="timeline-commented"),
    pytest.param(rest.review(REPO, 2, 71, "2024-03-02T10:00:00Z", "c-client"), "review", "acme/webshop#2", id="review"),
    pytest.param(rest.review(REPO, 2, 71, "2024-03-02T10:00:00Z", "c-client", timeline=True), "review",
                 "acme/webshop#2", id="timeline-reviewed"),
    pytest.param({k: v for k, v in rest.review(REPO, 2, 71, "2024-03-02T10:00:00Z", "c-client").items()
                  if k not in ("pull_request_url", "html_url")}, "review", None, id="review-without-its-pull"),
    pytest.param({"id": 81, "pull_request_url": f"{rest.API}/repos/{REPO}/pulls/2", "diff_hunk": "@@", "body": "x",
                  "user": rest.user("c-client")}, "review comment", None, id="review-comment"),
    pytest.param({"url": f"{rest.API}/repos/{REPO}/milestones/7", "html_url": f"{rest.WEB}/{REPO}/milestone/7",
                  "id": 7856149, "number": 7, "title": "v0.11.0"}, None, None, id="milestone"),
    pytest.param({"id": 5, "tag_name": "v1.0", "author": rest.user("p-partner")}, "release", None, id="release"),
    pytest.param(0, None, None, id="number"),
])
def test_items_are_recognised_by_shape(raw: Any, kind: str | None, key: str | None) -> None:
    assert kind_of(raw) == kind
    if kind in ("issue", "pull", "event", "comment", "review"):
        assert ticket_of(raw, kind) == key


def test_slim_keeps_what_the_parser_reads() -> None:
    kept = slim_item(rest.review(REPO, 2, 71, "2024-03-02T10:00:00Z", "c-client", timeline=True), "review")
    assert kept == {"id": 71, "user": {"login": "c-client", "type": "User"}, "state": "APPROVED",
                    "submitted_at": "2024-03-02T10:00:00Z", "commit_id": "def456"}
    issue = slim_item(rest.issue(REPO, 1, body="long text"), "issue")
    assert "body" not in issue and issue["labels"] == [{"name": "bug"}]
    pull = slim_item(rest.pull(REPO, 2, body="Fixes #1"), "pull")
    assert pull["body"] == "Fixes #1" and pull["head"] == {"label": "partner:fix", "ref": "fix", "sha": "def456"}
    assert pull["merged_by"] == {"login": "p-partner", "type": "User"}


def write(tmp_path: Path, name: str, content: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def read(export: GitHubExport, path: Path) -> list[tuple[Any, str, bool]]:
    notes: list[tuple[Any, str, bool]] = []
    export.add_file(str(path), read_export(path, ("items",)), lambda *note: notes.append(note))
    return notes


def test_items_of_one_ticket_meet_across_files(tmp_path: Path) -> None:
    export = GitHubExport()
    old = rest.issue(REPO, 2, pull=True, updated="2024-03-01T12:00:00Z", state="open")
    assert read(export, write(tmp_path, "issues-old.json", [old, rest.issue(REPO, 1)])) == []
    assert read(export, write(tmp_path, "issues-new.json", [rest.issue(REPO, 2, pull=True)])) == []
    assert read(export, write(tmp_path, "pulls.json", [rest.pull(REPO, 2)])) == []
    assert read(export, write(tmp_path, "reviews.json", [[rest.review(REPO, 2, 71, "2024-03-02T09:00:00Z", "c-client")]])) == []
    events = [rest.event(REPO, 2, 51, "merged", "2024-03-02T10:00:00Z", "p-partner"),
              rest.event(REPO, 2, 52, "subscribed", "2024-03-02T10:00:00Z", "p-partner")]
    assert read(export, write(tmp_path, "events.json", events)) == []
    tickets = {t.key: t for t in export.take()}
    assert set(tickets) == {"acme/webshop#1", "acme/webshop#2"}
    pr = tickets["acme/webshop#2"]
    assert pr.issue["state"] == "closed"  # the newer copy, from the second file
    assert "pull_request" in pr.issue  # not the copy the events embed (no newer than the listing's)
    assert pr.pull["merged_by"]["login"] == "p-partner"
    assert [e["id"] for e in pr.events] == [51]  # "subscribed" is nobody's act
    assert [r["id"] for r in pr.reviews] == [71]
    assert export.file_names(pr.files) == [str(tmp_path / n) for n in
                                           ("issues-old.json", "issues-new.json", "pulls.json", "reviews.json", "events.json")]
    assert export.tickets == {}  # handed out and dropped


def test_an_event_listing_alone_gives_each_issue_from_its_embedded_copy(tmp_path: Path) -> None:
    export = GitHubExport()
    read(export, write(tmp_path, "events.json", [rest.event(REPO, 3, 51, "closed", "2024-03-02T10:00:00Z", "p-partner")]))
    [ticket] = export.take()
    assert ticket.issue["number"] == 3 and ticket.issue["title"] == "Checkout fails #3"


def test_timeline_events_take_the_ticket_their_page_names(tmp_path: Path) -> None:
    export = GitHubExport()
    commented = [rest.event(REPO, 4, 51, "labeled", "2024-03-02T10:00:00Z", "p-partner", embed=False,
                            label={"name": "bug"}),
                 rest.comment(REPO, 4, 61, "2024-03-02T11:00:00Z", "c-client", timeline=True)]
    silent = [rest.event(REPO, 5, 52, "closed", "2024-03-02T10:00:00Z", "p-partner", embed=False)]
    path = write(tmp_path, "timelines.json", [commented, silent])
    notes = read(export, path)
    assert notes == [("page 2 item 1", "is a timeline event (closed) whose page names no issue; left out", True)]
    [ticket] = export.take()
    assert ticket.key == "acme/webshop#4"
    assert [e["id"] for e in ticket.events] == [51] and [c["id"] for c in ticket.comments] == [61]


def test_items_that_cannot_be_tied_to_a_ticket_are_named(tmp_path: Path) -> None:
    export = GitHubExport()
    review = rest.review(REPO, 2, 71, "2024-03-02T09:00:00Z", "c-client")
    del review["pull_request_url"]
    items = [rest.issue(REPO, 1), review, {"id": 5, "tag_name": "v1.0"}]
    notes = read(export, write(tmp_path, "mixed.json", items))
    assert notes == [("item 2", "is a review that names no issue or pull request; left out", True),
                     (None, "1 release items left out (item 3): the import reads issues, pull requests, issue and "
                            "timeline events, comments and reviews", False)]


def test_a_file_of_something_else_is_refused_and_adds_nothing(tmp_path: Path) -> None:
    export = GitHubExport()
    path = write(tmp_path, "jira.json", {"issues": [{"key": "SHOP-1", "fields": {}}]})
    with pytest.raises(ExportError, match="the document is not a GitHub REST item"):
        read(export, path)
    late = write(tmp_path, "late.json", [rest.comment(REPO, 4, 61, "2024-03-02T11:00:00Z", "c-client"), '{"broken'])
    with pytest.raises(ExportError):
        export.add_file(str(late), (item for item in _then_fail(read_export(late, ("items",)))), lambda *n: None)
    assert export.tickets == {} and export.names == []


def _then_fail(items):
    yield from items
    raise ExportError("ends before its JSON does")
