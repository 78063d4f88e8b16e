"""One area of responsibility month by month: who carried its acts, per project and per partner,
and the people who carried most of them on each side. Counts come from the same monthly sums as
the report's areas, so the page and the report never disagree."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.scorecard import AREAS
from analytics.scorecard import COUNTED_SIDES as SIDES
from analytics.signals.months import month_range
from service.store.memo import remembered
from service.store.report import Filters, act_filters
from service.store.signals import monthly_sums
from service.store.sql import ACCOUNTS, ATTRIBUTIONS, PEOPLE, TICKETS

TOP = 5
NO_PARTNER = "(no partner acted)"


def _sides() -> dict[str, int]:
    return {side: 0 for side in SIDES}


@dataclass
class AreaView:
    months: list[tuple[str, dict[str, int]]] = field(default_factory=list)
    projects: dict[str, dict[str, int]] = field(default_factory=dict)
    partners: dict[str, dict[str, int]] = field(default_factory=dict)
    top: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # side -> (person, acts)


def _series(by_month: dict[str, dict[str, int]]) -> list[tuple[str, dict[str, int]]]:
    """Every month from the first to the last with acts, a month without any at zero."""
    if not by_month:
        return []
    return [(m, by_month.get(m, _sides())) for m in month_range(min(by_month), max(by_month))]


def area_view(session: Session, area: str, chosen: Filters) -> AreaView:
    """The area's page data; remembered while nothing is committed (`service.store.memo`)."""
    return remembered(session, None, ("area", area, chosen), lambda: _area_view(session, area, chosen))


def _area_view(session: Session, area: str, chosen: Filters) -> AreaView:
    roles = {f"role:{r}" for r in AREAS[area]}
    by_month: dict[str, dict[str, int]] = {}
    view = AreaView()
    for _, month, partner, project, side, _, _, _, _, c in monthly_sums(session, chosen.project, chosen.since,
                                                                         chosen.until, roles):
        if side not in SIDES:
            continue
        for table, key in ((by_month, month), (view.projects, project), (view.partners, partner or NO_PARTNER)):
            table.setdefault(key, _sides())[side] += c
    view.months = _series(by_month)
    view.projects = dict(sorted(view.projects.items()))
    view.partners = dict(sorted(view.partners.items()))
    view.top = _top_people(session, area, chosen)
    return view


def area_months(session: Session, chosen: Filters) -> dict[str, list[tuple[str, dict[str, int]]]]:
    """Every area's months as `area_view` gives one area's, from one read of the monthly sums."""
    area_of = {f"role:{r}": area for area, roles in AREAS.items() for r in roles}
    by_area: dict[str, dict[str, dict[str, int]]] = {area: {} for area in AREAS}
    for measure, month, _, _, side, _, _, _, _, c in monthly_sums(session, chosen.project, chosen.since, chosen.until,
                                                                  area_of):
        if side in SIDES:
            by_area[area_of[measure]].setdefault(month, _sides())[side] += c
    return {area: _series(by_month) for area, by_month in by_area.items()}


def _top_people(session: Session, area: str, chosen: Filters) -> dict[str, list[tuple[str, int]]]:
    a, acc, p, t = ATTRIBUTIONS.c, ACCOUNTS.c, PEOPLE.c, TICKETS.c
    where: list[Any] = [a.role.in_(AREAS[area]), *act_filters(chosen)]
    if chosen.project:  # the project's tickets as one set, not a lookup of each act's ticket
        where.append(a.ticket_id.in_(select(t.id).where(t.project == chosen.project)))
    # Grouped in the index's own order (role, side, person), so the database streams the counts
    # rather than sorting every act of the area; the roles are summed here.
    query = select(a.role, a.side, a.person_id, func.count()).where(*where)
    counted: dict[tuple[str, int], int] = {}
    for _, side, person, n in session.execute(query.group_by(a.role, a.side, a.person_id)):
        counted[(side, person)] = counted.get((side, person), 0) + n
    top: dict[str, list[tuple[int, int]]] = {side: [] for side in SIDES}
    for (side, person), n in sorted(counted.items(), key=lambda item: (-item[1], item[0][1])):
        if side in top and len(top[side]) < TOP:
            top[side].append((person, n))
    people = {person for rows in top.values() for person, _ in rows}
    names: dict[int, str] = {}
    for person, name, tracker, external_id in session.execute(
            select(acc.person_id, func.coalesce(p.name, acc.display_name), acc.tracker, acc.external_id)
            .outerjoin(PEOPLE, p.id == acc.person_id).where(acc.person_id.in_(people)).order_by(acc.id)):
        names.setdefault(person, name or f"{tracker}:{external_id}")
    return {side: [(names.get(person, "?"), n) for person, n in rows] for side, rows in top.items()}
