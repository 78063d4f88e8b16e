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
from typing import Any, Collection, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.scorecard import AREAS
from analytics.signals.build import build_signals
from analytics.signals.months import month_of, month_range
from analytics.signals.observations import Commenter, Count, Hours, Newcomer, Observations, Pair
from service.config import Config
from service.store.rollups import DAYS, PER_PAIR, PER_PERSON, ROLLUPS

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
    rows = list(monthly_sums(session, project, since, until))
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


def monthly_sums(session: Session, project: str | None, since: date | None, until: date | None,
                 measures: Collection[str] | None = None) -> Iterable[Row]:
    """The sums by month for acts from `since` to `until` in `project` (of `measures` only, when
    given): whole months from `signal_rollups`, a month the dates cut from `signal_days`."""
    r = ROLLUPS.c
    first = month_of(since) if since else None
    last = month_of(until) if until else None
    cut_first = since is not None and since.day != 1
    cut_last = until is not None and until != date.max and until.day != monthrange(until.year, until.month)[1]
    where = [r.project == project] if project else []
    if measures is not None:
        where.append(r.measure.in_(sorted(measures)))
    if first:
        where.append(r.month > first if cut_first else r.month >= first)
    if last:
        where.append(r.month < last if cut_last else r.month <= last)
    if not (cut_first and cut_last and first == last):
        yield from session.execute(select(r.measure, r.month, r.partner, r.project, r.side, r.person_id,
                                          r.other_person_id, r.n, r.k, r.c).where(*where)).all()
    for month in sorted({m for m, is_cut in ((first, cut_first), (last, cut_last)) if is_cut and m}):
        lo = since.isoformat() if since and month == first else f"{month}-01"
        hi = until.isoformat() if until and month == last and cut_last else f"{month}-31"
        yield from _day_sums(session, project, month, lo, hi, measures)


def _day_sums(session: Session, project: str | None, month: str, lo: str, hi: str,
              measures: Collection[str] | None) -> Iterable[Row]:
    """One month's sums from the days `lo` to `hi` ('YYYY-MM-DD', both included)."""
    d = DAYS.c
    columns = (d.measure, d.partner, d.project, d.side, d.person_id, d.other_person_id)
    where = [d.day >= lo, d.day <= hi, *([d.project == project] if project else [])]
    if measures is not None:
        where.append(d.measure.in_(sorted(measures)))
    for measure, partner, proj, side, person, other, n, k, c in session.execute(
            select(*columns, func.sum(d.n), func.sum(d.k), func.sum(d.c)).where(*where).group_by(*columns)):
        yield (measure, month, partner, proj, side, person, other, int(n), int(k), int(c))


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
    """Partner people whose first act comes `NEWCOMER_AFTER` or more after the data begins (both
    by UTC day), with the distinct client people they met in their first `ONBOARDING` days and
    the days to their first resolved ticket; those whose first act is in the filtered range and
    project. The monthly sums name the candidates, the daily sums give their days."""
    d, r = DAYS.c, ROLLUPS.c
    first_months = dict(session.execute(select(r.person_id, func.min(r.month))
                                        .where(r.measure == "first_act", r.side == "partner").group_by(r.person_id)).all())
    if not first_months:
        return []
    began_month = min(first_months.values())
    began = date.fromisoformat(session.scalar(select(func.min(d.day)).where(
        d.measure == "first_act", d.day >= f"{began_month}-01", d.day <= f"{began_month}-31")))
    lo, hi = (since or date.min), (until or date.max)
    candidates = {p: m for p, m in first_months.items()
                  if m > began_month and month_of(lo) <= m <= month_of(hi)}
    if not candidates:
        return []
    people = sorted(candidates)
    firsts: dict[int, tuple[date, str, str]] = {}
    for person, day, partner, proj in session.execute(
            select(d.person_id, d.day, d.partner, d.project)
            .where(d.measure == "first_act", d.person_id.in_(people),
                   d.day >= f"{min(candidates.values())}-01", d.day <= f"{max(candidates.values())}-31")
            .order_by(d.person_id, d.day, d.project, d.partner)):
        if day[:7] == candidates[person] and person not in firsts:
            firsts[person] = (date.fromisoformat(day), partner, proj)
    firsts = {p: f for p, f in firsts.items()
              if f[0] >= began + NEWCOMER_AFTER and lo <= f[0] <= hi and (not project or f[2] == project)}
    if not firsts:
        return []
    people = sorted(firsts)
    met: dict[int, set[int]] = {p: set() for p in people}
    start, end = min(f[0] for f in firsts.values()), max(f[0] for f in firsts.values()) + ONBOARDING
    for person, day, other in session.execute(
            select(d.person_id, d.day, d.other_person_id)
            .where(d.measure.in_(("contact", "comment_pair")), d.person_id.in_(people),
                   d.day >= start.isoformat(), d.day <= end.isoformat())):
        if firsts[person][0] <= date.fromisoformat(day) <= firsts[person][0] + ONBOARDING:
            met[person].add(other)
    resolved = dict(session.execute(select(d.person_id, func.min(d.day))
                                    .where(d.measure == "role:resolve", d.person_id.in_(people)).group_by(d.person_id)).all())
    out = []
    for person in people:
        day, partner, proj = firsts[person]
        done = resolved.get(person)
        days = float((date.fromisoformat(done) - day).days) if done else None
        out.append(Newcomer(month_of(day), partner or None, proj, person, len(met[person]), days))
    return out
