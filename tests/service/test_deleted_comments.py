"""A comment the tracker deleted stays deleted, whatever order the deliveries come in and whatever
copy of its ticket still lists it: its `comment_created`, a late `jira:issue_updated`, a search
page read before the deletion.

Deliveries are the Jira fixtures in Atlassian's documented shapes (tests/data/jira_webhooks),
edited with tests/connectors/payload_edits.py and sent signed through the webhook endpoint.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from service.config import parse_config
from service.jobs.ingest import import_files
from service.store.deliveries import requeue
from service.store.models import Attribution, Event, RemovedEvent, SignalDay, WebhookDelivery
from service.web import create_app
from tests.connectors.payload_edits import set_path
from tests.service.test_webhooks import JIRA_SECRET, drain, fixture, jira, rows

SOURCE = "acme-jira"


@pytest.fixture
def hooks_app(db_url: str, engine: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A Jira source whose people are affiliated: Ana reports for the client, Per answers for the partner."""
    monkeypatch.setenv("JIRA_HOOK_SECRET", JIRA_SECRET)
    config = parse_config({
        "database": {"url": db_url},
        "organisations": [{"name": "Acme", "side": "client", "accounts": ["jira:712020:client-ana"]},
                          {"name": "Nordlys", "side": "partner", "domains": ["nordlys.example"]}],
        "sources": [{"name": SOURCE, "kind": "jira", "url": "https://acme.atlassian.net", "email": "bot@acme.example",
                     "token_env": "JIRA_TOKEN", "webhook_secret_env": "JIRA_HOOK_SECRET", "jql": "project = ACME"}],
    }, Path("hooks.toml"))
    app = create_app(config, engine=engine)
    app.config.update(TESTING=True)
    return app


def edited(name: str, *edits: Callable[[dict[str, Any]], None]) -> bytes:
    body = json.loads(fixture("jira", name))
    for edit in edits:
        edit(body)
    return json.dumps(body).encode()


def send(app: Any, batches: list[list[str]]) -> None:
    """Each batch's deliveries (fixture names, each its own delivery id), then apply them together."""
    client = app.test_client()
    for batch in batches:
        for name in batch:
            assert jira(client, fixture("jira", name), delivery=f"j-{name}").status_code == 202
        drain(app)


def comments(sessions: Any) -> list[str]:
    return sorted(r.external_id for r in rows(sessions, Event.external_id, where=Event.kind == "comment"))


def counted(sessions: Any) -> dict[str, Any]:
    """What the reports count of the conversation: the comment events and the signal facts comments
    make (or, missing, leave at zero), read back one by one from the daily sums (each of these
    facts succeeds or not: `k` of its `c` facts count 1). On a bug no attribution rests on a comment (comments specify
    only scope tickets that reached development), so the facts are where a comment counts."""
    return {
        "comments": comments(sessions),
        "facts": sorted(fact for r in rows(sessions, SignalDay.measure, SignalDay.k, SignalDay.c,
                                           where=SignalDay.measure.in_(("comment", "reply", "first_response")))
                        for fact in [(r.measure, 1)] * r.k + [(r.measure, 0)] * (r.c - r.k)),
    }


NOT_COUNTED = {"comments": [], "facts": [("first_response", 0)]}  # the partner never answered
ONLY_PERS = {"comments": ["c30001"], "facts": [("comment", 0), ("first_response", 1), ("reply", 0)]}  # no answer to it


@pytest.mark.parametrize(("batches", "expected"), [
    pytest.param([["issue_created"], ["comment_created"]],
                 {"comments": ["c30003"], "facts": [("comment", 0), ("first_response", 1), ("reply", 0)]},
                 id="never-deleted-it-counts"),
    pytest.param([["issue_created"], ["comment_deleted"], ["comment_created"]], NOT_COUNTED, id="in-separate-batches"),
    pytest.param([["comment_deleted"], ["issue_created"], ["comment_created"]], NOT_COUNTED,
                 id="before-its-ticket-is-stored"),
    pytest.param([["issue_created", "comment_deleted", "comment_created"]], NOT_COUNTED, id="in-one-batch"),
    pytest.param([["comment_deleted"], ["issue_created", "comment_created"]], NOT_COUNTED,
                 id="before-the-batch-that-stores-its-ticket"),
])
def test_a_comment_deleted_before_its_creation_is_applied_is_neither_stored_nor_counted(
        hooks_app: Any, sessions: Any, batches: list[list[str]], expected: dict[str, Any]) -> None:
    send(hooks_app, batches)

    assert counted(sessions) == expected
    assert set(dict(rows(sessions, WebhookDelivery.delivery_id, WebhookDelivery.state)).values()) == {"applied"}


