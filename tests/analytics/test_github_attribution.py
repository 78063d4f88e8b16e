from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from analytics.attribution import ROLES, Attribution, RuleSettings, attribute, attribute_linked, split_event_id
from analytics.github_rules import is_github, linked_event_id
from analytics.phases import PhaseMap
from connectors.github_activity import parse_repository_activity
from connectors.github_parse import parse_issue
from connectors.records import Event, Ticket

START = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)

ANNA, DAG, EVA, OLA, REP = "github:anna", "github:dag", "github:eva", "github:ola", "github:rep"
NAMES = {ANNA: "Anna Berg", DAG: "Dag Lund", EVA: "Eva Holm", OLA: "Ola Nordmann", REP: "Rita Rep"}


def day(n: int, minute: int = 0) -> datetime:
    return START + timedelta(days=n, minutes=minute)


def issue(kind: str = "bug", reporter: str | None = REP, assignee: str | None = None, number: int = 7,
          status: str = "closed") -> Ticket:
    key = f"acme/shop#{number}"
    return Ticket(source="acme-github", external_id=key, key=key, project="acme/shop", type_name="Issue", kind=kind,
                  title="Checkout fails", status=status, created=START, updated=day(30), reporter=reporter,
                  assignee=assignee)


def pull(number: int = 12, reporter: str | None = OLA, created: datetime = START, kind: str = "pull_request") -> Ticket:
    key = f"acme/shop#{number}"
    return Ticket(source="acme-github", external_id=key, key=key, project="acme/shop", type_name="Pull request",
                  kind=kind, title="Fix checkout", status="merged", created=created, updated=day(30), reporter=reporter)


ACTIVITY = Ticket(source="acme-github", external_id="acme/shop@deployments", key="acme/shop@deployments",
                  project="acme/shop", type_name="Deployment", kind="deployment", title="Deployments and releases",
                  status="open", created=START, updated=day(30))


def created(actor: str | None = REP) -> Event:
    return Event("created", "created", START, actor)


def label(eid: str, n: int, actor: str | None, name: str, removed: bool = False) -> Event:
    return Event(eid, "label", day(n), actor, from_value=name if removed else None, to_value=None if removed else name)


def assign(eid: str, n: int, actor: str | None, to: str | None, frm: str | None = None) -> Event:
    return Event(eid, "assign", day(n), actor, from_value=frm, to_value=to)


def close(eid: str, n: int, actor: str | None, reason: str | None = "completed") -> Event:
    return Event(eid, "transition", day(n), actor, field=f"state_reason:{reason}" if reason else "state",
                 from_value="open", to_value="closed")


def reopen(eid: str, n: int, actor: str | None) -> Event:
    return Event(eid, "transition", day(n), actor, field="state_reason:reopened", from_value="closed", to_value="open")


def comment(eid: str, n: int, actor: str | None) -> Event:
    return Event(eid, "comment", day(n), actor)


def review(eid: str, n: int, actor: str | None, state: str = "APPROVED") -> Event:
    return Event(eid, "review", day(n), actor, to_value=state)


def merge(eid: str, n: int, actor: str | None) -> Event:
    return Event(eid, "merge", day(n), actor, from_value="open", to_value="5e1f0c2")


def deployment(did: int, n: int, actor: str | None, env: str | None = "production", ref: str = "v1.4.0") -> Event:
    return Event(f"d{did}", "deploy", day(n), actor, field=env, to_value=ref)


def status(sid: int, n: int, state: str, env: str | None = "production", actor: str | None = None,
           of: str | None = None, minute: int = 0) -> Event:
    return Event(f"ds{sid}", "deploy", day(n, minute), actor, field=env, from_value=of, to_value=state)


def release(rid: int, n: int, actor: str | None, tag: str = "v1.4.0", pre: bool = False) -> Event:
    return Event(f"rel{rid}", "release", day(n), actor, field="prerelease" if pre else None, to_value=tag)


def rows(result: list[Attribution]) -> set[tuple[str, str, str | None, str]]:
    return {(a.role, a.actor, a.event_id, a.rule) for a in result}


