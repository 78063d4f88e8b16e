from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from analytics.attribution import ROLES, Attribution, attribute, unmapped_statuses
from analytics.phases import PhaseMap
from connectors.records import Event, Ticket

START = datetime(2025, 2, 1, 9, 0, tzinfo=timezone.utc)

ANNA, DAG, EVA, OLA, REP = "jira:anna", "jira:dag", "jira:eva", "jira:ola", "jira:rep"
NAMES = {ANNA: "Anna Berg", DAG: "Dag Lund", EVA: "Eva Holm", OLA: "Ola Nordmann", REP: "Rita Rep"}


def day(n: int, minute: int = 0) -> datetime:
    return START + timedelta(days=n, minutes=minute)


def ticket(kind: str = "bug", reporter: str | None = REP, assignee: str | None = None, status: str = "Done") -> Ticket:
    return Ticket(
        source="acme-jira", external_id="10012", key="SHOP-12", project="SHOP", type_name=kind.title(), kind=kind,
        title="Checkout fails", status=status, created=START, updated=day(30), reporter=reporter, assignee=assignee,
    )


def created(actor: str | None = REP) -> Event:
    return Event("c1", "created", START, actor)


def move(eid: str, n: int, actor: str | None, frm: str, to: str, minute: int = 0) -> Event:
    return Event(eid, "transition", day(n, minute), actor, "status", frm, to)


def assign(eid: str, n: int, actor: str | None, frm: str | None, to: str | None, minute: int = 0) -> Event:
    return Event(eid, "assign", day(n, minute), actor, "assignee", frm, to)


def comment(eid: str, n: int, actor: str | None) -> Event:
    return Event(eid, "comment", day(n), actor)


def field(eid: str, n: int, actor: str | None, name: str, frm: str | None = None, to: str | None = None) -> Event:
    return Event(eid, "field", day(n), actor, name, frm, to)


def rows(result: list[Attribution]) -> set[tuple[str, str, str | None, str]]:
    return {(a.role, a.actor, a.event_id, a.rule) for a in result}


