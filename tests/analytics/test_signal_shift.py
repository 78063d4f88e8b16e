"""Change detection on monthly binomial counts: finds real shifts, stays quiet on steady data."""
from __future__ import annotations

import random

import pytest

from analytics.signals.shift import find_shift

MONTHS = [f"{2025 + i // 12}-{i % 12 + 1:02d}" for i in range(18)]


def series(rng: random.Random, shares: list[float], low: int = 20, high: int = 120) -> tuple[list[int], list[int]]:
    n = [rng.randint(low, high) for _ in shares]
    k = [sum(rng.random() < p for _ in range(nn)) for nn, p in zip(n, shares)]
    return n, k


def test_finds_the_month_a_share_jumped() -> None:
    rng = random.Random(1)
    n, k = series(rng, [0.2] * 9 + [0.75] * 9)
    shift = find_shift(MONTHS, n, k)
    assert shift is not None and shift.month == "2025-10"
    assert shift.before < 0.3 < 0.65 < shift.after and shift.p_value < 1e-6


@pytest.mark.parametrize("overdispersed", [False, True], ids=["binomial-noise", "month-to-month-drift"])
def test_steady_data_rarely_reports_a_shift(overdispersed: bool) -> None:
    """Over 400 steady series (pure binomial noise, and months whose true share wobbles by
    ±0.06 as real teams do), the test may false-alarm in about 1 % at alpha 0.01, never often."""
    alarms = 0
    for seed in range(400):
        rng = random.Random(seed)
        shares = [min(0.95, max(0.05, rng.gauss(0.45, 0.06))) if overdispersed else 0.45 for _ in MONTHS]
        n, k = series(rng, shares, 100, 400)
        alarms += find_shift(MONTHS, n, k) is not None
    assert alarms <= 8, f"{alarms} false alarms in 400 steady series"


def test_finds_most_real_shifts_of_moderate_size() -> None:
    found = sum(find_shift(MONTHS, *series(random.Random(seed), [0.35] * 8 + [0.6] * 10)) is not None
                for seed in range(100))
    assert found >= 90


def test_too_few_months_or_empty_months() -> None:
    assert find_shift(MONTHS[:3], [10, 10, 10], [0, 10, 10]) is None  # needs two months each side
    n = [0] * 18
    assert find_shift(MONTHS, n, n) is None
    # Months without acts are skipped, not read as a share of zero.
    n = [50, 0, 50, 0, 50, 0, 50, 0, 50, 50, 0, 50, 0, 50, 0, 50, 0, 50]
    k = [25 if x else 0 for x in n]
    assert find_shift(MONTHS, n, k) is None