CASES = [
    pytest.param(
        issue("bug"), [created()],
        {("detect", REP, "created", "reporter-detects")},
        id="bug-author-detects",
    ),
    pytest.param(
        issue("incident", reporter=None), [created(None)],
        set(),
        id="deleted-author-detects-nothing",
    ),
    pytest.param(
        issue("improvement", reporter=ANNA), [created(ANNA), comment("c1", 1, DAG)],
        # No pull request works on it: the comment specified nothing that was developed.
        {("improve", ANNA, "created", "proposes"), ("specify", ANNA, "created", "co-specifies")},
        id="improvement-author-proposes",
    ),
    pytest.param(
        issue("bug", assignee=OLA),
        [created(), comment("c1", 1, DAG), assign("e1", 2, ANNA, EVA), assign("e2", 3, ANNA, OLA)],
        {("detect", REP, "created", "reporter-detects"), ("investigate", EVA, "e1", "first-assignee-investigates")},
        id="first-assignee-investigates-not-current-nor-commenter",
    ),
    pytest.param(
        issue("bug", assignee=None),
        [created(), assign("e1", 1, ANNA, None, frm=DAG), assign("e2", 2, ANNA, EVA), assign("e3", 3, EVA, None, EVA)],
        {("detect", REP, "created", "reporter-detects"), ("investigate", EVA, "e2", "first-assignee-investigates")},
        id="unassignment-is-not-an-assignee",
    ),
    pytest.param(
        issue("bug", assignee=OLA), [created(), comment("c1", 1, DAG)],
        {("detect", REP, "created", "reporter-detects"), ("investigate", OLA, None, "current-assignee-investigates")},
        id="current-assignee-when-history-has-no-assignment",
    ),
    pytest.param(
        issue("bug"), [created(), comment("c1", 1, REP), comment("c2", 2, None), comment("c3", 3, DAG),
                       comment("c4", 4, EVA)],
        {("detect", REP, "created", "reporter-detects"), ("investigate", DAG, "c3", "first-responder-investigates")},
        id="first-non-author-commenter-investigates",
    ),
    pytest.param(
        issue("bug"), [created(), comment("c1", 1, REP)],
        {("detect", REP, "created", "reporter-detects")},
        id="only-the-author-commented-nobody-investigates",
    ),
    pytest.param(
        issue("other", assignee=OLA), [created(), assign("e1", 1, ANNA, DAG), comment("c1", 2, EVA)],
        set(),
        id="non-defects-are-not-investigated",
    ),
    pytest.param(
        issue("other"),
        [label("e1", 1, ANNA, "QA-Passed"), label("e2", 2, DAG, "bug"), label("e3", 3, EVA, "verified", removed=True),
         label("e4", 4, OLA, " Tested "), label("e5", 5, ANNA, "verified")],
        {("test", ANNA, "e1", "verification-label"), ("test", OLA, "e4", "verification-label")},
        id="verification-labels-added-case-insensitive-once-per-person",
    ),
    pytest.param(
        issue("other"), [label("e1", 1, DAG, "ACCEPTED"), label("e2", 2, EVA, "accepted", removed=True)],
        {("accept", DAG, "e1", "acceptance-label")},
        id="acceptance-label-added-not-removed",
    ),
    pytest.param(
        pull(),
        [created(OLA), review("r1", 1, DAG, "CHANGES_REQUESTED"), review("r2", 2, EVA, "COMMENTED"),
         review("r3", 3, ANNA, "DISMISSED"), review("r4", 4, DAG, "APPROVED"), merge("e1", 5, ANNA),
         close("e2", 5, ANNA, None)],
        {("test", DAG, "r4", "approves"), ("resolve", ANNA, "e1", "merges")},
        id="approving-review-tests-merge-resolves-pr",
    ),
    pytest.param(
        pull(), [created(OLA), merge("e1", 3, ANNA), close("e2", 3, ANNA, None), merge("merged", 3, DAG)],
        {("resolve", ANNA, "e1", "merges")},
        id="a-pull-request-merges-once-even-when-two-sightings-name-two-people",
    ),
    pytest.param(
        pull(), [created(OLA), review("r1", 1, DAG, "APPROVED"), close("e1", 2, OLA, None)],
        {("test", DAG, "r1", "approves")},
        id="pr-closed-unmerged-resolves-nothing",
    ),
    pytest.param(
        issue("other"), [close("e1", 1, DAG, "completed")],
        {("resolve", DAG, "e1", "closes-completed")},
        id="closed-as-completed-resolves",
    ),
    pytest.param(
        issue("other"), [close("e1", 1, DAG, "not_planned")],
        {("decline", DAG, "e1", "closes-declined")},
        id="not-planned-declines",
    ),
    pytest.param(
        issue("other"), [close("e1", 1, DAG, "duplicate")],
        {("decline", DAG, "e1", "closes-declined")},
        id="duplicate-declines",
    ),
    pytest.param(
        issue("other"),
        [close("e1", 1, DAG, "not_planned"), reopen("e2", 2, ANNA), close("e3", 3, EVA, "completed")],
        {("reopen", ANNA, "e2", "reopens"), ("resolve", EVA, "e3", "closes-completed")},
        id="completed-after-not-planned-and-reopen-resolves",
    ),
    pytest.param(
        issue("other"),
        [close("e1", 1, DAG, "completed"), reopen("e2", 2, ANNA), close("e3", 3, EVA, "completed")],
        {("reopen", ANNA, "e2", "reopens"), ("resolve", EVA, "e3", "closes-completed")},
        id="the-close-after-the-last-reopen-resolves",
    ),
    pytest.param(
        issue("other"), [close("e1", 1, DAG, "completed"), reopen("e2", 2, ANNA)],
        {("reopen", ANNA, "e2", "reopens")},
        id="closed-then-reopened-and-still-open-resolves-nothing",
    ),
    pytest.param(
        issue("other"), [close("e1", 1, DAG, "completed"), reopen("e2", 2, ANNA), close("e3", 3, None, "completed")],
        {("reopen", ANNA, "e2", "reopens")},
        id="standing-closure-by-deleted-account-is-not-credited-to-the-earlier-closer",
    ),
    pytest.param(
        issue("other"), [close("e1", 1, DAG, None)],
        {("resolve", DAG, "e1", "closes-completed")},
        id="closed-before-closing-reasons-existed-resolves",
    ),
    pytest.param(
        ACTIVITY,
        [deployment(7701, 1, DAG, "staging"), status(1, 1, "failure", "staging", actor=EVA, minute=5),
         deployment(7702, 2, OLA), status(2, 2, "in_progress", minute=1), status(3, 2, "success", actor=EVA, minute=4)],
        {("deploy", OLA, "d7702", "deployment-succeeded")},
        id="successful-deployment-credits-creator-failed-does-not",
    ),
    pytest.param(
        ACTIVITY,
        [deployment(1, 1, DAG, "staging"), deployment(2, 2, OLA, "production"), deployment(3, 3, EVA, "staging"),
         status(10, 4, "success", "production")],
        {("deploy", OLA, "d2", "deployment-succeeded")},
        id="status-pairs-with-latest-deployment-of-its-environment",
    ),
    pytest.param(
        ACTIVITY,
        [deployment(1, 1, DAG), deployment(2, 2, OLA), status(10, 3, "success", of="d1")],
        {("deploy", DAG, "d1", "deployment-succeeded")},
        id="status-naming-its-deployment-pairs-exactly",
    ),
    pytest.param(
        ACTIVITY, [deployment(1, 1, DAG), status(10, 3, "success", of="d9")],
        set(),
        id="status-naming-an-unknown-deployment-is-not-guessed",
    ),
    pytest.param(
        ACTIVITY, [status(10, 3, "success"), deployment(1, 4, DAG)],
        set(),
        id="success-without-its-deployment-credits-nobody",
    ),
    pytest.param(
        ACTIVITY, [release(1, 1, ANNA), release(2, 2, DAG, "v1.5.0-rc1", pre=True), release(3, 3, ANNA, "v1.5.0")],
        {("deploy", ANNA, "rel1", "publishes-release"), ("deploy", DAG, "rel2", "publishes-release")},
        id="published-releases-deploy-once-per-person",
    ),
    pytest.param(
        issue("feature", reporter=ANNA),
        [created(ANNA), Event("e1", "field", day(1), DAG, field="title", from_value="a", to_value="b"),
         comment("c1", 2, EVA), close("e2", 3, ANNA), comment("c2", 4, OLA)],
        # Never developed (no pull request works on it): creation and title edits count, comments not.
        {("specify", ANNA, "created", "co-specifies"), ("specify", DAG, "e1", "co-specifies"),
         ("resolve", ANNA, "e2", "closes-completed")},
        id="co-specifies-creation-and-title-edits-of-undeveloped-issue",
    ),
]