CASES = [
    pytest.param(
        ticket("bug"), [created()],
        {("detect", REP, "c1", "reporter-detects")},
        id="bug-reporter-detects",
    ),
    pytest.param(
        ticket("incident"), [],
        {("detect", REP, None, "reporter-detects")},
        id="incident-without-created-event-detects-from-ticket",
    ),
    pytest.param(
        ticket("bug", reporter=None), [created(None)],
        set(),
        id="anonymous-reporter-ignored",
    ),
    pytest.param(
        ticket("bug"),
        [created(), assign("a1", 1, ANNA, None, DAG), move("t1", 2, ANNA, "Triage", "In Progress")],
        {("detect", REP, "c1", "reporter-detects"), ("investigate", DAG, "t1", "assignee-investigates")},
        id="assignee-when-leaving-triage-investigates",
    ),
    pytest.param(
        ticket("bug"),
        [assign("a1", 1, ANNA, None, DAG), move("t1", 2, ANNA, "Triage", "Investigating"),
         assign("a2", 3, DAG, DAG, EVA), move("t2", 4, EVA, "Investigating", "In Progress")],
        {("detect", REP, None, "reporter-detects"), ("investigate", EVA, "t2", "assignee-investigates")},
        id="moving-within-investigate-phase-is-not-leaving-it",
    ),
    pytest.param(
        ticket("bug", assignee=OLA),
        [move("t1", 1, ANNA, "Backlog", "In Progress"), move("t2", 2, ANNA, "In Progress", "Done")],
        {("detect", REP, None, "reporter-detects"), ("investigate", OLA, "t1", "assignee-investigates"),
         ("resolve", ANNA, "t2", "resolves")},
        id="no-investigate-phase-first-develop-current-assignee",
    ),
    pytest.param(
        ticket("bug", assignee=OLA),
        [move("t1", 1, ANNA, "Triage", "Backlog"), move("t2", 2, DAG, "Backlog", "In Progress")],
        {("detect", REP, None, "reporter-detects"), ("investigate", OLA, "t1", "assignee-investigates")},
        id="leaving-investigate-for-backlog-ends-investigation",
    ),
    pytest.param(
        ticket("bug", assignee=None),
        [move("t1", 1, DAG, "Triage", "In Progress")],
        {("detect", REP, None, "reporter-detects"), ("investigate", DAG, "t1", "transition-author-investigates")},
        id="unassigned-transition-author-investigates",
    ),
    pytest.param(
        ticket("bug", assignee=OLA),
        [assign("a1", 1, ANNA, None, DAG), assign("a2", 2, DAG, DAG, None), move("t1", 3, EVA, "Triage", "In Progress")],
        {("detect", REP, None, "reporter-detects"), ("investigate", EVA, "t1", "transition-author-investigates")},
        id="unassigned-by-history-although-assigned-now",
    ),
    pytest.param(
        ticket("bug", assignee=OLA),
        [move("t1", 1, ANNA, "Triage", "In Progress"), assign("a1", 1, ANNA, DAG, OLA)],
        {("detect", REP, None, "reporter-detects"), ("investigate", DAG, "t1", "assignee-investigates")},
        id="same-instant-reassignment-counts-the-previous-assignee",
    ),
    pytest.param(
        ticket("bug", assignee=OLA),
        [move("t1", 1, ANNA, "Triage", "In Progress"), assign("a1", 2, ANNA, EVA, OLA)],
        {("detect", REP, None, "reporter-detects"), ("investigate", EVA, "t1", "assignee-investigates")},
        id="initial-assignee-from-first-assign-event",
    ),
    pytest.param(
        ticket("bug", assignee=DAG, status="Triage"),
        [assign("a1", 1, ANNA, None, DAG)],
        {("detect", REP, None, "reporter-detects")},
        id="still-in-triage-no-investigator-yet",
    ),
    pytest.param(
        ticket("bug", assignee=DAG),
        [move("t1", 1, ANNA, "Triage", "Verifying"), move("t2", 2, ANNA, "Verifying", "In Progress")],
        {("detect", REP, None, "reporter-detects")},
        id="triage-to-unmapped-status-is-not-evidence",
    ),
    pytest.param(
        ticket("feature"),
        [created(ANNA), field("f1", 1, DAG, "Description"), comment("k1", 2, EVA), field("f2", 3, OLA, "labels"),
         move("t1", 4, ANNA, "Refinement", "In Progress"), comment("k2", 5, OLA), field("f3", 6, REP, "summary")],
        {("specify", ANNA, "c1", "co-specifies"), ("specify", DAG, "f1", "co-specifies"),
         ("specify", EVA, "k1", "co-specifies")},
        id="co-specifies-before-develop-only",
    ),
    pytest.param(
        ticket("task", reporter=ANNA),
        [comment("k1", 1, DAG), field("f1", 2, EVA, "SUMMARY"), comment("k2", 3, DAG)],
        # Never developed: its comments specified nothing; creating and editing it still count.
        {("specify", ANNA, None, "co-specifies"), ("specify", EVA, "f1", "co-specifies")},
        id="never-developed-edits-and-reporter-without-created-event-but-no-comments",
    ),
    pytest.param(
        ticket("bug"),
        [comment("k1", 1, DAG), field("f1", 2, EVA, "description")],
        {("detect", REP, None, "reporter-detects")},
        id="bugs-are-not-co-specified",
    ),
    pytest.param(
        ticket("feature", reporter=None),
        [move("t1", 1, EVA, "In QA", "In Progress"), move("t2", 2, DAG, "In Progress", "In QA"),
         move("t3", 3, EVA, "In QA", "UAT"), move("t4", 4, ANNA, "In QA", "Testing")],
        {("test", EVA, "t1", "tests"), ("test", ANNA, "t4", "tests")},
        id="one-test-attribution-per-person-first-kept",
    ),
    pytest.param(
        ticket("task", reporter=None),
        [move("t1", 1, ANNA, "UAT", "Ready for Release"), move("t2", 2, DAG, "User Acceptance", "In Progress")],
        {("accept", ANNA, "t1", "accepts"), ("accept", DAG, "t2", "accepts")},
        id="accepts-every-move-out-of-accept-incl-rejection",
    ),
    pytest.param(
        ticket("task", reporter=None),
        [move("t1", 1, OLA, "Ready for Release", "Deployed"), move("t2", 2, DAG, "Deployed", "Released"),
         move("t3", 3, DAG, "Released", "Done")],
        {("deploy", OLA, "t1", "deploys"), ("resolve", OLA, "t1", "resolves")},
        id="deploys-into-deployed-phase-and-resolves-first",
    ),
    pytest.param(
        ticket("task", reporter=None),
        [move("t1", 1, DAG, "In Progress", "Done"), move("t2", 2, EVA, "Done", "In Progress"),
         move("t3", 3, EVA, "In Progress", "Won't Do")],
        # The close that stands is the one after the last reopen; into "Won't Do" it declines.
        {("reopen", EVA, "t2", "reopens"), ("decline", EVA, "t3", "declines")},
        id="the-close-after-the-last-reopen-stands",
    ),
    pytest.param(
        ticket("task", reporter=None),
        [move("t1", 1, None, "In Progress", "Done"), move("t2", 2, EVA, "Done", "Closed")],
        set(),
        id="resolving-by-automation-is-not-credited-to-next-mover",
    ),
    pytest.param(
        ticket("improvement", reporter=ANNA),
        [created(ANNA), field("p1", 1, DAG, "Priority", "Medium", "High"), field("p2", 2, EVA, "Rank"),
         field("p3", 3, DAG, "rank"), field("p4", 4, OLA, "Sprint")],
        {("improve", ANNA, "c1", "proposes"), ("specify", ANNA, "c1", "co-specifies"),
         ("prioritise", DAG, "p1", "prioritises"), ("prioritise", EVA, "p2", "prioritises")},
        id="improvement-proposed-and-prioritised",
    ),
    pytest.param(
        ticket("feature", reporter=ANNA),
        [field("p1", 1, DAG, "Priority", "Medium", "High")],
        {("specify", ANNA, None, "co-specifies")},
        id="priority-on-feature-is-not-prioritising-improvements",
    ),
    pytest.param(
        ticket("bug", reporter=None, assignee=None),
        [comment("k1", 1, None), move("t1", 2, None, "Triage", "In Progress"), move("t2", 3, None, "In QA", "UAT"),
         move("t3", 4, None, "UAT", "Deployed")],
        set(),
        id="acts-without-actor-produce-nothing",
    ),
    pytest.param(
        ticket("feature", reporter=None),
        [move("t1", 1, ANNA, "Verifying", "Shipped"), move("t2", 2, DAG, "Shipped", "Archived")],
        set(),
        id="unmapped-statuses-yield-nothing",
    ),
    pytest.param(
        ticket("other", reporter=ANNA),
        [created(ANNA), comment("k1", 1, DAG), move("t1", 2, EVA, "In QA", "Done")],
        {("test", EVA, "t1", "tests"), ("resolve", EVA, "t1", "resolves")},
        id="kind-other-only-workflow-roles",
    ),
]


