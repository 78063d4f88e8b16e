"""What the store hands the signals: counts and person-level rows, by month, partner and project.

Every row names its month ('YYYY-MM'), the partner organisation it belongs to (None when no
partner is involved: such rows count for "all partners" only) and its project. `Scope` picks
the rows of one partner or one project, and indexes them by month once, so every figure of a
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

    def partners(self) -> list[str]:
        return sorted({r.partner for r in self._rows() if r.partner is not None})

    def projects(self) -> list[str]:
        return sorted({r.project for r in self._rows()})

    def _rows(self) -> Iterable[Count | Hours | Pair | Commenter | Newcomer]:
        yield from self.counts
        yield from self.hours
        yield from self.pairs
        yield from self.commenters
        yield from self.newcomers


class Scope:
    """The rows of one partner, one project, or all, indexed by month."""

    def __init__(self, obs: Observations, partner: str | None = None, project: str | None = None) -> None:
        def keep(row: Count | Hours | Pair | Commenter | Newcomer) -> bool:
            return (partner is None or row.partner == partner) and (project is None or row.project == project)

        self.counts: dict[tuple[str, str], list[int]] = {}
        for c in obs.counts:
            if keep(c):
                cell = self.counts.setdefault((c.measure, c.month), [0, 0])
                cell[0] += c.n
                cell[1] += c.k
        self.hours = _by_month(r for r in obs.hours if keep(r))
        self.pairs = _by_month(r for r in obs.pairs if keep(r))
        self.commenters = _by_month(r for r in obs.commenters if keep(r))
        self.newcomers = _by_month(r for r in obs.newcomers if keep(r))

    def count(self, measure: str, months: Iterable[str]) -> tuple[int, int]:
        n = k = 0
        for month in months:
            cell = self.counts.get((measure, month))
            if cell:
                n, k = n + cell[0], k + cell[1]
        return n, k


def _by_month(rows: Iterable[NamedTuple]) -> dict[str, list]:  # type: ignore[type-arg]
    out: dict[str, list] = {}  # type: ignore[type-arg]
    for row in rows:
        out.setdefault(row.month, []).append(row)  # type: ignore[attr-defined]
    return out
