"""From attribution counts to a scorecard: where each responsibility sits, and how sure we are.

A share alone over-reads small samples, so every area carries a Wilson score interval and
an assessment that says "insufficient data" below a minimum number of attributed acts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from analytics.attribution import ROLES

COUNTED_SIDES = ("partner", "client", "unknown")

AREAS: dict[str, tuple[str, ...]] = {
    "requirements": ("specify",),
    # Detection is quality-assurance evidence: a partner that finds the defects before the
    # client does is running the testing, while defects the client detects escaped the
    # partner's testing (the win-lose pattern where the client runs system and acceptance tests).
    # `decline` and `reopen` belong to no area: declining work resolves nothing, and a reopen is
    # QA evidence only when it reopens the other side's resolved work (a migration's admin
    # reopening their own bulk close is none), which needs the closer's side beside it.
    "quality_assurance": ("detect", "test", "accept"),
    "issue_management": ("investigate", "resolve"),
    "improvements": ("improve", "prioritise"),
    "deployment": ("deploy",),
}

_Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = _Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion (95 % by default); (0.0, 1.0) when n is 0."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"wilson needs 0 <= successes <= n, got {successes} of {n}.")
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Thresholds:
    """Where a partner share turns into an assessment, and how many acts it takes to judge."""

    win_win_at: float = 0.7
    win_lose_at: float = 0.3
    min_samples: int = 10

    def __post_init__(self) -> None:
        for name in ("win_win_at", "win_lose_at"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{name} must be a number between 0 and 1, not {value!r}.")
        if isinstance(self.min_samples, bool) or not isinstance(self.min_samples, int):
            raise ValueError(f"min_samples must be a whole number, not {self.min_samples!r}.")
        if not 0 <= self.win_lose_at < self.win_win_at <= 1:
            raise ValueError(
                f"the thresholds need 0 <= win_lose_at < win_win_at <= 1; "
                f"got win_lose_at {self.win_lose_at} and win_win_at {self.win_win_at}."
            )
        if self.min_samples < 1:
            raise ValueError(f"min_samples must be at least 1, not {self.min_samples}.")


def assess(partner: int, client: int, t: Thresholds) -> str:
    """"win-win", "win-lose", "mixed", or "insufficient data" for one area's partner/client counts."""
    n = partner + client
    if n < t.min_samples:
        return "insufficient data"
    share = partner / n
    if share >= t.win_win_at:
        return "win-win"
    if share <= t.win_lose_at:
        return "win-lose"
    return "mixed"


def partner_share(partner: int, client: int) -> float | None:
    """The partner's share of the acts either side carried, to four places; None when neither acted."""
    n = partner + client
    return round(partner / n, 4) if n else None


def build_report(role_counts: Mapping[str, Mapping[str, int]], t: Thresholds) -> dict[str, Any]:
    """Counts per role and side, and per area the partner share, its interval and the assessment.

    Acts by unaffiliated people are shown but left out of shares: they are neither side's evidence.
    """
    for role, counts in role_counts.items():
        if role not in ROLES:
            raise ValueError(f"unknown role '{role}' in the counts; roles are {', '.join(ROLES)}.")
        for side, n in counts.items():
            if side not in COUNTED_SIDES:
                raise ValueError(f"unknown side '{side}' for role '{role}'; sides are {', '.join(COUNTED_SIDES)}.")
            if n < 0:
                raise ValueError(f"negative count {n} for role '{role}', side '{side}'.")

    roles = {
        role: {side: int(role_counts.get(role, {}).get(side, 0)) for side in COUNTED_SIDES} for role in ROLES
    }
    areas: dict[str, dict[str, Any]] = {}
    for area, members in AREAS.items():
        partner = sum(roles[r]["partner"] for r in members)
        client = sum(roles[r]["client"] for r in members)
        unknown = sum(roles[r]["unknown"] for r in members)
        n = partner + client
        low, high = wilson(partner, n) if n else (None, None)
        areas[area] = {
            "partner": partner,
            "client": client,
            "unknown": unknown,
            "partner_share": partner_share(partner, client),
            "low": round(low, 4) if low is not None else None,
            "high": round(high, 4) if high is not None else None,
            "assessment": assess(partner, client, t),
        }
    return {"roles": roles, "areas": areas}
