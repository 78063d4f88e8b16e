"""Tickets for the dashboard: a filtered list, and one ticket with its timeline and attributions.

The list answers "which tickets are behind this number": the report's filters (project and the
days of the acts) plus kind, the side and role of an attributed act, and text in the key or
title. A role, side or date filter asks for tickets with an attributed act that matches all of
them at once, the acts the report counts. Pages hold `PAGE` tickets, newest change first, and
say whether more follow rather than counting them all.

Most act filters (an area, a side, a role, recent days) match most tickets: walking the tickets
newest first and asking each for a matching act fills a page after a few dozen lookups, where
gathering every matching act first and sorting their tickets costs a scan of tens of thousands
(110 ms for a role at 100,000 demo tickets on SQLite, against under 1 ms). A rare filter (acts
no organisation covers, an old date range) would walk every ticket that way; its acts are few,
so there the acts name their tickets. The list walks a bounded window of the newest tickets
first and asks the acts only when that window holds too few matches for the page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from analytics.attribution import ROLES
from analytics.scorecard import AREAS
from analytics.scorecard import COUNTED_SIDES as SIDES
from service.store.report import Filters, FilterError
from service.store.sql import ACCOUNT_REF, ACCOUNTS, ATTRIBUTIONS, EVENTS, PEOPLE, TICKETS, within_days
from service.terminal import is_unsafe

PAGE = 50
PAGES = 100_000  # the deepest page a list serves: an offset is walked to, row by row, not jumped to
TEXT_MAX = 200
WINDOW = 40  # newest tickets walked per row the page needs, before the acts are asked instead
# A person by name, else the account by its display name, else by its ref (`jira:5b10…`).
ACTOR = func.coalesce(ACCOUNTS.c.display_name, ACCOUNT_REF)
PERSON = func.coalesce(PEOPLE.c.name, ACTOR)


@dataclass(frozen=True)
class TicketFilters:
    """What the ticket list shows: the report's filters and the list's own."""

    report: Filters = field(default_factory=Filters)
    kind: str | None = None
    side: str | None = None
    role: str | None = None
    area: str | None = None
    text: str | None = None
    partner: str | None = None  # a partner organisation: tickets on which it carried a role
    page: int = 1

    def __post_init__(self) -> None:
        if self.side is not None and self.side not in SIDES:
            raise FilterError(f"'side' must be one of {', '.join(SIDES)}.")
        if self.role is not None and self.role not in ROLES:
            raise FilterError(f"'role' must be one of {', '.join(ROLES)}.")
        if self.area is not None and self.area not in AREAS:
            raise FilterError(f"'area' must be one of {', '.join(AREAS)}.")
        for name, arg in (("kind", "kind"), ("text", "q")):  # named in the message as the URL names them
            value = getattr(self, name)
            if value is not None and (len(value) > TEXT_MAX or any(map(is_unsafe, value))):  # as 'project' is checked
                raise FilterError(f"'{arg}' must be at most {TEXT_MAX} characters without control characters.")
        if not 1 <= self.page <= PAGES:
            raise FilterError(f"'page' must be a whole number from 1 to {PAGES}.")


@dataclass(frozen=True)
class TicketRow:
    id: int
    key: str
    title: str
    kind: str
    status: str
    project: str
    updated: datetime


def ticket_conditions(chosen: TicketFilters) -> list[Any]:
    """The filters on the ticket itself: its project, kind, text and a partner that acted on it."""
    t = TICKETS.c
    where: list[Any] = []
    if chosen.report.project:
        where.append(t.project == chosen.report.project)
    if chosen.kind:
        where.append(t.kind == chosen.kind)
    if chosen.text:
        pattern = "%" + chosen.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(or_(t.key == chosen.text, t.title.ilike(pattern, escape="\\")))
    if chosen.partner:
        theirs = ATTRIBUTIONS.alias("theirs")
        where.append(exists().where(theirs.c.ticket_id == t.id, theirs.c.organisation == chosen.partner))
    return where


def act_conditions(chosen: TicketFilters) -> list[Any]:
    """The filters on an attributed act: its days, side, role and area."""
    a = ATTRIBUTIONS.c
    acts = [*within_days(a.at, chosen.report.since, chosen.report.until)]
    if chosen.side:
        acts.append(a.side == chosen.side)
    if chosen.role:
        acts.append(a.role == chosen.role)
    if chosen.area:
        acts.append(a.role.in_(AREAS[chosen.area]))
    return acts


def ticket_list(session: Session, chosen: TicketFilters) -> tuple[list[TicketRow], bool]:
    """One page of tickets (newest change first) and whether another page follows."""
    t, a = TICKETS.c, ATTRIBUTIONS.c
    where: list[Any] = [t.deleted_at.is_(None), *ticket_conditions(chosen)]
    acts = act_conditions(chosen)
    columns = (t.id, t.key, t.title, t.kind, t.status, t.project, t.updated)
    offset = (chosen.page - 1) * PAGE
    rows = _among_the_newest(session, columns, where, acts, offset) if acts else None
    if rows is None:
        if acts:  # few matches near the top: their acts name them, in one set
            where.append(t.id.in_(select(a.ticket_id).where(*acts)))
        rows = session.execute(select(*columns).where(*where).order_by(t.updated.desc(), t.id.desc())
                               .offset(offset).limit(PAGE + 1)).all()
    return [TicketRow(*row) for row in rows[:PAGE]], len(rows) > PAGE


def _among_the_newest(session: Session, columns: tuple[Any, ...], where: list[Any], acts: list[Any],
                      offset: int) -> list[Any] | None:
    """The page, walking the newest tickets and asking each for a matching act; None when the
    newest `WINDOW` tickets per row the page needs hold too few matches for it. The window is a
    prefix of the list's own order, so a page found inside it is the page."""
    t, a = TICKETS.c, ATTRIBUTIONS.c
    edge = session.execute(select(t.updated, t.id).order_by(t.updated.desc(), t.id.desc())
                           .offset((offset + PAGE + 1) * WINDOW - 1).limit(1)).first()
    inside = [tuple_(t.updated, t.id) >= tuple_(edge.updated, edge.id)] if edge else []
    rows = session.execute(select(*columns).where(*where, *inside, exists().where(a.ticket_id == t.id, *acts))
                           .order_by(t.updated.desc(), t.id.desc()).offset(offset).limit(PAGE + 1)).all()
    return rows if len(rows) > PAGE or edge is None else None


