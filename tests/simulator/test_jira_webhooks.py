"""The scenario told as Jira webhook deliveries: what they add up to is the issue an import reads,
each copy shows the issue as it stood, and the replay mixes in redeliveries and swapped updates."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from connectors.jira_context import JiraContext
from connectors.jira_parse import parse_issue
from connectors.jira_webhooks import jira_change
from simulator.jira_hook_replay import CHANGELOG_UPDATES, Replay, replay

SITE = "https://acme.atlassian.net"


@pytest.fixture(scope="module")
def small() -> Replay:
    return replay(1500)


def test_the_replay_has_exactly_the_sendings_asked_for_and_is_deterministic(small: Replay) -> None:
    again = replay(1500)
    assert len(small.sendings) == 1500
    assert [(s.identifier, s.delivery.body) for s in again.sendings] == [(s.identifier, s.delivery.body) for s in small.sendings]
    assert small.redeliveries >= 45 and small.out_of_order == 30 and small.deleted_comments > 0


def test_too_few_deliveries_for_one_issue_are_refused() -> None:
    with pytest.raises(ValueError, match="too few to tell one issue's whole life"):
        replay(3)


def test_a_redelivery_repeats_its_original_after_it(small: Replay) -> None:
    firsts = {}
    for position, sending in enumerate(small.sendings):
        if sending.retry == 0:
            assert sending.identifier not in firsts  # one first sending per identifier
            firsts[sending.identifier] = (position, sending.delivery.body)
    again = [(p, s) for p, s in enumerate(small.sendings) if s.retry]
    assert len(again) == small.redeliveries
    for position, sending in again:
        original, body = firsts[sending.identifier]
        assert original < position and body == sending.delivery.body


def test_swapped_updates_arrive_later_change_first(small: Replay) -> None:
    seen: dict[str, int] = {}
    late = 0
    for sending in small.sendings:
        delivery = sending.delivery
        if delivery.event in CHANGELOG_UPDATES and sending.retry == 0:
            late += delivery.at < seen.get(delivery.key, 0)
            seen[delivery.key] = max(seen.get(delivery.key, 0), delivery.at)
    assert late == small.out_of_order


def _applied(small: Replay) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Each issue's newest copy and its events, as the deliveries tell them: the newest copy wins, and
    a redelivery is applied no second time (so one arriving after its comment's deletion adds nothing)."""
    context = JiraContext()
    newest: dict[str, Any] = {}
    events: dict[str, dict[str, Any]] = {}
    ids = {issue["id"]: issue["key"] for issue in small.issues}
    for sending in (s for s in small.sendings if s.retry == 0):
        change = jira_change(json.loads(sending.delivery.body), "s", base_url=SITE, context=context)
        for copy in change.tickets:
            key = copy.ticket.key
            events.setdefault(key, {}).update((e.external_id, e) for e in copy.events)
            if key not in newest or copy.ticket.updated > newest[key].updated:
                newest[key] = copy.ticket
        for told in change.events_only:
            events.setdefault(told.key, {}).update((e.external_id, e) for e in told.events)
        for ticket_id, event_id in change.removed_events:
            events[ids[ticket_id]].pop(event_id, None)
    return newest, events


def test_the_deliveries_add_up_to_the_issue_an_import_reads(small: Replay) -> None:
    newest, events = _applied(small)
    for issue in small.issues:
        imported = parse_issue(issue, "s", context=JiraContext())
        assert newest[issue["key"]] == imported.ticket, issue["key"]
        assert events[issue["key"]] == {e.external_id: e for e in imported.events}, issue["key"]


def test_each_update_shows_the_issue_with_its_own_change(small: Replay) -> None:
    """The fields a changelog update names stand at its new values, unless a change of the same
    second moved them on (a copy shows the issue at the end of its second)."""
    checked = Counter()
    by_second = Counter((s.delivery.key, s.delivery.at) for s in small.sendings
                        if s.delivery.event in CHANGELOG_UPDATES and s.retry == 0)
    for sending in small.sendings:
        delivery = sending.delivery
        if delivery.event not in CHANGELOG_UPDATES or by_second[(delivery.key, delivery.at)] > 1:
            continue
        body = json.loads(delivery.body)
        fields = body["issue"]["fields"]
        assert body["timestamp"] == delivery.at * 1000 and "comment" not in fields
        for item in body["changelog"]["items"]:
            shown = {"status": lambda: fields["status"]["name"], "summary": lambda: fields["summary"],
                     "priority": lambda: fields["priority"]["name"], "labels": lambda: " ".join(fields["labels"]),
                     "assignee": lambda: (fields["assignee"] or {}).get("accountId")}.get(item["field"])
            if shown is not None:
                wanted = item["to"] if item["field"] == "assignee" else item["toString"]
                assert shown() == wanted, (delivery.key, item)
                checked[item["field"]] += 1
    assert set(checked) >= {"status", "assignee", "labels"}


def test_comment_events_tell_the_issue_partly_as_cloud_does(small: Replay) -> None:
    comment_events = [json.loads(s.delivery.body) for s in small.sendings if s.delivery.event.startswith("comment_")]
    assert {body["webhookEvent"] for body in comment_events} == {"comment_created", "comment_updated", "comment_deleted"}
    for body in comment_events:
        assert set(body["issue"]["fields"]) == {"summary", "issuetype", "project", "assignee", "priority", "status"}
        assert body["comment"]["id"]
