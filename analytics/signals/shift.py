"""Where a monthly pattern shifted: one change point in binomial counts, with how sure we are.

The counts of a month are binomial (n acts, k of them by the partner). For each place the series
could split in two (each side at least `MIN_SEGMENT` months with acts), the likelihood-ratio
statistic compares one share for the whole period with one share before and one after. Months
vary more than binomial noise alone in real data (teams, releases, holidays), so the statistic
is divided by the dispersion the two-share model leaves (Pearson's X² over its degrees of
freedom, when above 1) and then read against the F(1, m−2) distribution, else against χ²(1).
Taking the best of many splits would find a "shift" in pure noise, so the p-value is multiplied
by the number of splits tried (Bonferroni). A shift is reported when that p-value is below
`alpha` (default 0.01): steady data reports none in at most about 1 % of series.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

MIN_SEGMENT = 2
DEFAULT_ALPHA = 0.01


@dataclass(frozen=True, slots=True)
class Shift:
    month: str  # the first month of the new pattern
    before: float
    after: float
    p_value: float

    def as_dict(self) -> dict[str, object]:
        return {"month": self.month, "before": round(self.before, 4), "after": round(self.after, 4),
                "p_value": float(f"{self.p_value:.3g}")}


def _loglik(k: int, n: int) -> float:
    if n == 0 or k == 0 or k == n:
        return 0.0
    p = k / n
    return k * math.log(p) + (n - k) * math.log(1 - p)


def find_shift(months: Sequence[str], n: Sequence[int], k: Sequence[int], alpha: float = DEFAULT_ALPHA) -> Shift | None:
    """The most likely single change in the share k/n, if the test says it is real."""
    points = [(m, nn, kk) for m, nn, kk in zip(months, n, k) if nn > 0]
    count = len(points)
    splits = range(MIN_SEGMENT, count - MIN_SEGMENT + 1)
    if not splits:
        return None
    total_n, total_k = sum(p[1] for p in points), sum(p[2] for p in points)
    whole = _loglik(total_k, total_n)
    best, best_at = -1.0, 0
    left_n = left_k = 0
    for i, (_, nn, kk) in enumerate(points):
        if i in splits:
            stat = 2 * (_loglik(left_k, left_n) + _loglik(total_k - left_k, total_n - left_n) - whole)
            if stat > best:
                best, best_at = stat, i
        left_n, left_k = left_n + nn, left_k + kk
    before_n = sum(p[1] for p in points[:best_at])
    before_k = sum(p[2] for p in points[:best_at])
    p_before, p_after = before_k / before_n, (total_k - before_k) / (total_n - before_n)
    from scipy.special import chdtrc, fdtrc  # the survival functions of χ² and F; imported when needed

    dispersion = _dispersion(points, best_at, p_before, p_after)
    if dispersion > 1:
        p_value = float(fdtrc(1, count - 2, best / dispersion))
    else:
        p_value = float(chdtrc(1, max(best, 0.0)))
    p_value = min(1.0, p_value * len(splits))
    if p_value >= alpha:
        return None
    return Shift(points[best_at][0], p_before, p_after, p_value)


def _dispersion(points: Sequence[tuple[str, int, int]], at: int, p_before: float, p_after: float) -> float:
    """Pearson's X² of the two-share model over its degrees of freedom."""
    df = len(points) - 2
    if df < 1:
        return 1.0
    x2 = 0.0
    for i, (_, nn, kk) in enumerate(points):
        p = p_before if i < at else p_after
        if 0 < p < 1:
            x2 += (kk - nn * p) ** 2 / (nn * p * (1 - p))
    return x2 / df
