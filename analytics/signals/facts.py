"""One ticket's history as dated facts, the raw material of every signal (`analytics.signals`).

A fact is one countable observation: `n` trials of which `k` succeeded (an act of the partner,
a scope ticket specified together, a comment answered by the other side in time), optionally a
duration `x` in hours, the people it concerns, and the partner organisation it belongs to.
Facts are dated by the act they rest on, so months bucket them by the date of the act.

The caller knows who acted for whom: `side_of(account_ref, at)` answers the affiliation at the
time of the act as `(side, organisation)`. Facts about acts by unaffiliated people are kept
with side `unknown` and count in no rate.
"""
from __future__ import annotations

from typing import Sequence

from analytics.attribution import DEFECT_KINDS, PRIORITY_FIELDS, SCOPE_KINDS
from analytics.phases import PhaseMap
from analytics.resolution import CLOSED_PHASES
from analytics.signals.conversation import comment_facts
from analytics.signals.records import (DEVELOPMENT_PHASES, RESPONSE_KINDS, SERVICE_KINDS, SIDES, SPEC_FIELDS, Act,
                                       Attributed, Fact, SideOf, ticket_partner)
from connectors.records import Event, Ticket


def ticket_facts(ticket: Ticket, events: Sequence[Event], attributed: Sequence[Attributed], phases: PhaseMap,
                 side_of: SideOf) -> list[Fact]:
    """Every fact one ticket yields (`analytics.signals.catalog` says which signal reads which
    measure), from its events and its attributions with their sides."""
    ordered = sorted(events, key=lambda e: (e.at, e.external_id))
    acts = [Act(e, *side_of(e.actor, e.at)) for e in ordered if e.actor]
    partner = ticket_partner(acts)
    facts: list[Fact] = []
    for a in attributed:
        facts.append(Fact(f"role:{a.role}", a.at, a.organisation if a.side == "partner" else partner,
                          k=int(a.side == "partner"), n=int(a.side in ("partner", "client")),
                          person=a.actor, side=a.side))
    facts += _focus(ticket, partner)
    facts += _co_specification(ticket, acts, phases, partner)
    facts += _closes_and_reopens(acts, phases)
    facts += _response(ticket, acts, partner)
    facts += _prioritised_together(ticket, acts, partner)
    facts += _both_sides(ticket, acts, partner)
    facts += _interventions(ticket, acts, side_of, partner)
    facts += _first_acts(acts)
    facts += _uncredited(ticket, attributed, phases, partner)
    facts += comment_facts(acts, partner, side_of)
    return facts


def _focus(ticket: Ticket, partner: str | None) -> list[Fact]:
    if ticket.kind in SERVICE_KINDS or ticket.kind in SCOPE_KINDS:
        return [Fact("service_mix", ticket.created, partner, k=int(ticket.kind in SERVICE_KINDS))]
    return []


def _co_specification(ticket: Ticket, acts: Sequence[Act], phases: PhaseMap, partner: str | None) -> list[Fact]:
    """A scope ticket that reached development: did the partner take part before it started?"""
    if ticket.kind not in SCOPE_KINDS:
        return []
    started = next((a.event.at for a in acts if a.event.kind == "transition"
                    and phases.phase(a.event.to_value) in DEVELOPMENT_PHASES), None)
    if started is None:
        return []
    took_part = next((a for a in acts if a.event.at < started and a.side == "partner" and _specifies(a.event)), None)
    return [Fact("co_specification", started, took_part.organisation if took_part else partner, k=int(bool(took_part)))]


def _specifies(e: Event) -> bool:
    if e.kind in ("created", "comment"):
        return True
    return e.kind == "field" and (e.field or "").casefold() in SPEC_FIELDS


def _closes_and_reopens(acts: Sequence[Act], phases: PhaseMap) -> list[Fact]:
    """Each close by a partner person, and whether the client reopened it (before the next close)."""
    facts: list[Fact] = []
    open_close: Act | None = None  # the partner's close that no reopen has answered yet
    for act in acts:
        e = act.event
        if e.kind != "transition":
            continue
        before, after = phases.phase(e.from_value), phases.phase(e.to_value)
        if after in CLOSED_PHASES and before not in CLOSED_PHASES:
            if open_close is not None:
                facts.append(_reopen_fact(open_close, None))
            open_close = act if act.side == "partner" else None
        elif before in CLOSED_PHASES and after is not None and after not in CLOSED_PHASES and open_close is not None:
            facts.append(_reopen_fact(open_close, act))
            open_close = None
    if open_close is not None:
        facts.append(_reopen_fact(open_close, None))
    return facts