@pytest.mark.parametrize("the_ticket, events, expected", CASES)
def test_default_rules(the_ticket: Ticket, events: list[Event], expected: set) -> None:
    result = attribute(the_ticket, events, PhaseMap())
    assert rows(result) == expected
    assert len(result) == len(expected)  # one row per (role, actor)
    assert all(a.role in ROLES for a in result)


@pytest.mark.parametrize("the_ticket, events, expected", CASES)
def test_input_order_does_not_matter(the_ticket: Ticket, events: list[Event], expected: set) -> None:
    shuffled = list(reversed(events))
    random.Random(7).shuffle(shuffled)
    assert attribute(the_ticket, shuffled, PhaseMap()) == attribute(the_ticket, events, PhaseMap())


@pytest.mark.parametrize(
    "the_ticket, events, role, explanation",
    [
        pytest.param(ticket("bug"), [created()], "detect", "reported bug SHOP-12 on 2025-02-01", id="detect"),
        pytest.param(ticket("improvement", reporter=ANNA), [], "improve", "proposed improvement SHOP-12 on 2025-02-01",
                     id="improve"),
        pytest.param(ticket("task"), [move("t1", 31, ANNA, "In QA", "UAT")], "test",
                     "moved In QA → UAT by Anna Berg on 2025-03-04", id="test"),
        pytest.param(ticket("task"), [move("t1", 2, DAG, "UAT", "Done")], "accept",
                     "moved UAT → Done by Dag Lund on 2025-02-03", id="accept"),
        pytest.param(ticket("task"), [move("t1", 2, OLA, "Ready for Release", "Deployed")], "deploy",
                     "moved Ready for Release → Deployed by Ola Nordmann on 2025-02-03", id="deploy"),
        pytest.param(ticket("bug", assignee=DAG), [move("t1", 1, ANNA, "Triage", "In Progress")], "investigate",
                     "assigned (Dag Lund) when Triage → In Progress on 2025-02-02", id="investigate-assignee"),
        pytest.param(ticket("bug"), [move("t1", 1, ANNA, "Triage", "In Progress")], "investigate",
                     "nobody assigned; moved Triage → In Progress by Anna Berg on 2025-02-02",
                     id="investigate-author"),
        pytest.param(ticket("feature", reporter=None), [comment("k1", 3, EVA), move("t1", 4, DAG, "Refinement", "In Progress")],
                     "specify", "commented by Eva Holm on 2025-02-04, before development started", id="specify-comment"),
        pytest.param(ticket("feature", reporter=ANNA), [], "specify", "created feature SHOP-12 by Anna Berg on 2025-02-01",
                     id="specify-created-without-event"),
        pytest.param(ticket("feature", reporter=None), [created(ANNA)], "specify",
                     "created feature SHOP-12 by Anna Berg on 2025-02-01", id="specify-created"),
        pytest.param(ticket("feature", reporter=None), [field("f1", 3, EVA, "Description")], "specify",
                     "edited the description by Eva Holm on 2025-02-04, before development started",
                     id="specify-edit"),
        pytest.param(ticket("improvement", reporter=None), [field("p1", 3, EVA, "priority", "Low", "High")], "prioritise",
                     "changed priority Low → High by Eva Holm on 2025-02-04", id="prioritise"),
        pytest.param(ticket("improvement", reporter=None), [field("p1", 3, EVA, "Rank", "0|i0001:", "0|i0000:")],
                     "prioritise", "re-ranked in the backlog by Eva Holm on 2025-02-04", id="prioritise-rank"),
        pytest.param(ticket("task"), [move("t1", 2, DAG, "Released", "Done")], "resolve",
                     "moved Released → Done by Dag Lund on 2025-02-03", id="resolve"),
    ],
)
def test_explanations_name_people_through_describe(
    the_ticket: Ticket, events: list[Event], role: str, explanation: str
) -> None:
    result = [a for a in attribute(the_ticket, events, PhaseMap(), describe=NAMES.__getitem__) if a.role == role]
    assert [a.explanation for a in result] == [explanation]


