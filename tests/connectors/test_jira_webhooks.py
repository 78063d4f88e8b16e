"""jira_webhooks: Jira deliveries become the records the search makes of the same change."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest

from connectors.errors import SkippableError
from connectors.jira_context import JiraContext, JiraUsers
from connectors.jira_parse import parse_issue
from connectors.jira_webhooks import JIRA_EVENTS, jira_change
from connectors.records import Account, Event
from connectors.webhooks import TicketEvents, WebhookChange
from tests.connectors.payload_edits import set_path

DATA = Path(__file__).resolve().parent.parent / "data" / "jira_webhooks"
SOURCE = "acme-jira"
ANA, PER, DANA = "jira:712020:client-ana", "jira:5d7a0c21partnerdev", "jira:5f00formerdev"


def load(name: str) -> Any:
    """A delivery body (or search response) from tests/data/jira_webhooks/, fresh each time."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def rows(events: list[Event] | tuple[Event, ...]) -> list[tuple[Any, ...]]:
    return [(e.external_id, e.kind, e.actor, e.at, e.field, e.from_value, e.to_value) for e in events]


CREATED = ("created", "created", ANA, utc(2024, 3, 4, 10, 15, 30), None, None, None)
C30001 = ("c30001", "comment", PER, utc(2024, 3, 5, 7, 30), None, None, None)
C30002 = ("c30002", "comment", ANA, utc(2024, 3, 5, 12, 0), None, None, None)


@pytest.mark.parametrize(("name", "ticket", "events"), [
    pytest.param("issue_created", ("10101", "ACME-101", "Open", utc(2024, 3, 4, 10, 15, 30)), [CREATED], id="issue-created"),
    pytest.param("issue_updated", ("10101", "ACME-101", "In QA", utc(2024, 3, 6, 9, 0)), [
        CREATED, C30001, C30002,
        ("h20004.0", "transition", ANA, utc(2024, 3, 6, 9, 0), None, "In Progress", "In QA"),
        ("h20004.1", "assign", ANA, utc(2024, 3, 6, 9, 0), None, DANA, PER),
        ("h20004.2", "field", ANA, utc(2024, 3, 6, 9, 0), "Rank", None, "Ranked higher"),
    ], id="issue-updated-changelog-by-the-user-at-the-timestamp"),
    pytest.param("issue_updated_commented", ("10101", "ACME-101", "In Progress", utc(2024, 3, 5, 12, 0)), [
        CREATED, C30002], id="issue-updated-with-a-new-comment"),
    pytest.param("server_issue_updated", ("20020", "NRD-20", "Closed", utc(2024, 3, 6, 12, 0)), [
        ("created", "created", "jira:k.olsen", utc(2024, 3, 1, 8, 0), None, None, None),
        ("h10500.0", "assign", "jira:c.lind", utc(2024, 3, 6, 12, 0), None, "jira:k.olsen", "jira:c.lind"),
        ("h10500.1", "field", "jira:c.lind", utc(2024, 3, 6, 12, 0), "resolution", None, "Won't Fix"),
        ("h10500.2", "transition", "jira:c.lind", utc(2024, 3, 6, 12, 0), None, "Open", "Closed"),
    ], id="server-user-key-read-as-its-user"),
])
def test_an_issue_delivery_yields_its_copy(name: str, ticket: tuple[str, str, str, datetime],
                                           events: list[tuple[Any, ...]]) -> None:
    result = jira_change(load(name), SOURCE)

    (copy,) = result.tickets
    t = copy.ticket
    assert (t.source, t.external_id, t.key, t.status, t.updated) == (SOURCE, *ticket)
    assert rows(copy.events) == events
    assert copy.incomplete == ()  # a delta never claims to be the whole history, nor to miss part of it
    assert (result.scope, result.ignored, result.deleted, result.removed_events, result.events_only,
            result.acts_without_ids) == (t.project, None, (), (), (), ())
    assert {e.actor for e in copy.events} <= {a.ref for a in copy.accounts}


