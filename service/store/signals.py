"""The store's side of the signals: their monthly sums, read for one report's filters.

Whole months come from `signal_rollups` (`service.store.rollups`), so a report costs the same at
any number of tickets; a month the date filters cut in part is summed from its facts. Facts
that name no partner (a ticket no partner person acted on) are given to the partner that
carries most of that project's acts, so a client doing everything alone still counts against
the partner of that project; with no partner in the project they count for "all partners".
"""
from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.scorecard import AREAS
from analytics.signals.build import build_signals
from analytics.signals.months import month_of, month_range
from analytics.signals.observations import Commenter, Count, Hours, Newcomer, Observations, Pair
from service.config import Config
from service.store.rollups import PER_PAIR, PER_PERSON, ROLLUPS, rollup_key
from service.store.sql import FACTS, within_days

NEWCOMER_AFTER = timedelta(days=60)  # a first act this long after the data begins is a newcomer's
ONBOARDING = timedelta(days=60)  # a newcomer's first days
AREA_OF = {role: area for area, roles in AREAS.items() for role in roles}
Row = tuple[str, str, str, str, str, int, int, int, int, int]  # rollup key, n, k, c


def signals_report(session: Session, config: Config, obs: Observations) -> dict[str, Any]:
    """`signals` of the report from the observations of its filters."""
    settings = config.signals
    obs.declared = dict(settings.declared)
    return build_signals(obs, settings.signals, settings.recent_months, settings.shift_alpha)


def observations(session: Session, project: str | None, since: date | None, until: date | None) -> Observations:
    """Everything the signals and the role counts read, for acts from `since` to `until` (days,
    inclusive) in `project`."""
    rows = list(_sums(session, project, since, until))
    if not rows:
        return Observations(months=[])
    months = sorted({r[1] for r in rows})
    obs = Observations(months=month_range(months[0], months[-1]))
    delivered = _first_partner_close(session)
    areas: dict[tuple[str, str, str | None, str], list[int]] = {}
    for measure, month, partner, proj, side, person, other, n, k, c in rows:
        who = partner or None
        if measure.startswith("role:"):
            role = measure[5:]
            counts = obs.roles.setdefault(role, {"partner": 0, "client": 0, "unknown": 0})
            counts[side] = counts.get(side, 0) + c
            area = AREA_OF.get(role)
            if area:
                cell = areas.setdefault((f"area:{area}", month, who, proj), [0, 0])
                cell[0] += n
                cell[1] += k
        elif measure == "response_hours":
            obs.hours.append(Hours(month, who, proj, person, c))
        elif measure == "comment_pair":
            obs.pairs.append(Pair(month, who, proj, person, other))
        elif measure == "comment":
            obs.commenters.append(Commenter(month, who, proj, person, side, c, k))
        elif measure in PER_PAIR or measure in PER_PERSON:
            continue
        elif measure == "escaped_defect":
            if proj in delivered and month > delivered[proj]:
                obs.counts.append(Count(measure, month, who, proj, n, k))
        else:
            obs.counts.append(Count(measure, month, who, proj, n, k))
    obs.counts += [Count(*key, n, k) for key, (n, k) in areas.items()]
    obs.newcomers = _newcomers(session, project, since, until)
    _give_partners(obs, _main_partners(obs.counts))
    return obs