def test_attribution_time_is_the_act_and_default_describe_is_the_ref() -> None:
    result = attribute(ticket("bug", assignee=DAG), [move("t1", 1, ANNA, "Triage", "In Progress")], PhaseMap())
    by_role = {a.role: a for a in result}
    assert by_role["detect"].at == START
    assert by_role["investigate"].at == day(1)
    assert by_role["investigate"].explanation == f"assigned ({DAG}) when Triage → In Progress on 2025-02-02"


def test_configured_phases_drive_the_rules() -> None:
    phases = PhaseMap({"Verifying": "test", "Shipped": "deployed"})
    events = [move("t1", 1, ANNA, "Verifying", "Shipped")]
    assert rows(attribute(ticket("task", reporter=None), events, phases)) == {
        ("test", ANNA, "t1", "tests"), ("deploy", ANNA, "t1", "deploys"), ("resolve", ANNA, "t1", "resolves"),
    }


def test_results_are_in_time_order() -> None:
    events = [move("t2", 5, DAG, "UAT", "Done"), move("t1", 3, EVA, "In QA", "UAT")]
    result = attribute(ticket("task", reporter=None), events, PhaseMap())
    assert [(a.role, a.event_id) for a in result] == [("test", "t1"), ("accept", "t2"), ("resolve", "t2")]


def test_unmapped_statuses_are_listed_once_sorted() -> None:
    statuses = ["In QA", "verifying", "Shipped", "Verifying", "Shipped", None, "", "Done"]
    assert unmapped_statuses(statuses, PhaseMap()) == ["Shipped", "Verifying", "verifying"]
    assert unmapped_statuses(statuses, PhaseMap({"shipped": "deployed", "VERIFYING": "test"})) == []


