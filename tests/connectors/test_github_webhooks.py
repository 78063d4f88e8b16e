"""github_webhooks: GitHub deliveries become the records a sync makes of the same acts."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import pytest

from connectors.errors import SkippableError
from connectors.github_activity import parse_repository_activity, split_activity
from connectors.github_parse import parse_issue
from connectors.github_webhooks import GITHUB_EVENTS, github_change
from connectors.records import Event
from connectors.webhooks import WebhookChange, same_act
from tests.connectors.payload_edits import set_path

DATA = Path(__file__).resolve().parent.parent / "data" / "github_webhooks"
SOURCE = "acme-github"
GUID = "5c1d9e00-0b6e-11ef-8a4c-1f2e3d4c5b6a"  # X-GitHub-Delivery
W = f"w:{GUID}"


def load(name: str) -> Any:
    """A delivery body (or REST listing) from tests/data/github_webhooks/, fresh each time."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def change(name: str, event: str | None = None) -> WebhookChange:
    return github_change(event or name.split(".")[0], load(name), SOURCE, delivery_id=GUID)


def rows(events: list[Event]) -> list[tuple[Any, ...]]:
    return [(e.external_id, e.kind, e.actor, e.at, e.field, e.from_value, e.to_value) for e in events]


CREATED_12 = ("created", "created", "github:c-lind", at("2024-05-02T08:00:00Z"), None, None, None)
CREATED_21 = ("created", "created", "github:p-berg", at("2024-05-04T09:00:00Z"), None, None, None)