@pytest.mark.parametrize("the_ticket, events, expected", CASES)
def test_github_rules(the_ticket: Ticket, events: list[Event], expected: set) -> None:
    result = attribute(the_ticket, events, PhaseMap())
    assert rows(result) == expected
    assert len(result) == len(expected)  # one row per (role, actor)
    assert all(a.role in ROLES for a in result)


@pytest.mark.parametrize("the_ticket, events, expected", CASES)
def test_input_order_does_not_matter(the_ticket: Ticket, events: list[Event], expected: set) -> None:
    shuffled = list(reversed(events))
    random.Random(11).shuffle(shuffled)
    assert attribute(the_ticket, shuffled, PhaseMap()) == attribute(the_ticket, events, PhaseMap())


@pytest.mark.parametrize(
    "the_ticket, events, role, rule, explanation",
    [
        pytest.param(issue("bug"), [created()], "detect", "reporter-detects", "reported bug acme/shop#7 on 2025-03-01",
                     id="detect"),
        pytest.param(issue("improvement"), [created()], "improve", "proposes",
                     "proposed improvement acme/shop#7 on 2025-03-01", id="improve"),
        pytest.param(issue("bug"), [assign("e1", 1, ANNA, DAG)], "investigate", "first-assignee-investigates",
                     "first assigned to acme/shop#7 (Dag Lund) on 2025-03-02", id="investigate-first-assignee"),
        pytest.param(issue("bug", assignee=OLA), [], "investigate", "current-assignee-investigates",
                     "assigned to acme/shop#7 (Ola Nordmann); the history records no assignment",
                     id="investigate-current-assignee"),
        pytest.param(issue("bug"), [comment("c1", 2, EVA)], "investigate", "first-responder-investigates",
                     "nobody assigned; first comment on acme/shop#7 by someone other than its author, "
                     "by Eva Holm on 2025-03-03", id="investigate-first-responder"),
        pytest.param(issue("other"), [label("e1", 2, EVA, "QA-passed")], "test", "verification-label",
                     "labelled acme/shop#7 “QA-passed” by Eva Holm on 2025-03-03", id="test-label"),
        pytest.param(pull(), [review("r1", 2, DAG)], "test", "approves",
                     "approved PR acme/shop#12 by Dag Lund on 2025-03-03", id="test-approval"),
        pytest.param(issue("other"), [label("e1", 4, ANNA, "accepted")], "accept", "acceptance-label",
                     "labelled acme/shop#7 “accepted” by Anna Berg on 2025-03-05", id="accept-label"),
        pytest.param(pull(), [merge("e1", 3, ANNA)], "resolve", "merges",
                     "merged PR acme/shop#12 by Anna Berg on 2025-03-04", id="resolve-merge"),
        pytest.param(issue("other"), [close("e1", 3, DAG)], "resolve", "closes-completed",
                     "closed acme/shop#7 as completed by Dag Lund on 2025-03-04", id="resolve-completed"),
        pytest.param(issue("other"), [close("e1", 3, DAG, None)], "resolve", "closes-completed",
                     "closed acme/shop#7 (no reason recorded) by Dag Lund on 2025-03-04", id="resolve-no-reason"),
        pytest.param(ACTIVITY, [deployment(7702, 5, OLA), status(1, 6, "success")], "deploy", "deployment-succeeded",
                     "deployed v1.4.0 to production by Ola Nordmann on 2025-03-06, successful on 2025-03-07",
                     id="deploy-deployment"),
        pytest.param(ACTIVITY, [release(1, 5, ANNA)], "deploy", "publishes-release",
                     "published release v1.4.0 of acme/shop by Anna Berg on 2025-03-06", id="deploy-release"),
        pytest.param(ACTIVITY, [release(1, 5, ANNA, "v2.0.0-rc1", pre=True)], "deploy", "publishes-release",
                     "published pre-release v2.0.0-rc1 of acme/shop by Anna Berg on 2025-03-06",
                     id="deploy-prerelease"),
    ],
)
def test_explanations_name_people_through_describe(
    the_ticket: Ticket, events: list[Event], role: str, rule: str, explanation: str
) -> None:
    result = [a for a in attribute(the_ticket, events, PhaseMap(), describe=NAMES.__getitem__) if a.role == role]
    assert [(a.rule, a.explanation) for a in result] == [(rule, explanation)]