def test_an_update_makes_the_events_the_search_makes_of_the_same_change() -> None:
    """The delivery's changelog {id, items}, its user and timestamp are history 20004 of the search."""
    delivered = jira_change(load("issue_updated"), SOURCE).tickets[0]
    searched = parse_issue(load("search_after_update")["issues"][0], SOURCE)

    by_id = {e.external_id: e for e in searched.events}
    assert [e.external_id for e in delivered.events if e.external_id.startswith("h")] == ["h20004.0", "h20004.1", "h20004.2"]
    assert [e for e in delivered.events] == [by_id[e.external_id] for e in delivered.events]
    assert delivered.ticket == searched.ticket
    searched_accounts = {a.external_id: a for a in searched.accounts}
    assert all(searched_accounts[a.external_id] == a for a in delivered.accounts)


def test_the_change_is_timed_by_the_delivery_timestamp_to_the_millisecond() -> None:
    body = load("issue_updated")
    body["timestamp"] += 7  # Jira raised the event 7 ms after it stamped the issue
    body["issue"]["fields"]["updated"] = "2024-03-06T10:00:00.000+0100"

    changes = [e.at for e in jira_change(body, SOURCE).tickets[0].events if e.external_id.startswith("h")]

    assert changes == [utc(2024, 3, 6, 9, 0, 0, 7000)] * 3


@pytest.mark.parametrize("edit", [
    pytest.param(set_path("issue.fields.comment", KeyError), id="issue-without-its-comment-field"),
    pytest.param(set_path("issue.fields.comment.total", 40), id="comment-page-of-a-longer-list"),
])
def test_a_copy_never_flags_the_history_it_does_not_carry(edit: Callable[[dict[str, Any]], None]) -> None:
    """The store writes a newer copy's `incomplete` over the stored one: a delivery's copy must not mark a
    synced ticket as missing its changelog or comments (the search would have said so itself)."""
    body = load("issue_updated")
    edit(body)

    copy = jira_change(body, SOURCE).tickets[0]

    assert copy.incomplete == ()
    assert [e.external_id for e in copy.events if e.external_id.startswith("h")] == ["h20004.0", "h20004.1", "h20004.2"]


def test_a_comment_event_on_a_partly_described_issue_adds_only_the_comment() -> None:
    """Jira's comment events give the issue without created, updated, reporter or labels: no copy to upsert."""
    result = jira_change(load("comment_created"), SOURCE, base_url="https://acme.atlassian.net")

    assert result.tickets == []
    assert result.scope == "ACME"
    assert result.events_only == (TicketEvents(
        SOURCE, "10101", "ACME-101",
        (Account("jira", "5d7a0c21partnerdev", "Per Partner", "per@nordlys.example"),),
        (Event("c30003", "comment", utc(2024, 3, 6, 10, 30), PER),),
    ),)


def test_a_comment_event_on_a_fully_described_issue_is_a_copy() -> None:
    body = load("comment_created")
    body["issue"] = load("issue_updated")["issue"]

    result = jira_change(body, SOURCE)

    assert result.events_only == ()
    assert rows(result.tickets[0].events) == [
        CREATED, C30001, C30002, ("c30003", "comment", PER, utc(2024, 3, 6, 10, 30), None, None, None)]


def test_a_comment_the_issue_already_lists_is_counted_once() -> None:
    body = load("issue_updated_commented")
    body["issue"]["fields"]["comment"] = {"comments": [body["comment"]], "total": 1}

    assert [e.external_id for e in jira_change(body, SOURCE).tickets[0].events] == ["created", "c30002"]


def test_a_comment_deleted_by_an_update_is_removed_not_added() -> None:
    result = jira_change(load("issue_updated_comment_deleted"), SOURCE)

    assert result.removed_events == (("10101", "c30002"),)
    assert rows(result.tickets[0].events) == [CREATED, C30001]


@pytest.mark.parametrize(("name", "expected"), [
    pytest.param("issue_deleted", WebhookChange([], scope="ACME", deleted=("10101",)), id="issue-deleted"),
    pytest.param("comment_deleted", WebhookChange([], scope="ACME", removed_events=(("10101", "c30003"),)),
                 id="comment-deleted"),
    pytest.param("comment_updated", WebhookChange([], scope="ACME",
                                                  ignored="Jira comment_updated: an edited comment is no new act"),
                 id="comment-updated-changes-no-act"),
    pytest.param("sprint_started", WebhookChange([], ignored="Jira sprint_started deliveries carry nothing Partnerscope reads"),
                 id="other-event"),
])
def test_deletions_and_deliveries_without_acts(name: str, expected: WebhookChange) -> None:
    assert jira_change(load(name), SOURCE) == expected