@dataclass(frozen=True)
class TicketView:
    ticket: Any
    events: list[Any]
    attributions: list[Any]
    link: str | None  # the ticket in its tracker, when its address is a web address
    names: dict[str, str]  # account refs an assignment names -> the person's name


def ticket_view(session: Session, ticket_id: int) -> TicketView | None:
    """A ticket, its timeline (every stored act, oldest first) and its attributions with evidence."""
    t = TICKETS.c
    ticket = session.execute(select(TICKETS).where(t.id == ticket_id)).first()
    if ticket is None:
        return None
    e, a, acc, p = EVENTS.c, ATTRIBUTIONS.c, ACCOUNTS.c, PEOPLE.c
    events = session.execute(select(e.at, e.kind, e.field, e.from_value, e.to_value, ACTOR.label("actor"))
                             .outerjoin(ACCOUNTS, acc.id == e.actor_id).where(e.ticket_id == ticket_id)
                             .order_by(e.at, e.id)).all()
    attributions = session.execute(select(a.role, a.side, a.organisation, a.at, a.rule, a.explanation,
                                          PERSON.label("person"))
                                   .join(ACCOUNTS, acc.id == a.account_id).outerjoin(PEOPLE, p.id == a.person_id)
                                   .where(a.ticket_id == ticket_id).order_by(a.at, a.role)).all()
    url = ticket.url or ""
    link = url if url.startswith(("https://", "http://")) else None  # never javascript: or data:
    return TicketView(ticket, list(events), list(attributions), link, _assignees(session, events))


def _assignees(session: Session, events: Sequence[Any]) -> dict[str, str]:
    """The names of the accounts the ticket's assignments moved between (they hold account refs)."""
    acc = ACCOUNTS.c
    refs = {v for ev in events if ev.kind == "assign" for v in (ev.from_value, ev.to_value) if v}
    if not refs:
        return {}
    return {r: name for r, name in session.execute(select(ACCOUNT_REF, PERSON)
                                                   .outerjoin(PEOPLE, PEOPLE.c.id == acc.person_id)
                                                   .where(ACCOUNT_REF.in_(sorted(refs)))) if name}