@pytest.mark.parametrize(("name", "ticket", "events", "acts"), [
    pytest.param("issues.opened", ("acme/widgets#12", "open", "2024-05-02T08:00:00Z"), [CREATED_12], (), id="issues-opened"),
    pytest.param("issues.labeled", ("acme/widgets#12", "open", "2024-05-02T08:01:00Z"), [
        CREATED_12, (W, "label", "github:c-lind", at("2024-05-02T08:01:00Z"), None, None, "bug")], (W,), id="issues-labeled"),
    pytest.param("issues.unlabeled", ("acme/widgets#12", "open", "2024-05-03T12:00:00Z"), [
        CREATED_12, (W, "label", "github:p-berg", at("2024-05-03T12:00:00Z"), None, "bug", None)], (W,),
        id="issues-unlabeled"),
    pytest.param("issues.assigned", ("acme/widgets#12", "open", "2024-05-02T08:05:00Z"), [
        CREATED_12, (W, "assign", "github:c-lind", at("2024-05-02T08:05:00Z"), None, None, "github:p-berg")], (W,),
        id="issues-assigned-by-the-sender-to-the-assignee"),
    pytest.param("issues.unassigned", ("acme/widgets#12", "open", "2024-05-04T08:00:00Z"), [
        CREATED_12, (W, "assign", "github:c-lind", at("2024-05-04T08:00:00Z"), None, "github:p-berg", None)], (W,),
        id="issues-unassigned"),
    pytest.param("issues.edited", ("acme/widgets#12", "open", "2024-05-03T09:00:00Z"), [
        CREATED_12, (W, "field", "github:c-lind", at("2024-05-03T09:00:00Z"), "title", "Checkout total is wrong",
                     "Checkout total ignores the partner discount")], (W,), id="issues-edited-title"),
    pytest.param("issues.closed", ("acme/widgets#12", "closed", "2024-05-06T15:30:00Z"), [
        CREATED_12, (W, "transition", "github:p-berg", at("2024-05-06T15:30:00Z"), "state_reason:completed", "open",
                     "closed")], (W,), id="issues-closed-completed"),
    pytest.param("issues.reopened", ("acme/widgets#12", "open", "2024-05-07T10:00:00Z"), [
        CREATED_12, (W, "transition", "github:c-lind", at("2024-05-07T10:00:00Z"), "state_reason:reopened", "closed",
                     "open")], (W,), id="issues-reopened-at-updated-not-the-old-closed-at"),
    pytest.param("issue_comment.created", ("acme/widgets#12", "open", "2024-05-03T10:00:00Z"), [
        CREATED_12, ("c2150001001", "comment", "github:p-berg", at("2024-05-03T10:00:00Z"), None, None, None)], (),
        id="issue-comment-created"),
    pytest.param("pull_request.opened", ("acme/widgets#21", "open", "2024-05-04T09:00:00Z"), [CREATED_21], (),
                 id="pull-request-opened"),
    pytest.param("pull_request.labeled", ("acme/widgets#21", "open", "2024-05-05T15:00:00Z"), [
        CREATED_21, (W, "label", "github:p-berg", at("2024-05-05T15:00:00Z"), None, None, "qa-passed")], (W,),
        id="pull-request-labeled"),
    pytest.param("pull_request.closed_merged", ("acme/widgets#21", "merged", "2024-05-06T15:29:01Z"), [
        CREATED_21,
        (W, "transition", "github:c-lind", at("2024-05-06T15:29:00Z"), "state", "open", "closed"),
        ("merged", "merge", "github:c-lind", at("2024-05-06T15:29:00Z"), None, "open",
         "5e1f0c2a9b7d4e3f8a6c1b0d2e4f6a8c0b1d3e5f")], (W,), id="pull-request-merged-close-at-closed-at"),
    pytest.param("pull_request.closed_unmerged", ("acme/widgets#22", "closed", "2024-05-06T16:00:00Z"), [
        ("created", "created", "github:p-berg", at("2024-05-04T09:00:00Z"), None, None, None),
        (W, "transition", "github:c-lind", at("2024-05-06T16:00:00Z"), "state", "open", "closed")], (W,),
        id="pull-request-closed-unmerged"),
    pytest.param("pull_request_review.submitted", ("acme/widgets#21", "open", "2024-05-05T14:00:00Z"), [
        CREATED_21, ("r1850002001", "review", "github:c-lind", at("2024-05-05T14:00:00Z"), None, None, "APPROVED")], (),
        id="review-submitted"),
    pytest.param("pull_request_review.dismissed", ("acme/widgets#21", "open", "2024-05-05T16:00:00Z"), [
        CREATED_21, ("r1850002001", "review", "github:c-lind", at("2024-05-05T14:00:00Z"), None, None, "DISMISSED")], (),
        id="review-dismissed"),
    pytest.param("deployment.created", ("acme/widgets@d7701", "open", "2024-05-07T09:00:00Z"), [
        ("d7701", "deploy", "github:p-berg", at("2024-05-07T09:00:00Z"), "production", None, "v1.4.0")], (),
        id="deployment-created"),
    pytest.param("deployment_status.created", ("acme/widgets@d7701", "open", "2024-05-07T09:05:00Z"), [
        ("d7701", "deploy", "github:p-berg", at("2024-05-07T09:00:00Z"), "production", None, "v1.4.0"),
        ("ds7701@20240507T090500Z:success", "deploy", "github:p-berg", at("2024-05-07T09:05:00Z"), "production", "d7701",
         "success")], (), id="deployment-status-with-its-deployment"),
    pytest.param("release.published", ("acme/widgets@rel4401", "open", "2024-05-07T08:00:00Z"), [
        ("rel4401", "release", "github:p-berg", at("2024-05-07T08:00:00Z"), None, None, "v1.4.0")], (),
        id="release-published"),
])
def test_a_delivery_yields_its_ticket_and_acts(name: str, ticket: tuple[str, str, str], events: list[tuple[Any, ...]],
                                               acts: tuple[str, ...]) -> None:
    result = change(name)

    assert len(result.tickets) == 1
    parsed = result.tickets[0]
    t = parsed.ticket
    assert (t.source, t.key, t.external_id, t.status, t.updated) == (SOURCE, ticket[0], ticket[0], ticket[1], at(ticket[2]))
    assert rows(parsed.events) == events
    assert result.acts_without_ids == tuple((ticket[0], act) for act in acts)
    assert (result.scope, result.ignored, result.deleted, result.removed_events, result.events_only) == (
        "acme/widgets", None, (), (), ())
    assert parsed.incomplete == ()
    assert {e.actor for e in parsed.events} <= {a.ref for a in parsed.accounts}  # every actor is a known account