def test_attribution_time_is_the_act_deployment_at_its_creation() -> None:
    result = attribute(ACTIVITY, [deployment(1, 2, OLA), status(2, 5, "success")], PhaseMap())
    assert [(a.role, a.at) for a in result] == [("deploy", day(2))]
    result = attribute(issue("bug", assignee=OLA), [], PhaseMap())
    assert {a.role: a.at for a in result} == {"detect": START, "investigate": START}


def test_earliest_deployment_of_a_person_is_kept_even_when_its_success_comes_later() -> None:
    events = [deployment(1, 1, OLA, "production"), deployment(2, 2, OLA, "staging"),
              status(20, 3, "success", "staging"), status(10, 4, "success", "production")]
    assert rows(attribute(ACTIVITY, events, PhaseMap())) == {("deploy", OLA, "d1", "deployment-succeeded")}


@pytest.mark.parametrize(
    "settings, events, expected",
    [
        pytest.param(RuleSettings(verification_labels=("QA: OK",), acceptance_labels=("po-approved", "UAT done")),
                     [label("e1", 1, ANNA, "qa: ok"), label("e2", 2, DAG, "verified"), label("e3", 3, EVA, "uat DONE")],
                     {("test", ANNA, "e1", "verification-label"), ("accept", EVA, "e3", "acceptance-label")},
                     id="configured-labels-replace-defaults"),
        pytest.param(RuleSettings(verification_labels=("tested",), acceptance_labels=("tested",)),
                     [label("e1", 1, ANNA, "Tested")],
                     {("test", ANNA, "e1", "verification-label"), ("accept", ANNA, "e1", "acceptance-label")},
                     id="one-label-in-both-lists-counts-for-both"),
        pytest.param(RuleSettings(verification_labels=(), acceptance_labels=()),
                     [label("e1", 1, ANNA, "verified"), label("e2", 2, DAG, "accepted")],
                     set(), id="no-labels-configured"),
        pytest.param(RuleSettings(closed_without_reason_resolves=False),
                     [close("e1", 1, DAG, None)], set(), id="closure-without-reason-not-counted"),
        pytest.param(RuleSettings(verification_labels="qa-ok"),  # type: ignore[arg-type]
                     [label("e1", 1, ANNA, "qa-ok"), label("e2", 2, DAG, "q")],
                     {("test", ANNA, "e1", "verification-label")}, id="a-lone-string-is-one-label"),
    ],
)
def test_settings(settings: RuleSettings, events: list[Event], expected: set) -> None:
    assert rows(attribute(issue("other"), events, PhaseMap(), settings=settings)) == expected


