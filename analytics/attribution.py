"""Who performed which responsibility on a ticket, with the event each attribution rests on.

`attribute` applies the default rules to one ticket and its history; `attribute_linked` adds
what the pull requests that link to it did (their approvals and merges). Every attribution
names its rule and carries a one-line explanation, so each number in a report drills down to
the acts behind it. Jira tickets follow their workflow: statuses without a phase trigger
nothing, they are listed by `unmapped_statuses`, never guessed. GitHub tickets have no
workflow, so their own rules (`analytics.github_rules`) read labels, reviews, closing reasons,
merges, deployments and releases instead. The rules run over every ticket in the database, so
each ticket costs one sort and one pass over its events.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from operator import attrgetter
from typing import Callable, Iterable, Sequence

from analytics.github_rules import RuleSettings, github_acts, is_github, linked_acts, split_event_id
from analytics.phases import PhaseMap
from analytics.resolution import CLOSED_PHASES
from connectors.records import Event, Ticket

__all__ = ["ROLES", "Attribution", "RuleSettings", "attribute", "attribute_linked", "split_event_id",
           "unmapped_statuses"]

# `decline` (a close that declines the work) and `reopen` are recorded beside `resolve`; neither
# counts as resolving anything (analytics.resolution).
ROLES = ("detect", "investigate", "specify", "test", "accept", "deploy", "resolve", "decline", "reopen", "improve",
         "prioritise")

DEFECT_KINDS = frozenset({"bug", "incident"})
SCOPE_KINDS = frozenset({"feature", "improvement", "task"})
SPEC_FIELDS = frozenset({"summary", "description"})
GITHUB_SPEC_FIELDS = SPEC_FIELDS | {"title"}  # GitHub's "renamed" event edits the title
PRIORITY_FIELDS = frozenset({"priority", "rank"})

_ROLE_ORDER = {role: i for i, role in enumerate(ROLES)}
_ORDER = attrgetter("at", "external_id")
_DEFAULT_SETTINGS = RuleSettings()


@dataclass(frozen=True, slots=True)
class Attribution:
    """One role performed by one account on one ticket, and the evidence for it."""

    role: str
    actor: str  # account ref
    event_id: str | None  # the Event.external_id it rests on; "<PR key>:<id>" for a linked PR's act
    at: datetime
    rule: str
    explanation: str


def _day(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc)
    return at.date().isoformat()


def _moved(e: Event) -> str:
    return f"{e.from_value or '(none)'} → {e.to_value or '(none)'}"


def _reprioritised(e: Event) -> str:
    if e.field and e.field.casefold() == "rank":
        return "re-ranked in the backlog"  # rank values are opaque LexoRank strings
    return f"changed {e.field} {e.from_value or '(none)'} → {e.to_value or '(none)'}"


class _Collector:
    """Keeps the earliest act per (role, actor) and names people only for the acts it keeps."""

    __slots__ = ("found", "describe")

    def __init__(self, describe: Callable[[str], str]) -> None:
        self.found: dict[tuple[str, str], Attribution] = {}
        self.describe = describe

    def add(self, role: str, actor: str | None, event: str | None, at: datetime, rule: str,
            explain: Callable[[str], str]) -> None:
        if not actor:
            return
        known = self.found.get((role, actor))
        # Each rule adds in time order; a later rule (a linked pull request's acts) may still
        # hold an earlier act, and the earliest one is the evidence. Ties keep the first added.
        if known is not None and known.at <= at:
            return
        self.found[(role, actor)] = Attribution(role, actor, event, at, rule, explain(self.describe(actor)))

    def result(self) -> list[Attribution]:
        return sorted(self.found.values(), key=lambda a: (a.at, _ROLE_ORDER[a.role], a.actor))


def attribute(
    ticket: Ticket,
    events: Sequence[Event],
    phases: PhaseMap,
    *,
    describe: Callable[[str], str] | None = None,
    settings: RuleSettings | None = None,
) -> list[Attribution]:
    """Apply the default rules to one ticket; one attribution per (role, actor), the earliest act kept."""
    out = _Collector(describe or _as_is)
    _own_acts(ticket, sorted(events, key=_ORDER), phases, settings or _DEFAULT_SETTINGS, None, out)
    return out.result()


def attribute_linked(
    ticket: Ticket,
    events: Sequence[Event],
    linked_prs: Sequence[tuple[Ticket, Sequence[Event]]],
    phases: PhaseMap,
    *,
    describe: Callable[[str], str] | None = None,
    settings: RuleSettings | None = None,
) -> list[Attribution]:
    """`attribute`, plus the approvals (test) and merges (resolve) of the pull requests that link to the ticket.

    `linked_prs` are the pull requests whose `ParsedTicket.links` name this ticket, with their
    events. Their acts rest on an event of another ticket, so `event_id` is
    `<PR key>:<PR event id>` (`acme/shop#12:r123`; `split_event_id` takes it apart). A
    person who both approved a linked PR and added a verification label still gets one test
    attribution, the earliest. The first linked PR's opening also ends co-specification: work
    on the ticket has started. Deployments are not carried over (see `github_rules.linked_acts`).
    """
    out = _Collector(describe or _as_is)
    started = min((pr.created for pr, _ in linked_prs if pr.key != ticket.key), default=None)
    reopened_at = _own_acts(ticket, sorted(events, key=_ORDER), phases, settings or _DEFAULT_SETTINGS, started, out)
    # A linked merge resolves the ticket only as part of the close that stands: not before its
    # last reopen, and not while the ticket is open again.
    closed = ticket.status.casefold() in ("closed", "merged") if is_github(ticket) \
        else phases.phase(ticket.status) in CLOSED_PHASES
    for pr, pr_events in linked_prs:
        linked_acts(ticket, pr, sorted(pr_events, key=_ORDER), out, resolves=closed, after=reopened_at)
    return out.result()


def _as_is(ref: str) -> str:
    return ref


def _own_acts(ticket: Ticket, ordered: list[Event], phases: PhaseMap, settings: RuleSettings,
              started: datetime | None, out: _Collector) -> datetime | None:
    """The rules over the ticket's own history; `started` is when linked development began, if known.
    Returns when the ticket was last reopened (None when never)."""
    kind = ticket.kind
    defect = kind in DEFECT_KINDS
    scope = kind in SCOPE_KINDS
    improvement = kind == "improvement"
    github = is_github(ticket)

    created: Event | None = None
    for e in ordered:
        if e.kind == "created":
            created = e
            break

    created_id = created.external_id if created else None
    # No reporter field (deleted, hidden, or a type without one): whoever created the ticket
    # reported it; the parsers make the creator the creation event's actor.
    reporter = ticket.reporter or (created.actor if created else None)
    rule = "reporter-detects" if ticket.reporter else "creator-detects"
    if defect:
        out.add("detect", reporter, created_id, ticket.created, rule,
                lambda name: f"reported {kind} {ticket.key} on {_day(ticket.created)}")
    if improvement:
        out.add("improve", reporter, created_id, ticket.created, "proposes",
                lambda name: f"proposed improvement {ticket.key} on {_day(ticket.created)}")

    if github:
        # GitHub's open/closed transitions carry no phase; the default map's "Open"/"Closed"
        # (Jira names) must not turn every closure, "not planned" included, into a resolution.
        develop_at, reopened_at = github_acts(ticket, ordered, out, settings, defect=defect)
        spec_fields = GITHUB_SPEC_FIELDS
    else:
        develop_at, reopened_at = _workflow_acts(ticket, ordered, phases, defect, settings, out)
        spec_fields = SPEC_FIELDS

    if scope:
        cutoff = develop_at if develop_at is not None else len(ordered)
        # A comment specifies only what was then developed: on a ticket never developed (GitHub:
        # no linked pull request), comments are discussion, triage or the resolver's closing note.
        developed = (develop_at is not None and not github) or started is not None
        if created is None:
            # No creation event in the history: the reporter still created the ticket.
            out.add("specify", ticket.reporter, None, ticket.created, "co-specifies",
                    lambda name: f"created {kind} {ticket.key} by {name} on {_day(ticket.created)}")
        for e in ordered[:cutoff]:
            if started is not None and e.at >= started:
                break
            if e.kind == "created":
                out.add("specify", e.actor, e.external_id, e.at, "co-specifies",
                        lambda name, e=e: f"created {kind} {ticket.key} by {name} on {_day(e.at)}")
            elif e.kind == "comment" and developed:
                out.add("specify", e.actor, e.external_id, e.at, "co-specifies",
                        lambda name, e=e: f"commented by {name} on {_day(e.at)}, before development started")
            elif e.kind == "field" and e.field and e.field.casefold() in spec_fields:
                out.add("specify", e.actor, e.external_id, e.at, "co-specifies",
                        lambda name, e=e: f"edited the {e.field.lower()} by {name} on {_day(e.at)}, "
                                          "before development started")

    if improvement:
        for e in ordered:
            if e.kind == "field" and e.field and e.field.casefold() in PRIORITY_FIELDS:
                out.add("prioritise", e.actor, e.external_id, e.at, "prioritises",
                        lambda name, e=e: f"{_reprioritised(e)} by {name} on {_day(e.at)}")
    return reopened_at


def _workflow_acts(ticket: Ticket, ordered: list[Event], phases: PhaseMap, defect: bool, settings: RuleSettings,
                   out: _Collector) -> tuple[int | None, datetime | None]:
    """The phase-based rules (Jira); returns the position of the first move into development and
    the time of the last reopen."""
    phase = phases.phase
    assigns: list[Event] = []
    resolutions: list[Event] = []  # changes of the resolution field
    transitions: list[tuple[int, Event, str | None, str | None]] = []  # (position, event, from, to phase)
    for position, e in enumerate(ordered):
        if e.kind == "transition":
            transitions.append((position, e, phase(e.from_value), phase(e.to_value)))
        elif e.kind == "assign":
            assigns.append(e)
        elif e.kind == "field" and e.field and e.field.casefold() == "resolution":
            resolutions.append(e)

    develop_at: int | None = None
    standing: Event | None = None  # the first move into done/deployed since the last reopen
    reopened_at: datetime | None = None
    for position, e, source, target in transitions:
        if target == "develop" and develop_at is None:
            develop_at = position
        if source == "test" and e.from_value != e.to_value:
            out.add("test", e.actor, e.external_id, e.at, "tests",
                    lambda name, e=e: f"moved {_moved(e)} by {name} on {_day(e.at)}")
        if source == "accept" and e.from_value != e.to_value:
            out.add("accept", e.actor, e.external_id, e.at, "accepts",
                    lambda name, e=e: f"moved {_moved(e)} by {name} on {_day(e.at)}")
        if target == "deployed" and source != "deployed":
            out.add("deploy", e.actor, e.external_id, e.at, "deploys",
                    lambda name, e=e: f"moved {_moved(e)} by {name} on {_day(e.at)}")
        if target in CLOSED_PHASES:
            if standing is None:
                standing = e
        elif source in CLOSED_PHASES and target is not None and target not in AFTER_CLOSE:
            # Back into work (a status of a known phase before release): the close did not stand.
            # A move into an unmapped status says nothing, and release follows a close forward.
            if standing is not None:
                closed = standing
                out.add("reopen", e.actor, e.external_id, e.at, "reopens",
                        lambda name, e=e, c=closed: f"reopened {ticket.key} ({_moved(e)}; closed on {_day(c.at)}) "
                                                    f"by {name} on {_day(e.at)}")
            standing, reopened_at = None, e.at

    if standing is not None:
        _close(ticket, standing, _resolution_at(standing, resolutions, ticket, phase), settings, out)
    elif phase(ticket.status) in CLOSED_PHASES:
        _closed_by_resolution(ticket, transitions, resolutions, settings, out)
    if defect:
        _investigator(ticket, transitions, assigns, phase, out)
    return develop_at, reopened_at


#: Phases a closed ticket moves on into without being reopened.
AFTER_CLOSE = CLOSED_PHASES | {"release"}


def _resolution_at(close: Event, resolutions: list[Event], ticket: Ticket,
                   phase: Callable[[str | None], str | None]) -> str | None:
    """The resolution of the close that stands: the last change of the resolution field from the
    close on (it stands, so no reopen follows; Jira sets it in the close's own changelog entry or
    later, Resolved → Closed may change it again), else the ticket's current resolution while it
    is closed."""
    chosen: Event | None = None
    for r in resolutions:
        if r.at >= close.at:
            chosen = r
    if chosen is not None:
        return chosen.to_value
    return ticket.resolution if phase(ticket.status) in CLOSED_PHASES else None


def _close(ticket: Ticket, e: Event, resolution: str | None, settings: RuleSettings, out: _Collector) -> None:
    # A close into a status named like a declining resolution ("Won't Do") declines, whatever the
    # resolution field says: team-managed projects set the generic "Done" on every close.
    declined = settings.declines(resolution) or settings.declines(e.to_value)
    if declined:
        said = resolution if settings.declines(resolution) else e.to_value
        out.add("decline", e.actor, e.external_id, e.at, "declines",
                lambda name: f"closed {ticket.key} as {said}: {_moved(e)} by {name} on {_day(e.at)}")
    else:
        out.add("resolve", e.actor, e.external_id, e.at, "resolves",
                lambda name: f"moved {_moved(e)} by {name} on {_day(e.at)}")


def _closed_by_resolution(ticket: Ticket, transitions: list[tuple[int, Event, str | None, str | None]],
                          resolutions: list[Event], settings: RuleSettings, out: _Collector) -> None:
    """Done without a recorded status change (a board or bulk close that only set the resolution):
    the author of the resolution change since the last status change resolved it. Without one,
    nobody is credited; the report lists the ticket under data quality."""
    since = transitions[-1][1].at if transitions else None
    chosen = None
    for r in resolutions:
        if r.to_value and (since is None or r.at >= since):
            chosen = r
    if chosen is None:
        return
    r = chosen
    if settings.declines(r.to_value):
        out.add("decline", r.actor, r.external_id, r.at, "declines-by-resolution",
                lambda name: f"set the resolution of {ticket.key} to {r.to_value} by {name} on {_day(r.at)}, "
                             "no status change recorded")
    else:
        out.add("resolve", r.actor, r.external_id, r.at, "resolves-by-resolution",
                lambda name: f"set the resolution of {ticket.key} to {r.to_value} by {name} on {_day(r.at)}, "
                             "no status change recorded")


def _investigator(
    ticket: Ticket,
    transitions: list[tuple[int, Event, str | None, str | None]],
    assigns: list[Event],
    phase: Callable[[str | None], str | None],
    out: _Collector,
) -> None:
    """Credit whoever was assigned when a defect's investigation ended.

    The investigation ends when the ticket first leaves the investigate phase for a mapped
    status of another phase; a ticket that never had an investigate-phase status is taken
    to be investigated up to its first move into development.
    """
    trigger: Event | None = None
    had_investigate = phase(ticket.status) == "investigate"
    for _, e, source, target in transitions:
        if source == "investigate" or target == "investigate":
            had_investigate = True
        if source == "investigate" and target is not None and target != "investigate":
            trigger = e
            break
    if trigger is None and not had_investigate:
        trigger = next((e for _, e, _, target in transitions if target == "develop"), None)
    if trigger is None:
        return

    # Assignee in effect just before the transition: changes made at the same instant (one
    # Jira changelog entry can carry both) belong to whoever takes over from there.
    if assigns:
        assignee = assigns[0].from_value
        for a in assigns:
            if a.at >= trigger.at:
                break
            assignee = a.to_value
    else:
        assignee = ticket.assignee

    t = trigger
    if assignee:
        out.add("investigate", assignee, t.external_id, t.at, "assignee-investigates",
                lambda name: f"assigned ({name}) when {_moved(t)} on {_day(t.at)}")
    else:
        out.add("investigate", t.actor, t.external_id, t.at, "transition-author-investigates",
                lambda name: f"nobody assigned; moved {_moved(t)} by {name} on {_day(t.at)}")


def unmapped_statuses(statuses: Iterable[str | None], phases: PhaseMap) -> list[str]:
    """The distinct status names no mapping covers, sorted case-insensitively."""
    seen = {s for s in statuses if s and phases.phase(s) is None}
    return sorted(seen, key=lambda s: (s.casefold(), s))