def _sums(session: Session, project: str | None, since: date | None, until: date | None) -> Iterable[Row]:
    """The sums for whole months from the rollups, and for months cut by the filters from the facts."""
    r, f = ROLLUPS.c, FACTS.c
    first = month_of(since) if since else None
    last = month_of(until) if until else None
    cut_first = since is not None and since.day != 1
    cut_last = until is not None and until != date.max and until.day != monthrange(until.year, until.month)[1]
    where = [r.project == project] if project else []
    if first:
        where.append(r.month > first if cut_first else r.month >= first)
    if last:
        where.append(r.month < last if cut_last else r.month <= last)
    if not (cut_first and cut_last and first == last):
        yield from session.execute(select(r.measure, r.month, r.partner, r.project, r.side, r.person_id,
                                          r.other_person_id, r.n, r.k, r.c).where(*where)).all()
    cut = sorted({m for m, is_cut in ((first, cut_first), (last, cut_last)) if is_cut})
    if not cut:
        return
    keep = [f.month.in_(cut), *within_days(f.at, since, until)] + ([f.project == project] if project else [])
    sums: dict[tuple[Any, ...], list[int]] = {}
    for row in session.execute(
            select(f.measure, f.month, f.partner, f.project, f.side, f.person_id, f.other_person_id, f.x,
                   func.sum(f.n), func.sum(f.k), func.count()).where(*keep)
            .group_by(f.measure, f.month, f.partner, f.project, f.side, f.person_id, f.other_person_id, f.x)):
        cell = sums.setdefault(rollup_key(*row[:8]), [0, 0, 0])
        for i in range(3):
            cell[i] += row[8 + i]
    for key, (n, k, c) in sums.items():
        yield (*key, n, k, c)


def _first_partner_close(session: Session) -> dict[str, str]:
    """Per project, the month a partner person first closed work (the `client_reopen` facts are
    the partner's closes): defects reported from the next month on escaped the partner's testing."""
    r = ROLLUPS.c
    return dict(session.execute(select(r.project, func.min(r.month)).where(r.measure == "client_reopen")
                                .group_by(r.project)).all())


def _main_partners(counts: Iterable[Count]) -> dict[str, str]:
    """Per project, the partner with the most counted acts."""
    totals: dict[tuple[str, str], int] = {}
    for c in counts:
        if c.partner is not None and c.measure.startswith("area:"):
            totals[(c.project, c.partner)] = totals.get((c.project, c.partner), 0) + c.n
    main: dict[str, str] = {}
    for (project, partner), _ in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        main.setdefault(project, partner)
    return main


def _give_partners(obs: Observations, main: dict[str, str]) -> None:
    for name in ("counts", "hours", "pairs", "commenters", "newcomers"):
        rows = getattr(obs, name)
        setattr(obs, name, [r._replace(partner=main.get(r.project)) if r.partner is None else r for r in rows])


def _newcomers(session: Session, project: str | None, since: date | None, until: date | None) -> list[Newcomer]:
    """Partner people whose first act comes `NEWCOMER_AFTER` or more after the data begins, with
    the distinct client people they met in their first `ONBOARDING` days and the days to their
    first resolved ticket; those whose first act is in the filtered range and project."""
    f, r = FACTS.c, ROLLUPS.c
    first_month = session.scalar(select(func.min(r.month)).where(r.measure == "first_act"))
    if first_month is None:
        return []
    began = session.scalar(select(func.min(f.at)).where(f.month == first_month, f.measure == "first_act"))
    people = [p for (p,) in session.execute(
        select(r.person_id).where(r.measure == "first_act", r.side == "partner").distinct())]
    lo, hi = (since or date.min), (until or date.max)
    out = []
    for person in people:
        first = session.execute(
            select(f.at, f.month, f.partner, f.project).where(f.measure == "first_act", f.person_id == person)
            .order_by(f.at).limit(1)).first()
        if first is None or first.at < began + NEWCOMER_AFTER or not lo <= first.at.date() <= hi:
            continue
        if project and first.project != project:
            continue
        met = len(set(session.scalars(select(f.other_person_id).where(
            f.measure.in_(("contact", "comment_pair")), f.person_id == person,
            f.at >= first.at, f.at <= first.at + ONBOARDING))))
        resolved = session.scalar(select(func.min(f.at)).where(f.measure == "role:resolve", f.person_id == person))
        days = (resolved - first.at).total_seconds() / 86400 if resolved is not None else None
        out.append(Newcomer(first.month, first.partner, first.project, person, met or 0, days))
    return out