@pytest.mark.parametrize("labels", [("",), ("ok", "  "), (None,)])
def test_settings_refuse_empty_labels(labels: tuple) -> None:
    with pytest.raises(ValueError, match="verification labels must be non-empty names"):
        RuleSettings(verification_labels=labels)


def test_settings_from_lists_compare_and_hash_like_tuples() -> None:
    from_config = RuleSettings(verification_labels=["qa-passed", "verified", "tested"])  # type: ignore[arg-type]
    assert from_config == RuleSettings()
    assert hash(from_config) == hash(RuleSettings())
    assert from_config.verification_labels == ("qa-passed", "verified", "tested")


def test_workflow_rules_do_not_fire_on_github_open_closed() -> None:
    """The default phase map knows "Open" and "Closed" (Jira names): GitHub must not reach it."""
    phases = PhaseMap({"merged": "done", "open": "test", "closed": "deployed"})
    events = [created(), close("e1", 1, DAG, "not_planned"), reopen("e2", 2, EVA), close("e3", 3, ANNA, "duplicate")]
    github_only = {("detect", REP, "created", "reporter-detects"), ("reopen", EVA, "e2", "reopens"),
                   ("decline", ANNA, "e3", "closes-declined")}
    assert rows(attribute(issue("bug"), events, phases)) == github_only
    assert rows(attribute(issue("bug"), events, PhaseMap())) == github_only


@pytest.mark.parametrize(
    "the_ticket, github",
    [
        pytest.param(issue(), True, id="owner-repo-number"),
        pytest.param(ACTIVITY, True, id="deployments-pseudo-ticket"),
        pytest.param(Ticket("s", "1", "SHOP-1", "SHOP", "Bug", "bug", "t", "Open", START, START, reporter=REP),
                     True, id="github-reporter"),
        pytest.param(Ticket("s", "1", "SHOP-1", "SHOP", "Bug", "bug", "t", "Open", START, START, reporter="jira:x"),
                     False, id="jira-key-and-reporter"),
        pytest.param(Ticket("s", "1", "SHOP-1", "SHOP", "Bug", "bug", "t", "Open", START, START), False,
                     id="jira-key-anonymous"),
    ],
)
def test_is_github(the_ticket: Ticket, github: bool) -> None:
    assert is_github(the_ticket) is github


def test_jira_labels_and_reviews_do_not_use_github_rules() -> None:
    jira = Ticket("acme-jira", "10012", "SHOP-12", "SHOP", "Task", "task", "t", "Done", START, day(9), reporter=None)
    events = [Event("h1.0", "label", day(1), "jira:anna", "labels", None, "verified"),
              Event("h2.0", "transition", day(2), "jira:dag", "status", "In Progress", "Closed")]
    assert rows(attribute(jira, events, PhaseMap())) == {("resolve", "jira:dag", "h2.0", "resolves")}


# -- linked pull requests ------------------------------------------------------------------------