@pytest.mark.parametrize(("action", "extra", "act"), [
    pytest.param("reopened", {}, ("transition", "github:c-lind", "state", "closed", "open"), id="reopened"),
    pytest.param("assigned", {"assignee": {"login": "p-berg", "type": "User"}},
                 ("assign", "github:c-lind", None, None, "github:p-berg"), id="assigned"),
    pytest.param("unassigned", {"assignee": {"login": "p-berg", "type": "User"}},
                 ("assign", "github:c-lind", None, "github:p-berg", None), id="unassigned"),
    pytest.param("unlabeled", {"label": {"name": "qa-passed"}}, ("label", "github:c-lind", None, "qa-passed", None),
                 id="unlabeled"),
    pytest.param("edited", {"changes": {"title": {"from": "Discount at checkout"}}},
                 ("field", "github:c-lind", "title", "Discount at checkout", "Apply the partner discount at checkout"),
                 id="edited-title"),
])
def test_pull_request_actions_follow_the_issue_rules(action: str, extra: dict[str, Any], act: tuple[Any, ...]) -> None:
    body = {**load("pull_request.opened"), "action": action, "sender": {"login": "c-lind", "type": "User"}, **extra}
    body["pull_request"]["updated_at"] = "2024-05-05T09:30:00Z"

    result = github_change("pull_request", body, SOURCE, delivery_id=GUID)

    assert rows(result.tickets[0].events) == [CREATED_21, (W, act[0], act[1], at("2024-05-05T09:30:00Z"), *act[2:])]
    assert result.acts_without_ids == (("acme/widgets#21", W),)


@pytest.mark.parametrize(("action", "kept"), [
    pytest.param("created", True, id="created-published-at-once"),
    pytest.param("released", True, id="released"),
    pytest.param("prereleased", True, id="prereleased"),
    pytest.param("edited", False, id="edited"),
    pytest.param("unpublished", False, id="unpublished"),
    pytest.param("deleted", False, id="deleted"),
])
def test_every_release_action_that_means_published_yields_the_one_release(action: str, kept: bool) -> None:
    published = change("release.published")
    body = {**load("release.published"), "action": action}

    result = github_change("release", body, SOURCE, delivery_id=GUID)

    if kept:
        assert result == published  # the same rel<id>, so one release however many actions announce it
    else:
        assert result == WebhookChange([], scope="acme/widgets", ignored=f"GitHub release {action}: Partnerscope "
                                       "records a release once, when it is published")


def test_kinds_and_links_come_from_the_sync_parser() -> None:
    labeled = github_change("issues", load("issues.labeled"), SOURCE, delivery_id=GUID,
                            kind_of=lambda type_name, labels: "bug" if "bug" in labels else "other")
    pull = github_change("pull_request", load("pull_request.opened"), SOURCE, delivery_id=GUID, jira_projects={"PAY"})

    assert labeled.tickets[0].ticket.kind == "bug"
    assert (pull.tickets[0].ticket.kind, pull.tickets[0].links) == ("pull_request", ("acme/widgets#12", "PAY-7"))


def test_an_edit_without_a_new_title_is_a_copy_without_an_act() -> None:
    body = load("issues.edited")
    body["changes"] = {"body": {"from": "Discount code is not applied."}}

    result = github_change("issues", body, SOURCE, delivery_id=GUID)

    assert rows(result.tickets[0].events) == [CREATED_12]
    assert result.acts_without_ids == ()


def test_a_close_as_not_planned_keeps_its_reason() -> None:
    body = load("issues.closed")
    body["issue"]["state_reason"] = "not_planned"

    event = github_change("issues", body, SOURCE, delivery_id=GUID).tickets[0].events[-1]

    assert (event.external_id, event.field, event.to_value) == (W, "state_reason:not_planned", "closed")


def test_a_comment_on_a_pull_request_adds_the_comment_only() -> None:
    """The issue-shaped pull request has no branch: a copy of it would drop the PAY-7 link the sync keeps."""
    result = change("issue_comment.created_on_pull_request")

    assert result.tickets == []
    (only,) = result.events_only
    assert (only.source, only.external_id, only.key) == (SOURCE, "acme/widgets#21", "acme/widgets#21")
    assert rows(list(only.events)) == [("c2150001003", "comment", "github:c-lind", at("2024-05-05T13:00:00Z"), None, None, None)]
    assert [a.ref for a in only.accounts] == ["github:c-lind"]


@pytest.mark.parametrize(("name", "expected"), [
    pytest.param("issues.deleted", WebhookChange([], scope="acme/widgets", deleted=("acme/widgets#14",)), id="issue-deleted"),
    pytest.param("issue_comment.deleted", WebhookChange([], scope="acme/widgets",
                                                        removed_events=(("acme/widgets#12", "c2150001001"),)),
                 id="comment-deleted"),
])
def test_what_github_deleted(name: str, expected: WebhookChange) -> None:
    assert change(name) == expected