def _reopen_fact(close: Act, reopen: Act | None) -> Fact:
    by_client = reopen is not None and reopen.side == "client"
    return Fact("client_reopen", close.event.at, close.organisation, k=int(by_client),
                person=reopen.event.actor if by_client and reopen else None)


def _response(ticket: Ticket, acts: Sequence[Act], partner: str | None) -> list[Fact]:
    """A defect: whether the client reported it (an escaped defect, once the partner delivers in
    the project); and for one the client reported, hours to the partner's first response (comment,
    assignment or transition), `k` 1 when the partner acted on it at all (participation)."""
    if ticket.kind not in DEFECT_KINDS or not acts:
        return []
    reporter = next((a for a in acts if a.event.kind == "created"), None)
    side = reporter.side if reporter else None
    if side is None and ticket.reporter:
        side = next((a.side for a in acts if a.event.actor == ticket.reporter), None)
    facts = [Fact("escaped_defect", ticket.created, partner, k=int(side == "client"))] if side in SIDES else []
    if side != "client":
        return facts
    reported = ticket.created
    first = next((a for a in acts if a.side == "partner" and a.event.kind in RESPONSE_KINDS
                  and a.event.at >= reported), None)
    hours = (first.event.at - reported).total_seconds() / 3600 if first else None
    facts.append(Fact("first_response", reported, first.organisation if first else partner,
                      k=int(first is not None), x=hours))
    if hours is not None:  # summed by duration bucket, for the median and 90th percentile
        facts.append(Fact("response_hours", reported, first.organisation if first else partner, n=0, x=hours))
    return facts


def _prioritised_together(ticket: Ticket, acts: Sequence[Act], partner: str | None) -> list[Fact]:
    if ticket.kind != "improvement":
        return []
    changes = [a for a in acts if a.event.kind == "field" and (a.event.field or "").casefold() in PRIORITY_FIELDS]
    sides = {a.side for a in changes}
    if not changes or not sides & {"client", "partner"}:
        return []
    return [Fact("prioritised_together", changes[0].event.at, partner, k=int({"client", "partner"} <= sides))]


def _both_sides(ticket: Ticket, acts: Sequence[Act], partner: str | None) -> list[Fact]:
    sides = {a.side for a in acts} & {"client", "partner"}
    if not sides:
        return []
    return [Fact("both_sides", ticket.created, partner, k=int(len(sides) == 2))]


def _interventions(ticket: Ticket, acts: Sequence[Act], side_of: SideOf, partner: str | None) -> list[Fact]:
    """Status changes and reassignments on tickets assigned to a partner person: by whom?"""
    facts: list[Fact] = []
    assignee = ticket.assignee if not any(a.event.kind == "assign" for a in acts) else None
    first_assign = next((a for a in acts if a.event.kind == "assign"), None)
    if first_assign is not None:
        assignee = first_assign.event.from_value
    for act in acts:
        e = act.event
        if e.kind in ("transition", "assign") and assignee and act.side in ("client", "partner"):
            owner_side, owner_org = side_of(assignee, e.at)
            if owner_side == "partner":
                facts.append(Fact("intervention", e.at, owner_org, k=int(act.side == "client"),
                                  person=e.actor, side=act.side))
        if e.kind == "assign":
            assignee = e.to_value
    return facts


def _first_acts(acts: Sequence[Act]) -> list[Fact]:
    """Each partner person's first act on the ticket: onboarding reads a newcomer's first act
    from these."""
    facts: list[Fact] = []
    seen: set[str] = set()
    for act in acts:
        e = act.event
        if act.side == "partner" and e.actor not in seen:
            seen.add(e.actor)
            facts.append(Fact("first_act", e.at, act.organisation, n=0, person=e.actor, side=act.side))
    return facts


def _uncredited(ticket: Ticket, attributed: Sequence[Attributed], phases: PhaseMap, partner: str | None) -> list[Fact]:
    """A closed ticket that credits nobody with the close (data quality, not a signal): no
    resolve or decline act. A pull request closed unmerged resolves nothing by design, and a
    deployment is no ticket."""
    if phases.phase(ticket.status) not in CLOSED_PHASES or ticket.kind in ("pull_request", "deployment"):
        return []
    if any(a.role in ("resolve", "decline") for a in attributed):
        return []
    return [Fact("uncredited", ticket.updated, partner, n=0)]