def test_linked_pr_acts_count_on_the_linked_ticket_with_prefixed_evidence() -> None:
    pr = pull(12)
    pr_events = [created(OLA), review("r1", 2, DAG, "CHANGES_REQUESTED"), review("r2", 3, EVA), merge("e5", 4, ANNA)]
    result = attribute_linked(issue("bug"), [created()], [(pr, pr_events)], PhaseMap(), describe=NAMES.__getitem__)
    assert [(a.role, a.actor, a.event_id, a.rule, a.explanation) for a in result] == [
        ("detect", REP, "created", "reporter-detects", "reported bug acme/shop#7 on 2025-03-01"),
        ("test", EVA, "acme/shop#12:r2", "approves-linked-pr",
         "approved PR acme/shop#12, which fixes acme/shop#7, by Eva Holm on 2025-03-04"),
        ("resolve", ANNA, "acme/shop#12:e5", "merges-linked-pr",
         "merged PR acme/shop#12, which fixes acme/shop#7, by Anna Berg on 2025-03-05"),
    ]


def test_linked_acts_count_once_per_person_earliest_kept() -> None:
    first, second = pull(12), pull(13, created=day(3))
    own = [created(), label("e1", 6, DAG, "verified"), close("e2", 7, ANNA)]
    linked = [(first, [review("r1", 2, DAG), merge("e9", 5, ANNA)]),
              (second, [review("r2", 4, DAG), review("r3", 4, EVA), merge("e8", 8, ANNA)])]
    result = attribute_linked(issue("other"), own, linked, PhaseMap())
    assert rows(result) == {
        ("test", DAG, "acme/shop#12:r1", "approves-linked-pr"),
        ("test", EVA, "acme/shop#13:r3", "approves-linked-pr"),
        ("resolve", ANNA, "acme/shop#12:e9", "merges-linked-pr"),
    }
    assert len(result) == 3


def test_own_act_earlier_than_linked_one_is_kept() -> None:
    own = [label("e1", 1, DAG, "tested")]
    result = attribute_linked(issue("other"), own, [(pull(12), [review("r1", 2, DAG)])], PhaseMap())
    assert rows(result) == {("test", DAG, "e1", "verification-label")}


def test_a_linked_pull_request_resolves_once_even_with_its_merge_stored_twice() -> None:
    """A history stored before merges had one id may hold the merge twice (e5, merged), by two names."""
    linked = [(pull(12), [merge("e5", 4, ANNA), merge("merged", 4, DAG)])]
    result = attribute_linked(issue("other", reporter=None), [], linked, PhaseMap())
    assert rows(result) == {("resolve", ANNA, "acme/shop#12:e5", "merges-linked-pr")}


def test_linked_jira_ticket_is_named_not_fixed_and_keeps_its_workflow_rules() -> None:
    jira = Ticket("acme-jira", "10012", "PAY-123", "PAY", "Bug", "bug", "t", "Done", START, day(9), reporter="jira:rep",
                  assignee="jira:dag")
    own = [Event("h1.0", "transition", day(1), "jira:ann", "status", "Triage", "In Progress"),
           Event("h2.0", "transition", day(6), "jira:ann", "status", "In QA", "Done")]
    result = attribute_linked(jira, own, [(pull(12), [review("r1", 4, EVA), merge("e1", 5, OLA)])], PhaseMap())
    assert rows(result) == {
        ("detect", "jira:rep", None, "reporter-detects"),
        ("investigate", "jira:dag", "h1.0", "assignee-investigates"),
        ("test", "jira:ann", "h2.0", "tests"),
        ("resolve", "jira:ann", "h2.0", "resolves"),
        ("test", EVA, "acme/shop#12:r1", "approves-linked-pr"),
        ("resolve", OLA, "acme/shop#12:e1", "merges-linked-pr"),
    }
    explanations = {a.rule: a.explanation for a in result}
    assert explanations["merges-linked-pr"] == f"merged PR acme/shop#12, which names PAY-123, by {OLA} on 2025-03-06"


def test_linked_pr_opening_ends_co_specification() -> None:
    own = [created(ANNA), comment("c1", 1, DAG), comment("c2", 3, EVA), comment("c3", 5, OLA)]
    linked = [(pull(13, created=day(4)), []), (pull(12, created=day(2)), [])]
    result = attribute_linked(issue("feature", reporter=ANNA), own, linked, PhaseMap())
    assert rows(result) == {("specify", ANNA, "created", "co-specifies"), ("specify", DAG, "c1", "co-specifies")}
    # Without the links nothing says it was developed: its comments specified nothing.
    assert rows(attribute(issue("feature", reporter=ANNA), own, PhaseMap())) == {("specify", ANNA, "created", "co-specifies")}


