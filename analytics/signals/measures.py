"""Each signal's figures over a set of months in one scope: a rate with its Wilson interval, a
median, or a person-level figure. Every figure is a dict with `value`, `low`, `high` and `n`
(the observations it rests on); intervals exist for rates only."""
from __future__ import annotations

from statistics import median
from typing import Any, Iterable, Sequence

from analytics.scorecard import wilson
from analytics.signals.durations import quantile
from analytics.signals.observations import Scope

Figure = dict[str, Any]


def rate(scope: Scope, measure: str, months: Iterable[str]) -> Figure:
    n, k = scope.count(measure, months)
    if not n:
        return {"value": None, "low": None, "high": None, "n": 0}
    low, high = wilson(k, n)
    return {"value": round(k / n, 4), "low": round(low, 4), "high": round(high, 4), "n": n}


def response_hours(scope: Scope, months: Sequence[str]) -> Figure:
    """Median and 90th percentile hours to the partner's first response on client-reported defects
    (from duration buckets: within 4.4 %, usually 2 %); `unanswered` counts those not answered yet."""
    counts: dict[int, int] = {}
    for m in months:
        for index, count in scope.hours.get(m, {}).items():
            counts[index] = counts.get(index, 0) + count
    n, k = scope.count("first_response", months)
    median, p90 = quantile(counts, 0.5), quantile(counts, 0.9)
    return {"median": None if median is None else round(median, 2), "p90": None if p90 is None else round(p90, 2),
            "n": sum(counts.values()), "unanswered": n - k}


def communication(scope: Scope, months: Sequence[str]) -> Figure:
    """Distinct partner-client pairs per person who commented, over the months together: the
    edges of the cross-organisation comment graph over its people."""
    active = {(c.side, c.person) for m in months for c in scope.commenters.get(m, ()) if c.comments}
    if not active:
        return {"value": None, "low": None, "high": None, "n": 0}
    # Partner and client people are the graph's two sides, so its edges are the distinct pairs.
    edges = len({(p.partner_person, p.client_person) for m in months for p in scope.pairs.get(m, ())})
    return {"value": round(edges / len(active), 4), "low": None, "high": None, "n": len(active)}


def gatekeepers(scope: Scope, months: Sequence[str]) -> Figure:
    """The share of cross-organisation comments made by the two busiest people of each side."""
    per_person: dict[tuple[str, int], int] = {}
    for m in months:
        for c in scope.commenters.get(m, ()):
            if c.cross:
                per_person[(c.side, c.person)] = per_person.get((c.side, c.person), 0) + c.cross
    total = sum(per_person.values())
    if not total:
        return {"value": None, "low": None, "high": None, "n": 0}
    top = 0
    for side in ("client", "partner"):
        top += sum(sorted((v for (s, _), v in per_person.items() if s == side), reverse=True)[:2])
    return {"value": round(top / total, 4), "low": None, "high": None, "n": total}


def onboarding(scope: Scope, months: Sequence[str]) -> Figure:
    rows = [r for m in months for r in scope.newcomers.get(m, ())]
    if not rows:
        return {"value": None, "low": None, "high": None, "n": 0}
    return {"value": round(sum(r.contacts for r in rows) / len(rows), 4), "low": None, "high": None, "n": len(rows)}


def days_to_first_resolve(scope: Scope, months: Sequence[str]) -> Figure:
    rows = [r for m in months for r in scope.newcomers.get(m, ())]
    days = [r.days_to_first_resolve for r in rows if r.days_to_first_resolve is not None]
    return {"median": round(median(days), 2) if days else None, "n": len(days), "never": len(rows) - len(days)}
