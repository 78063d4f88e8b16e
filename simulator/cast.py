"""Who is around when, on which side, and the scenario's working clock.

`Cast.share(role, t)` is the partner's probability of performing that kind of act at time t:
a logistic curve that flips around the middle of the period, so the demo moves from a
win-lose pattern (the client tests, deploys, specifies) to a win-win one (the partner does).
It is a probability, not a rule, so the numbers look like real data.

A steady cast (`shift=False`) is the control: every role's share is the midpoint of its two
halves all period long, so the data holds the same mix of both sides as the shifting one, but
no change for change detection to find. People still come and go (the mover, the second
tester): they fill a side's slot, while the side itself is drawn by the share.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from random import Random

from simulator.people import CLIENT, MOVE, PARTNER, PEOPLE, Person

DAY, HOUR = 86400, 3600
_FOREVER = 2**62

# role: (partner share in the first half, in the second half)
SHIFT = {
    "detect": (0.2, 0.75), "incident": (0.1, 0.4), "specify": (0.1, 0.4), "cospec": (0.2, 0.8),
    "improve": (0.15, 0.75), "prioritise": (0.2, 0.55), "investigate": (0.25, 0.85), "test": (0.15, 0.85),
    "accept": (0.1, 0.6), "deploy": (0.15, 0.85), "close": (0.3, 0.7), "comment": (0.4, 0.6),
    "interfere": (0.75, 0.95),  # here "partner" means the client leaves partner-owned work alone
}


class Cast:
    """Who is around at a time, and on which side, for one scenario period."""

    def __init__(self, start: int, end: int, move: int, shift: bool = True) -> None:
        self.start, self.end = start, end
        self.mid = (start + end) / 2
        self.width = max((end - start) / 40, HOUR)  # how quickly the shift happens around the middle
        self._stints: list[tuple[Person, int, int, str]] = []
        for person in PEOPLE:
            for lo, hi, side in person.stints:
                # A stint to the end of the period lasts beyond it: lives are played past the end.
                until = _FOREVER if hi == 1.0 else move if hi == MOVE else start + int(hi * (end - start))
                since = move if lo == MOVE else start + int(lo * (end - start))
                self._stints.append((person, since, until, side))
        self._bounds = sorted({b for _, lo, hi, _ in self._stints for b in (lo, hi)})
        self._pools: dict[tuple[int, str, str], tuple[list[Person], list[float]]] = {}
        # The shift is a logistic curve around the middle, tabulated per hour: it is read for every act.
        self._curve: list[float] | None = None
        if shift:
            hours = (end - start) // HOUR + 1
            self._curve = [1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, (start + h * HOUR - self.mid) / self.width))))
                           for h in range(hours)]

    def share(self, role: str, t: int) -> float:
        """The partner's probability of performing `role` at time `t`."""
        lo, hi = SHIFT[role]
        curve = self._curve
        if curve is None:
            return (lo + hi) / 2  # steady: the midpoint, before, during and after the period
        hour = (t - self.start) // HOUR
        if not 0 <= hour < len(curve):
            return lo if hour < 0 else hi
        return lo + (hi - lo) * curve[hour]

    def side(self, rng: Random, role: str, t: int) -> str:
        return PARTNER if rng.random() < self.share(role, t) else CLIENT

    def side_of(self, person: Person | None, t: int) -> str | None:
        """The side `person` acts for at `t`, None when not around (or unaffiliated bot)."""
        for p, lo, hi, side in self._stints:
            if p is person and lo <= t < hi:
                return side
        return None

    def _pool(self, role: str, side: str, t: int) -> tuple[list[Person], list[float]]:
        era = bisect_right(self._bounds, t)
        key = (era, role, side)
        pool = self._pools.get(key)
        if pool is None:
            # Everyone's stints start and end on a bound, so the era's first second speaks for it.
            at = self._bounds[max(era - 1, 0)]
            people = [p for p, lo, hi, s in self._stints if s == side and lo <= at < hi and role in p.roles]
            total, cumulative = 0.0, []
            for p in people:
                total += p.weight
                cumulative.append(total)
            pool = self._pools[key] = (people, cumulative)
        return pool

    def pick(self, rng: Random, role: str, side: str, t: int, avoid: Person | None = None) -> Person:
        """A person of `side` who plays `role` at `t` (the other side's when `side` has none)."""
        people, cumulative = self._pool(role, side, t)
        if not people:
            people, cumulative = self._pool(role, CLIENT if side == PARTNER else PARTNER, t)
        total, last = cumulative[-1], len(people) - 1  # `last` guards against rounding up to total
        chosen = people[bisect_right(cumulative, rng.random() * total, 0, last)]
        if chosen is avoid and len(people) > 1:
            chosen = people[bisect_right(cumulative, rng.random() * total, 0, last)]
        return chosen

    def who(self, rng: Random, role: str, t: int, avoid: Person | None = None) -> Person:
        """Draw the side by the shift, then the person."""
        return self.pick(rng, role, self.side(rng, role, t), t, avoid)


def working(t: int, rng: Random) -> int:
    """`t`, or the next working morning (Mon–Fri 07:00–17:00 UTC) when it falls outside."""
    days, seconds = divmod(t, DAY)
    if (days + 3) % 7 < 5 and 7 * HOUR <= seconds < 17 * HOUR:
        return t
    if not ((days + 3) % 7 < 5 and seconds < 7 * HOUR):
        days += 1
    while (days + 3) % 7 >= 5:  # 1970-01-01 was a Thursday
        days += 1
    return days * DAY + 7 * HOUR + int(rng.random() * 3 * HOUR)


def release_slot(t: int, rng: Random) -> int:
    """The next release train after `t`: Tuesdays and Thursdays from 10:00 UTC."""
    days = t // DAY
    while (days + 3) % 7 not in (1, 3) or days * DAY + 10 * HOUR < t + 2 * HOUR:
        days += 1
    return days * DAY + 10 * HOUR + int(rng.random() * HOUR)