def test_linked_acts_exclude_everything_but_approvals_and_merges() -> None:
    pr_events = [created(OLA), comment("c1", 1, DAG), label("e1", 2, EVA, "verified"), label("e2", 2, EVA, "accepted"),
                 close("e3", 3, ANNA, None), assign("e4", 1, OLA, DAG), review("r1", 2, DAG, "COMMENTED"),
                 deployment(1, 4, OLA), status(2, 4, "success", minute=1), release(1, 5, OLA)]
    assert attribute_linked(issue("other", reporter=None), [], [(pull(12), pr_events)], PhaseMap()) == []


def test_a_pr_linking_itself_is_ignored_and_no_links_equals_attribute() -> None:
    pr = pull(12)
    events = [created(OLA), review("r1", 1, DAG), merge("e1", 2, ANNA)]
    assert attribute_linked(pr, events, [(pr, events)], PhaseMap()) == attribute(pr, events, PhaseMap())
    bug = issue("bug")
    assert attribute_linked(bug, [created()], [], PhaseMap()) == attribute(bug, [created()], PhaseMap())


@pytest.mark.parametrize(
    "event_id, expected",
    [
        pytest.param(linked_event_id("acme/shop#12", "r123"), ("acme/shop#12", "r123"), id="linked"),
        pytest.param("r123", (None, "r123"), id="own-github"),
        pytest.param("h10023.1", (None, "h10023.1"), id="own-jira"),
        pytest.param("created", (None, "created"), id="created"),
    ],
)
def test_split_event_id(event_id: str, expected: tuple) -> None:
    assert split_event_id(event_id) == expected


# -- through the GitHub parser: the shapes the rules read are the ones it produces ----------------

def _user(login: str) -> dict[str, Any]:
    return {"login": login, "id": sum(map(ord, login)), "type": "User"}


def _raw_issue(number: int, *, labels: tuple[str, ...] = (), pull_request: bool = False) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": 100 + number, "number": number, "title": "Checkout fails" if not pull_request else "Fixes #7",
        "body": "Fixes #7" if pull_request else "", "user": _user("rep" if not pull_request else "ola"),
        "labels": [{"name": name} for name in labels], "state": "closed", "assignee": None, "assignees": [],
        "created_at": "2025-03-01T09:00:00Z", "updated_at": "2025-03-09T09:00:00Z", "closed_at": "2025-03-08T09:00:00Z",
        "html_url": f"https://github.com/acme/shop/issues/{number}",
        "repository_url": "https://api.github.com/repos/acme/shop",
    }
    if pull_request:
        raw["pull_request"] = {"merged_at": "2025-03-05T10:00:00Z"}
    return raw


def _raw_event(eid: int, event: str, actor: str, when: str, **extra: Any) -> dict[str, Any]:
    return {"id": eid, "event": event, "actor": _user(actor), "created_at": when, **extra}


def _bug_if_labelled(type_name: str, labels: tuple[str, ...]) -> str:
    return "bug" if "bug" in labels else "other"


def test_parsed_issue_and_pull_request() -> None:
    bug = parse_issue(_raw_issue(7, labels=("bug",)), "acme-github", kind_of=_bug_if_labelled, events=[
        _raw_event(1, "assigned", "anna", "2025-03-02T09:00:00Z", assignee=_user("dag"), assigner=_user("anna")),
        _raw_event(2, "labeled", "eva", "2025-03-06T09:00:00Z", label={"name": "Verified"}),
        _raw_event(3, "closed", "dag", "2025-03-07T09:00:00Z", state_reason="not_planned"),
        _raw_event(4, "reopened", "rep", "2025-03-07T10:00:00Z", state_reason="reopened"),
        _raw_event(5, "closed", "anna", "2025-03-08T09:00:00Z", state_reason="completed"),
    ])
    pr = parse_issue(_raw_issue(12, pull_request=True), "acme-github", events=[
        _raw_event(6, "merged", "anna", "2025-03-05T10:00:00Z", commit_id="5e1f0c2"),
        _raw_event(7, "closed", "anna", "2025-03-05T10:00:00Z", state_reason=None),
    ], reviews=[
        {"id": 30, "user": _user("ola"), "state": "CHANGES_REQUESTED", "submitted_at": "2025-03-03T09:00:00Z"},
        {"id": 31, "user": _user("eva"), "state": "APPROVED", "submitted_at": "2025-03-04T09:00:00Z"},
    ])
    assert pr.links == ("acme/shop#7",)

    assert rows(attribute(pr.ticket, pr.events, PhaseMap())) == {
        ("test", EVA, "r31", "approves"), ("resolve", ANNA, "merged", "merges"),
    }
    assert rows(attribute_linked(bug.ticket, bug.events, [(pr.ticket, pr.events)], PhaseMap())) == {
        ("detect", REP, "created", "reporter-detects"),
        ("investigate", DAG, "e1", "first-assignee-investigates"),
        ("reopen", REP, "e4", "reopens"),
        ("test", EVA, "acme/shop#12:r31", "approves-linked-pr"),  # earlier than her label
        # The merge (03-05) came before the reopen (03-07): the close that stands is hers of 03-08.
        ("resolve", ANNA, "e5", "closes-completed"),
    }