@pytest.mark.parametrize(("event", "name", "scope", "why"), [
    pytest.param("ping", "ping", "acme/widgets", "GitHub ping: the endpoint was tested (hook 482910357)", id="ping"),
    pytest.param("push", "push", "acme/widgets", "GitHub push deliveries carry nothing Partnerscope reads", id="push"),
    pytest.param("star", "ping", "acme/widgets", "GitHub star deliveries carry nothing Partnerscope reads", id="star"),
    pytest.param("issues", "issues.milestoned", "acme/widgets", "GitHub issues milestoned: Partnerscope records no act for it",
                 id="issues-milestoned"),
    pytest.param("pull_request", "pull_request.synchronize", "acme/widgets",
                 "GitHub pull_request synchronize: Partnerscope records no act for it", id="pull-request-synchronize"),
    pytest.param("issue_comment", "issue_comment.edited", "acme/widgets",
                 "GitHub issue_comment edited: an edited comment is no new act", id="comment-edited"),
    pytest.param("release", "release.created_draft", "acme/widgets", "GitHub release created: a draft is no release yet",
                 id="release-created-as-draft"),
])
def test_deliveries_that_carry_nothing_partnerscope_uses(event: str, name: str, scope: str, why: str) -> None:
    assert github_change(event, load(name), SOURCE, delivery_id=GUID) == WebhookChange([], scope=scope, ignored=why)


def test_an_unknown_event_is_ignored_whatever_its_body() -> None:
    assert github_change("workflow_run", b"\x00", SOURCE, delivery_id=None) == WebhookChange(
        [], ignored="GitHub workflow_run deliveries carry nothing Partnerscope reads")
    assert github_change("ping", [], SOURCE, delivery_id=None).ignored == "GitHub ping: the endpoint was tested (hook None)"
    assert GITHUB_EVENTS == {"ping", "issues", "issue_comment", "pull_request", "pull_request_review", "deployment",
                             "deployment_status", "release"}


@pytest.mark.parametrize(("name", "edit", "delivery_id", "message"), [
    pytest.param("issues.closed", lambda body: body.clear(), GUID, "GitHub issues delivery has no action", id="empty-body"),
    pytest.param("issues.closed", set_path("action", 7), GUID, "GitHub issues delivery has no action", id="action-not-text"),
    pytest.param("issues.closed", set_path("repository", KeyError), GUID,
                 "GitHub issues closed delivery names no repository (repository.full_name)", id="no-repository"),
    pytest.param("issues.closed", set_path("issue", None), GUID, "GitHub issues closed delivery: has no 'issue' object",
                 id="no-issue"),
    pytest.param("issues.closed", set_path("issue.closed_at", None), GUID,
                 "GitHub issues closed delivery: has no closed_at, the time of the act", id="close-without-time"),
    pytest.param("issues.labeled", set_path("label", KeyError), GUID, "GitHub issues labeled delivery: has no 'label' object",
                 id="labeled-without-label"),
    pytest.param("issues.labeled", lambda body: None, "", "GitHub issues labeled delivery: has no delivery id "
                 "(X-GitHub-Delivery) to name its act by", id="act-without-delivery-id"),
    pytest.param("issues.edited", set_path("changes.title", {"to": "x"}), GUID,
                 "GitHub issues edited delivery: has 'changes.title' without the former title ('from')",
                 id="title-change-without-from"),
    pytest.param("issues.deleted", set_path("issue.number", "14"), GUID,
                 "GitHub issues deleted delivery: has an issue without a number", id="deleted-issue-without-number"),
    pytest.param("issues.opened", set_path("issue.created_at", "yesterday"), GUID,
                 "GitHub issues opened delivery: created_at 'yesterday' is not an ISO 8601 time", id="bad-time"),
    pytest.param("issue_comment.deleted", set_path("comment.id", None), GUID,
                 "GitHub issue_comment deleted delivery: has a comment without an id", id="comment-without-id"),
    pytest.param("pull_request_review.submitted", set_path("review", "approved"), GUID,
                 "GitHub pull_request_review submitted delivery: has no 'review' object", id="review-not-an-object"),
    pytest.param("deployment_status.created", set_path("deployment.id", None), GUID,
                 "GitHub deployment_status created delivery: has a deployment without an id", id="deployment-without-id"),
    pytest.param("release.published", set_path("release.published_at", "soon"), GUID,
                 "GitHub release published delivery: release 4401 time 'soon' is not an ISO 8601 time",
                 id="release-bad-time"),
])
def test_malformed_deliveries_are_refused_with_a_sentence(name: str, edit: Callable[[dict[str, Any]], None],
                                                         delivery_id: str, message: str) -> None:
    body = load(name)
    edit(body)

    with pytest.raises(SkippableError) as refused:
        github_change(name.split(".")[0], body, SOURCE, delivery_id=delivery_id)

    assert str(refused.value) == message


