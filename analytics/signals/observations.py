"""What the store hands the signals: counts and person-level rows, by month, partner and project.

Every row names its month ('YYYY-MM'), the partner organisation it belongs to (None when no
partner is involved: such rows count for "all partners" only) and its project. `Scope` picks
the rows of one partner or one project, and `scopes` indexes them by month in one pass, so every figure of a
signal (its series, its recent window, its whole period) reads the same small dictionaries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, NamedTuple


class Count(NamedTuple):
    measure: str
    month: str
    partner: str | None
    project: str
    n: int
    k: int


class Hours(NamedTuple):  # client-reported defects answered after a duration in one bucket
    month: str
    partner: str | None
    project: str
    bucket: int  # analytics.signals.durations
    count: int


class Pair(NamedTuple):  # a partner person and a client person who talked on one ticket
    month: str
    partner: str | None
    project: str
    partner_person: int
    client_person: int


class Commenter(NamedTuple):  # one person's comments in a month: all of them, and the cross-organisation ones
    month: str
    partner: str | None
    project: str
    person: int
    side: str
    comments: int
    cross: int


class Newcomer(NamedTuple):  # a partner person's first 60 days
    month: str
    partner: str | None
    project: str
    person: int
    contacts: int
    days_to_first_resolve: float | None


@dataclass
class Observations:
    months: list[str]
    counts: list[Count] = field(default_factory=list)
    hours: list[Hours] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    commenters: list[Commenter] = field(default_factory=list)
    newcomers: list[Newcomer] = field(default_factory=list)
    declared: dict[str, str] = field(default_factory=dict)
    roles: dict[str, dict[str, int]] = field(default_factory=dict)  # attributed acts by role and side



class Scope:
    """The rows of one partner, one project, or all, indexed by month (`scopes` fills them)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], list[int]] = {}
        self.hours: dict[str, dict[int, int]] = {}  # month -> duration bucket -> defects
        self.pairs: dict[str, list[Pair]] = {}
        self.commenters: dict[str, list[Commenter]] = {}
        self.newcomers: dict[str, list[Newcomer]] = {}

    def count(self, measure: str, months: Iterable[str]) -> tuple[int, int]:
        n = k = 0
        for month in months:
            cell = self.counts.get((measure, month))
            if cell:
                n, k = n + cell[0], k + cell[1]
        return n, k


def scopes(obs: Observations) -> tuple[Scope, dict[str, Scope], dict[str, Scope]]:
    """All rows, the rows of each partner and of each project: one pass over the rows."""
    everything = Scope()
    partners: dict[str, Scope] = {}
    projects: dict[str, Scope] = {}

    def targets(row: Count | Hours | Pair | Commenter | Newcomer) -> tuple[Scope, ...]:
        project = projects.get(row.project) or projects.setdefault(row.project, Scope())
        if row.partner is None:
            return (everything, project)
        partner = partners.get(row.partner) or partners.setdefault(row.partner, Scope())
        return (everything, partner, project)

    for c in obs.counts:
        for scope in targets(c):
            cell = scope.counts.setdefault((c.measure, c.month), [0, 0])
            cell[0] += c.n
            cell[1] += c.k
    for h in obs.hours:
        for scope in targets(h):
            buckets = scope.hours.setdefault(h.month, {})
            buckets[h.bucket] = buckets.get(h.bucket, 0) + h.count
    for name in ("pairs", "commenters", "newcomers"):
        for row in getattr(obs, name):
            for scope in targets(row):
                getattr(scope, name).setdefault(row.month, []).append(row)
    return everything, dict(sorted(partners.items())), dict(sorted(projects.items()))