def test_parsed_reviews_in_legacy_and_lower_case_states_count() -> None:
    """An export's lower-case "approved" tests the pull request as "APPROVED" does."""
    pr = parse_issue(_raw_issue(12, pull_request=True), "acme-github", reviews=[
        {"id": 30, "user": _user("ola"), "state": "REQUESTED_CHANGES", "submitted_at": "2025-03-03T09:00:00Z"},
        {"id": 31, "user": _user("eva"), "state": "approved", "submitted_at": "2025-03-04T09:00:00Z"},
    ])

    assert [(e.external_id, e.to_value) for e in pr.events if e.kind == "review"] == [
        ("r30", "CHANGES_REQUESTED"), ("r31", "APPROVED")]
    assert ("test", EVA, "r31", "approves") in rows(attribute(pr.ticket, pr.events, PhaseMap()))


def test_parsed_deployments_and_releases() -> None:
    activity = parse_repository_activity(
        {"full_name": "acme/shop", "created_at": "2024-01-01T00:00:00Z", "html_url": "https://github.com/acme/shop"},
        "acme-github",
        deployments=[
            {"id": 7702, "environment": "production", "ref": "v1.4.0", "creator": _user("ola"),
             "created_at": "2025-03-06T16:00:00Z"},
            {"id": 7701, "environment": "staging", "ref": "main", "creator": _user("dag"),
             "created_at": "2025-03-06T15:40:00Z"},
        ],
        statuses={
            "7701": [{"id": 88011, "state": "failure", "creator": _user("dag"), "environment": "staging",
                      "created_at": "2025-03-06T15:41:00Z"}],
            "7702": [{"id": 88021, "state": "in_progress", "creator": _user("ola"), "environment": "production",
                      "created_at": "2025-03-06T16:01:00Z"},
                     {"id": 88022, "state": "success", "creator": _user("ci-bot"), "environment": "production",
                      "created_at": "2025-03-06T16:04:00Z"}],
        },
        releases=[
            {"id": 6603, "tag_name": "v1.5.0-rc1", "draft": True, "prerelease": False, "published_at": None,
             "created_at": "2025-03-07T09:00:00Z", "author": _user("eva")},
            {"id": 6602, "tag_name": "v1.4.0", "draft": False, "prerelease": False,
             "published_at": "2025-03-06T15:55:00Z", "created_at": "2025-03-06T15:50:00Z", "author": _user("anna")},
        ],
    )
    assert activity is not None
    assert rows(attribute(activity.ticket, activity.events, PhaseMap())) == {
        ("deploy", OLA, "d7702", "deployment-succeeded"),
        ("deploy", ANNA, "rel6602", "publishes-release"),  # the draft by Eva is no release
    }


def test_a_fixing_merge_resolves_nothing_once_the_client_reopens_the_issue() -> None:
    # The partner's PR "fixes #7" is merged and closes #7; the client reopens #7, still open.
    own = [created(), close("e1", 2, OLA, "completed"), reopen("e2", 3, REP)]
    linked = [(pull(12), [merge("merged", 2, OLA)])]

    reopened = rows(attribute_linked(issue(status="open"), own, linked, PhaseMap()))
    fixed_again = rows(attribute_linked(issue(), own + [close("e3", 5, DAG, "completed")],
                                        linked + [(pull(13), [merge("merged", 4, EVA)])], PhaseMap()))

    assert not any(role == "resolve" for role, *_ in reopened)
    assert ("reopen", REP, "e2", "reopens") in reopened
    assert {r for r in fixed_again if r[0] == "resolve"} == {
        ("resolve", DAG, "e3", "closes-completed"), ("resolve", EVA, "acme/shop#13:merged", "merges-linked-pr")}