def test_the_events_partnerscope_reads() -> None:
    assert JIRA_EVENTS == {"jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created",
                           "comment_updated", "comment_deleted"}


def test_the_runs_context_resolves_user_keys_and_learns_from_the_delivery() -> None:
    """The service passes the sync's context: a Server key only an earlier issue explained still resolves."""
    body = load("server_issue_updated")
    body["issue"]["fields"]["reporter"] = body["issue"]["fields"]["creator"] = None  # k.olsen appears nowhere now
    context = JiraContext(users=JiraUsers([("key", "JIRAUSER10101", "k.olsen")], cloud=False))

    copy = jira_change(body, SOURCE, context=context, base_url="https://jira.nordlys.example/").tickets[0]

    assert copy.events[1].from_value == "jira:k.olsen"
    assert copy.ticket.url == "https://jira.nordlys.example/browse/NRD-20"
    assert context.users.new[("key", "c.lind")] == "c.lind"  # to store with the delivery, as a sync page does


@pytest.mark.parametrize(("name", "edit", "message"), [
    pytest.param("issue_updated", set_path("issue", KeyError), "Jira jira:issue_updated delivery: has no issue object",
                 id="no-issue"),
    pytest.param("issue_updated", set_path("issue.fields", None), "Jira jira:issue_updated delivery: has an issue without fields",
                 id="no-fields"),
    pytest.param("issue_updated", set_path("changelog.id", None),
                 "Jira jira:issue_updated delivery: has a changelog without an id and a list of items", id="changelog-without-id"),
    pytest.param("issue_updated", set_path("changelog.items", {"field": "status"}),
                 "Jira jira:issue_updated delivery: has a changelog without an id and a list of items",
                 id="changelog-items-not-a-list"),
    pytest.param("issue_updated", set_path("timestamp", "yesterday"),
                 "Jira jira:issue_updated delivery: has no timestamp, the time of its change", id="no-timestamp"),
    pytest.param("issue_updated", set_path("issue.fields.updated", "2024-03-01T00:00:00.000+0000"),
                 "Jira jira:issue_updated delivery: issue ACME-101 was updated (2024-03-01 00:00 UTC) before it was "
                 "created (2024-03-04 10:15 UTC)", id="updated-before-created"),
    pytest.param("issue_created", set_path("issue.fields.created", None),
                 "Jira jira:issue_created delivery: issue ACME-101 created is None, not a time", id="no-created"),
    pytest.param("issue_updated_commented", set_path("comment", "nice"),
                 "Jira jira:issue_updated delivery: has a comment that is not an object", id="comment-not-an-object"),
    pytest.param("issue_deleted", set_path("issue.id", "ACME-101"),
                 "Jira jira:issue_deleted delivery: has an issue without a Jira issue id (a whole number)",
                 id="deleted-issue-without-id"),
    pytest.param("comment_created", set_path("comment", KeyError), "Jira comment_created delivery: has no comment object",
                 id="comment-event-without-comment"),
    pytest.param("comment_created", set_path("comment.created", None),
                 "Jira comment_created delivery: has comment 30003 without its created time", id="comment-without-time"),
    pytest.param("comment_deleted", set_path("comment.id", ""), "Jira comment_deleted delivery: has a comment without an id",
                 id="deleted-comment-without-id"),
    pytest.param("comment_created", set_path("issue.key", None), "Jira comment_created delivery: has an issue without a key",
                 id="comment-on-issue-without-key"),
])
def test_malformed_deliveries_are_refused_with_a_sentence(name: str, edit: Callable[[dict[str, Any]], None],
                                                         message: str) -> None:
    body = load(name)
    edit(body)

    with pytest.raises(SkippableError) as refused:
        jira_change(body, SOURCE)

    assert str(refused.value) == message


@pytest.mark.parametrize("payload", [pytest.param([], id="array"), pytest.param("{}", id="text"),
                                     pytest.param(None, id="null")])
def test_a_body_that_is_no_object_is_refused(payload: object) -> None:
    with pytest.raises(SkippableError, match="^Jira delivery is not a JSON object$"):
        jira_change(payload, SOURCE)