# -- what a resolution is (DESIGN.md, "Roles and evidence") ---------------------------------------

ADMIN = "jira:admin"


def resolution(eid: str, n: int, actor: str | None, to: str | None, minute: int = 0) -> Event:
    """A change of the resolution field, as Jira records it beside (or without) the status change."""
    return Event(eid, "field", day(n, minute), actor, "resolution", None, to)


def with_resolution(t: Ticket, name: str | None, status: str = "Done") -> Ticket:
    return Ticket(**{**{f: getattr(t, f) for f in t.__slots__}, "resolution": name, "status": status})


RESOLUTION_CASES = [
    pytest.param(
        ticket("bug"),
        # A board migration moves everything to Resolved and back the same day; a developer closes it later.
        [move("m1", 1, ADMIN, "Open", "Resolved"), move("m2", 1, ADMIN, "Resolved", "Reopened", minute=5),
         move("t1", 9, DAG, "Reopened", "In Progress"), move("t2", 12, DAG, "In Progress", "Closed")],
        {("detect", REP, None, "reporter-detects"), ("reopen", ADMIN, "m2", "reopens"),
         ("resolve", DAG, "t2", "resolves"), ("investigate", DAG, "t1", "transition-author-investigates")},
        id="migration-close-and-reopen-does-not-take-the-resolution",
    ),
    pytest.param(
        with_resolution(ticket("other"), "Won't Fix", status="Closed"),
        [move("t1", 2, DAG, "In Progress", "Closed"), resolution("t1r", 2, DAG, "Won't Fix")],
        {("decline", DAG, "t1", "declines")},
        id="wont-fix-set-with-the-close-declines",
    ),
    pytest.param(
        with_resolution(ticket("other"), "Fixed", status="Closed"),
        [move("t1", 2, DAG, "In Progress", "Closed"), resolution("t1r", 2, DAG, "Duplicate"),
         move("t2", 3, EVA, "Closed", "Reopened"), resolution("t2r", 3, EVA, None),
         move("t3", 5, OLA, "Reopened", "Closed"), resolution("t3r", 5, OLA, "Fixed")],
        # Only the close that stands resolves or declines; the one reopened keeps its events.
        {("reopen", EVA, "t2", "reopens"), ("resolve", OLA, "t3", "resolves")},
        id="declined-then-reopened-and-fixed-resolves",
    ),
    pytest.param(
        with_resolution(ticket("other"), None, status="Won't Do"),
        [move("t1", 2, DAG, "Backlog", "Won't Do")],
        {("decline", DAG, "t1", "declines")},
        id="declining-status-without-any-resolution-declines",
    ),
    pytest.param(
        with_resolution(ticket("other"), "Done"),
        # A bulk close: the status was set without a recorded change, only the resolution was.
        [resolution("r1", 4, EVA, "Done")],
        {("resolve", EVA, "r1", "resolves-by-resolution")},
        id="done-with-only-a-resolution-change-resolves-by-its-author",
    ),
    pytest.param(
        with_resolution(ticket("other"), "Done"),
        [],
        set(),
        id="done-with-no-history-credits-nobody",
    ),
    pytest.param(
        with_resolution(ticket("other", reporter=None), "Done", status="Reopened"),
        [move("t1", 2, DAG, "In Progress", "Done"), move("t2", 4, EVA, "Done", "Reopened")],
        {("reopen", EVA, "t2", "reopens")},
        id="reopened-and-still-open-resolves-nothing",
    ),
    pytest.param(
        ticket("bug", reporter=None),
        [Event("created", "created", START, EVA)],
        {("detect", EVA, "created", "creator-detects")},
        id="no-reporter-the-creator-detects",
    ),
]


@pytest.mark.parametrize("the_ticket, events, expected", RESOLUTION_CASES)
def test_the_close_that_stands_resolves_or_declines(the_ticket: Ticket, events: list[Event], expected: set) -> None:
    assert rows(attribute(the_ticket, events, PhaseMap())) == expected