COMMENTED = json.loads(fixture("jira", "issue_updated_commented"))  # adds comment 30002, by Ana


@pytest.mark.parametrize("deletion", [
    pytest.param(edited("comment_deleted", set_path("comment", COMMENTED["comment"])), id="comment_deleted"),
    pytest.param(fixture("jira", "issue_updated_comment_deleted"), id="jira:issue_updated-comment-deleted"),
])
def test_a_deleted_comment_does_not_come_back_with_a_copy_that_still_lists_it(
        hooks_app: Any, sessions: Any, tmp_path: Path, deletion: bytes) -> None:
    client = hooks_app.test_client()
    send(hooks_app, [["issue_created"]])
    jira(client, deletion, delivery="j-deleted")
    drain(hooks_app)
    assert rows(sessions, RemovedEvent.source, RemovedEvent.ticket_external_id, RemovedEvent.event_external_id) == [
        (SOURCE, "10101", "c30002")]

    send(hooks_app, [["issue_updated_commented"]])  # the update that added it, delivered late
    assert "c30002" not in comments(sessions)
    # A search page read before the deletion: it still lists 30002, and 30001 the store lacked.
    (tmp_path / "search.json").write_bytes(fixture("jira", "search_after_update"))
    import_files(hooks_app.extensions["partnerscope"]["sessions"], hooks_app.extensions["partnerscope"]["config"],
                 [tmp_path / "search.json"], SOURCE)
    assert counted(sessions) == ONLY_PERS


def test_a_page_that_first_stores_the_ticket_leaves_out_the_comment_deleted_before(
        hooks_app: Any, sessions: Any, tmp_path: Path) -> None:
    client = hooks_app.test_client()
    jira(client, edited("comment_deleted", set_path("comment", COMMENTED["comment"])), delivery="j-deleted")
    drain(hooks_app)
    assert comments(sessions) == []  # no ticket yet: only the tombstone

    (tmp_path / "search.json").write_bytes(fixture("jira", "search_after_update"))  # lists 30001 (Per) and 30002
    import_files(hooks_app.extensions["partnerscope"]["sessions"], hooks_app.extensions["partnerscope"]["config"],
                 [tmp_path / "search.json"], SOURCE)

    # A new ticket is attributed from the page in hand: Ana's deleted comment is no answer to Per's.
    assert counted(sessions) == ONLY_PERS


def test_a_deletion_applied_again_changes_nothing(hooks_app: Any, sessions: Any) -> None:
    send(hooks_app, [["issue_created"], ["comment_created"], ["comment_deleted"]])

    def state() -> tuple[Any, ...]:
        return (counted(sessions), rows(sessions, RemovedEvent.event_external_id, RemovedEvent.removed_at),
                sorted(rows(sessions, Attribution.role, Attribution.event_external_id, Attribution.explanation)))

    before = state()
    assert before[0] == NOT_COUNTED and len(before[1]) == 1
    client = hooks_app.test_client()
    assert jira(client, fixture("jira", "comment_deleted"), delivery="j-comment_deleted").status_code == 202
    assert drain(hooks_app) == 0  # a redelivery is recognised by its id and not applied again
    with hooks_app.extensions["partnerscope"]["sessions"].begin() as session:  # `deliveries replay`
        assert requeue(session, ["j-comment_deleted"]) == ["j-comment_deleted"]
    assert drain(hooks_app) == 1
    jira(client, fixture("jira", "comment_deleted"), delivery="j-sent-again")  # a copy under another id
    assert drain(hooks_app) == 1

    assert state() == before
    assert set(dict(rows(sessions, WebhookDelivery.delivery_id, WebhookDelivery.state)).values()) == {"applied"}
