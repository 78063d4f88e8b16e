"""The store's side of the signals: their facts, aggregated for one report's filters.

Counts are summed in the database by measure, month, partner and project; the person-level
rows (pairs, commenters, newcomers) come grouped as far as the database can take them. Facts
that name no partner (a ticket no partner person acted on) are given to the partner that
carries most of that project's acts, so a client doing everything alone still counts against
the partner of that project; with no partner in the project they count for "all partners".
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from analytics.signals.build import build_signals
from analytics.signals.months import month_range
from analytics.signals.observations import Commenter, Count, Hours, Newcomer, Observations, Pair
from service.config import Config
from service.store.sql import ATTRIBUTIONS, FACTS

NEWCOMER_AFTER = timedelta(days=60)  # a first act this long after the data begins is a newcomer's
ONBOARDING = timedelta(days=60)  # a newcomer's first days
PERSON_MEASURES = ("comment_pair", "contact", "comment", "first_act", "first_response", "escaped_defect")


def signals_report(session: Session, config: Config, project: str | None, where: list[Any]) -> dict[str, Any]:
    """`signals` of the report for acts matching `where` (conditions on FACTS.c.at) and `project`."""
    settings = config.signals
    obs = observations(session, project, where)
    obs.declared = dict(settings.declared)
    return build_signals(obs, settings.signals, settings.recent_months, settings.shift_alpha)


def observations(session: Session, project: str | None, where: list[Any]) -> Observations:
    f = FACTS.c
    scope = list(where) + ([f.project == project] if project else [])
    first, last = session.execute(select(func.min(f.month), func.max(f.month)).where(*scope)).one()
    if first is None:
        return Observations(months=[])
    obs = Observations(months=month_range(first, last))
    rows = session.execute(
        select(f.measure, f.month, f.partner, f.project, func.sum(f.n), func.sum(f.k))
        .where(*scope, f.measure.not_in(PERSON_MEASURES))
        .group_by(f.measure, f.month, f.partner, f.project))
    obs.counts = [Count(*r) for r in rows]
    main = _main_partners(obs.counts)
    obs.counts += _escaped_defects(session, scope)
    obs.counts += [Count("first_response", r.month, r.partner, r.project, 1, r.k) for r in session.execute(
        select(f.month, f.partner, f.project, f.k).where(*scope, f.measure == "first_response"))]
    obs.hours = [Hours(r.month, r.partner, r.project, r.x) for r in session.execute(
        select(f.month, f.partner, f.project, f.x).where(*scope, f.measure == "first_response"))]
    obs.pairs = [Pair(*r) for r in session.execute(
        select(f.month, f.partner, f.project, f.person_id, f.other_person_id)
        .where(*scope, f.measure == "comment_pair").distinct())]
    obs.commenters = [Commenter(*r) for r in session.execute(
        select(f.month, f.partner, f.project, f.person_id, f.side, func.count(), func.sum(f.k))
        .where(*scope, f.measure == "comment")
        .group_by(f.month, f.partner, f.project, f.person_id, f.side))]
    obs.newcomers = _newcomers(session, scope)
    _give_partners(obs, main)
    return obs


def _main_partners(counts: Iterable[Count]) -> dict[str, str]:
    """Per project, the partner with the most counted acts."""
    totals: dict[tuple[str, str], int] = {}
    for c in counts:
        if c.partner is not None and c.measure.startswith("area:"):
            totals[(c.project, c.partner)] = totals.get((c.project, c.partner), 0) + c.n
    main: dict[str, str] = {}
    for (project, partner), n in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        main.setdefault(project, partner)
    return main


def _give_partners(obs: Observations, main: dict[str, str]) -> None:
    for name in ("counts", "hours", "pairs", "commenters", "newcomers"):
        rows = getattr(obs, name)
        setattr(obs, name, [r._replace(partner=main.get(r.project)) if r.partner is None else r for r in rows])


def _escaped_defects(session: Session, scope: list[Any]) -> list[Count]:
    """Defects by who reported them, counted once the partner had resolved or deployed work in
    the project: a defect the client reports after that escaped the partner's testing."""
    f = FACTS.c
    first_delivery = (
        select(f.project.label("project"), func.min(f.at).label("at"))
        .where(f.measure == "client_reopen")  # every close by a partner person
        .group_by(f.project).subquery())
    rows = session.execute(
        select(f.month, f.partner, f.project, func.sum(f.n), func.sum(f.k))
        .join(first_delivery, and_(first_delivery.c.project == f.project, f.at > first_delivery.c.at))
        .where(*scope, f.measure == "escaped_defect")
        .group_by(f.month, f.partner, f.project))
    return [Count("escaped_defect", *r) for r in rows]


def _newcomers(session: Session, scope: list[Any]) -> list[Newcomer]:
    """Partner people whose first act comes `NEWCOMER_AFTER` or more after the data begins, with
    the distinct client people they met in their first `ONBOARDING` days and the days to their
    first resolved ticket."""
    f = FACTS.c
    began = session.scalar(select(func.min(f.at)).where(f.measure == "first_act"))
    if began is None:
        return []
    firsts = (select(f.person_id, func.min(f.at).label("first")).where(f.measure == "first_act", f.side == "partner")
              .group_by(f.person_id).subquery())
    starts: dict[int, datetime] = {}
    where: dict[int, tuple[str, str | None, str]] = {}
    for person, first in session.execute(select(firsts.c.person_id, firsts.c.first)
                                         .where(firsts.c.first >= began + NEWCOMER_AFTER)):
        starts[person] = first
    if not starts:
        return []
    for row in session.execute(select(f.person_id, f.at, f.month, f.partner, f.project)
                               .where(*scope, f.measure == "first_act", f.person_id.in_(list(starts)))):
        if row.at == starts[row.person_id]:
            where[row.person_id] = (row.month, row.partner, row.project)
    contacts: dict[int, set[int]] = {p: set() for p in where}
    for person, other, at in session.execute(select(f.person_id, f.other_person_id, f.at)
                                             .where(f.measure == "contact", f.person_id.in_(list(where)))):
        if at <= starts[person] + ONBOARDING:
            contacts[person].add(other)
    resolved = dict(session.execute(
        select(ATTRIBUTIONS.c.person_id, func.min(ATTRIBUTIONS.c.at))
        .where(ATTRIBUTIONS.c.role == "resolve", ATTRIBUTIONS.c.person_id.in_(list(where)))
        .group_by(ATTRIBUTIONS.c.person_id)).all())
    out = []
    for person, (month, partner, project) in where.items():
        done = resolved.get(person)
        days = (done - starts[person]).total_seconds() / 86400 if done is not None else None
        out.append(Newcomer(month, partner, project, person, len(contacts[person]), days))
    return out