def test_declining_resolutions_are_configurable_in_the_sites_language() -> None:
    from analytics.github_rules import RuleSettings

    t = with_resolution(ticket("other"), "Не будет исправлено", status="Закрыт")
    events = [move("t1", 2, DAG, "В работе", "Закрыт"), resolution("t1r", 2, DAG, "Не будет исправлено")]
    phases = PhaseMap({"Закрыт": "done", "В работе": "develop"})

    assert rows(attribute(t, events, phases)) == {("resolve", DAG, "t1", "resolves")}
    settings = RuleSettings(declining_resolutions=("Не будет исправлено",))
    assert rows(attribute(t, events, phases, settings=settings)) == {("decline", DAG, "t1", "declines")}


def test_reopened_is_a_backlog_status_by_default() -> None:
    assert PhaseMap().phase("Reopened") == "backlog"


REVIEW_CASES = [
    pytest.param(
        with_resolution(ticket("other"), "Won't Fix", status="Closed"),
        # Resolved without a resolution, then Closed setting Won't Fix: the close that stands declines.
        [move("t1", 2, DAG, "In Progress", "Resolved"), move("t2", 3, DAG, "Resolved", "Closed"),
         resolution("t2r", 3, DAG, "Won't Fix")],
        {("decline", DAG, "t1", "declines")},
        id="resolution-set-later-while-closed-counts",
    ),
    pytest.param(
        with_resolution(ticket("other"), "Won't Fix", status="Closed"),
        [move("t1", 2, DAG, "In Progress", "Resolved"), resolution("t1r", 2, DAG, "Fixed"),
         move("t2", 3, EVA, "Resolved", "Closed"), resolution("t2r", 3, EVA, "Won't Fix")],
        {("decline", DAG, "t1", "declines")},
        id="the-last-resolution-of-a-standing-close-counts",
    ),
    pytest.param(
        with_resolution(ticket("other"), "Fixed", status="Archived"),
        # Into a status no mapping covers: nothing is said, the close still stands.
        [move("t1", 2, DAG, "In Progress", "Done"), move("t2", 4, EVA, "Done", "Archived")],
        {("resolve", DAG, "t1", "resolves")},
        id="a-move-into-an-unmapped-status-is-no-reopen",
    ),
    pytest.param(
        with_resolution(ticket("other"), "Fixed", status="Released"),
        [move("t1", 2, DAG, "In Progress", "Resolved"), move("t2", 3, EVA, "Resolved", "Ready for Release"),
         move("t3", 4, OLA, "Ready for Release", "Released")],
        {("resolve", DAG, "t1", "resolves"), ("deploy", OLA, "t3", "deploys")},
        id="release-after-a-close-is-no-reopen",
    ),
    pytest.param(
        with_resolution(ticket("other"), "Done", status="Won't Do"),
        [move("t1", 2, DAG, "To Do", "Won't Do"), resolution("t1r", 2, DAG, "Done")],
        {("decline", DAG, "t1", "declines")},
        id="a-declining-status-declines-whatever-the-generic-resolution",
    ),
]


@pytest.mark.parametrize("the_ticket, events, expected", REVIEW_CASES)
def test_the_standing_close_and_its_resolution_as_real_workflows_record_them(the_ticket, events, expected) -> None:
    assert rows(attribute(the_ticket, events, PhaseMap())) == expected


def test_a_linked_merge_does_not_resolve_a_ticket_reopened_since() -> None:
    from analytics.attribution import attribute_linked

    pr = Ticket(source="gh", external_id="acme/web#2", key="acme/web#2", project="acme/web", type_name="Pull request",
                kind="pull_request", title="Fix", status="merged", created=day(1), updated=day(2))
    merged = [Event("merged", "merge", day(2), DAG)]
    jira = with_resolution(ticket("bug"), None, status="Reopened")
    own = [move("t1", 2, DAG, "In Progress", "Done", minute=5), move("t2", 3, EVA, "Done", "Reopened")]

    reopened = rows(attribute_linked(jira, own, [(pr, merged)], PhaseMap()))
    closed_again = rows(attribute_linked(with_resolution(jira, "Fixed", status="Done"),
                                         own + [move("t3", 5, OLA, "Reopened", "Done")],
                                         [(pr, merged + [])], PhaseMap()))

    assert not any(role == "resolve" for role, *_ in reopened)
    assert ("resolve", OLA, "t3", "resolves") in closed_again
    assert not any(rule == "merges-linked-pr" for *_, rule in closed_again)  # merged before the reopen