def test_a_body_that_is_no_object_is_refused() -> None:
    with pytest.raises(SkippableError, match="^GitHub issues delivery is not a JSON object$"):
        github_change("issues", ["not", "an", "object"], SOURCE, delivery_id=GUID)


# -- the same acts as a sync ---------------------------------------------------------------------

SYNC_IDS = {"issues.labeled": "e9101", "issues.assigned": "e9102", "issues.edited": "e9103", "issues.unlabeled": "e9104",
            "issues.unassigned": "e9105", "issues.closed": "e9106", "issues.reopened": "e9107"}


def sync_copy(number: int, **history: Any) -> list[Event]:
    """What a sync makes of issue `number` from the REST issues listing and its events."""
    raw = load("issues.reopened")["issue"] if number == 12 else load("issue_comment.created_on_pull_request")["issue"]
    return parse_issue(raw, SOURCE, repo="acme/widgets", events=load(f"rest_issue_events_{number}"), **history).events


@pytest.mark.parametrize("name", [pytest.param(name, id=name) for name in SYNC_IDS])
def test_a_webhook_act_is_the_sync_act_but_for_its_id(name: str) -> None:
    (webhook,) = [e for e in change(name).tickets[0].events if e.external_id == W]
    synced = {e.external_id: e for e in sync_copy(12)}[SYNC_IDS[name]]

    assert replace(webhook, external_id=synced.external_id) == synced
    assert same_act(webhook, synced)
    assert [e.external_id for e in sync_copy(12) if e.external_id != "created" and same_act(webhook, e)] == [SYNC_IDS[name]]


def test_merged_pull_request_close_and_merge_are_the_syncs() -> None:
    delivered = {e.external_id: e for e in change("pull_request.closed_merged").tickets[0].events}
    synced = {e.external_id: e for e in sync_copy(21)}

    assert delivered["merged"] == synced["merged"]  # one merge, one id, whoever reported it
    assert same_act(delivered[W], synced["e9203"])
    assert not same_act(delivered[W], synced["e9201"])


@pytest.mark.parametrize(("edit", "expected"), [
    pytest.param(lambda body: None, True, id="as-delivered"),
    pytest.param(set_path("sender", {"login": "p-berg", "type": "User"}), False, id="other-actor"),
    pytest.param(set_path("label.name", "qa-passed"), False, id="other-label"),
    pytest.param(set_path("issue.updated_at", "2024-05-02T08:04:00Z"), False, id="three-minutes-later"),
    pytest.param(set_path("issue.updated_at", "2024-05-02T07:59:30Z"), True, id="ninety-seconds-earlier"),
])
def test_same_act_between_a_delivery_and_a_sync(edit: Callable[[dict[str, Any]], None], expected: bool) -> None:
    """c-lind labeled #12 "bug" at 08:01 (REST event 9101); the delivery, edited, is that act or another."""
    body = load("issues.labeled")
    edit(body)
    (webhook,) = [e for e in github_change("issues", body, SOURCE, delivery_id=GUID).tickets[0].events
                  if e.external_id == W]

    assert same_act(webhook, {e.external_id: e for e in sync_copy(12)}["e9101"]) is expected


def test_deployments_and_releases_are_the_syncs() -> None:
    status = change("deployment_status.created")
    release = change("release.published")
    deployment = load("deployment_status.created")["deployment"]
    synced = split_activity(parse_repository_activity(
        load("deployment.created")["repository"], SOURCE, deployments=[deployment],
        statuses={"7701": [load("deployment_status.created")["deployment_status"]]},
        releases=[load("release.published")["release"]]))

    by_key = {t.ticket.key: t for t in synced}
    assert status.tickets[0].events == by_key["acme/widgets@d7701"].events
    assert status.tickets[0].ticket == by_key["acme/widgets@d7701"].ticket
    assert release.tickets[0].ticket == by_key["acme/widgets@rel4401"].ticket
    assert release.tickets[0].events == by_key["acme/widgets@rel4401"].events


def test_every_time_is_aware_utc() -> None:
    for name in SYNC_IDS:
        for event in change(name).tickets[0].events:
            assert event.at.utcoffset() == timedelta(0)
