from __future__ import annotations

import pytest

from analytics.attribution import ROLES
from analytics.scorecard import AREAS, Thresholds, assess, build_report, wilson


@pytest.mark.parametrize(
    "successes, n, expected",
    [
        # Worked by hand from centre ± half-width, z = 1.96 (z² = 3.8415).
        pytest.param(8, 10, (0.4902, 0.9433), id="8-of-10"),
        pytest.param(5, 10, (0.2366, 0.7634), id="5-of-10"),
        pytest.param(0, 10, (0.0, 0.2775), id="0-of-10"),
        pytest.param(10, 10, (0.7225, 1.0), id="10-of-10"),
        pytest.param(3, 4, (0.3006, 0.9544), id="3-of-4"),
        pytest.param(8, 18, (0.2456, 0.6628), id="8-of-18"),
        pytest.param(0, 0, (0.0, 1.0), id="no-data"),
    ],
)
def test_wilson_interval(successes: int, n: int, expected: tuple[float, float]) -> None:
    low, high = wilson(successes, n)
    assert (round(low, 4), round(high, 4)) == expected
    assert 0.0 <= low <= high <= 1.0


def test_wilson_narrows_with_a_smaller_z() -> None:
    wide, narrow = wilson(8, 10), wilson(8, 10, z=1.0)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


@pytest.mark.parametrize("successes, n", [pytest.param(11, 10, id="more-than-n"), pytest.param(-1, 10, id="negative")])
def test_wilson_refuses_impossible_counts(successes: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson(successes, n)


@pytest.mark.parametrize(
    "partner, client, thresholds, expected",
    [
        pytest.param(7, 3, Thresholds(), "win-win", id="share-at-win-win-boundary"),
        pytest.param(6, 4, Thresholds(), "mixed", id="just-below-win-win"),
        pytest.param(4, 6, Thresholds(), "mixed", id="just-above-win-lose"),
        pytest.param(3, 7, Thresholds(), "win-lose", id="share-at-win-lose-boundary"),
        pytest.param(0, 10, Thresholds(), "win-lose", id="all-client"),
        pytest.param(10, 0, Thresholds(), "win-win", id="all-partner"),
        pytest.param(9, 0, Thresholds(), "insufficient data", id="one-below-min-samples"),
        pytest.param(0, 0, Thresholds(), "insufficient data", id="nothing"),
        pytest.param(1, 0, Thresholds(min_samples=1), "win-win", id="min-samples-one"),
        pytest.param(14, 6, Thresholds(win_win_at=0.7, win_lose_at=0.3, min_samples=20), "win-win", id="70-of-100ths"),
        pytest.param(5, 5, Thresholds(win_win_at=0.5, win_lose_at=0.0), "win-win", id="custom-win-win"),
    ],
)
def test_assess(partner: int, client: int, thresholds: Thresholds, expected: str) -> None:
    assert assess(partner, client, thresholds) == expected


@pytest.mark.parametrize(
    "kwargs, word",
    [
        pytest.param({"win_win_at": 0.3, "win_lose_at": 0.3}, "win_lose_at", id="equal"),
        pytest.param({"win_win_at": 0.2, "win_lose_at": 0.3}, "win_win_at", id="inverted"),
        pytest.param({"win_win_at": 1.2}, "1.2", id="above-one"),
        pytest.param({"win_lose_at": -0.1}, "-0.1", id="below-zero"),
        pytest.param({"min_samples": 0}, "min_samples", id="no-samples"),
        pytest.param({"min_samples": 2.5}, "min_samples", id="fractional-samples"),
        pytest.param({"win_win_at": "0.7"}, "win_win_at", id="string"),
    ],
)
def test_thresholds_are_validated(kwargs: dict, word: str) -> None:
    with pytest.raises(ValueError) as error:
        Thresholds(**kwargs)
    assert word in str(error.value)


def test_threshold_extremes_are_allowed() -> None:
    assert Thresholds(win_win_at=1, win_lose_at=0, min_samples=1).win_win_at == 1


def test_detect_counts_as_quality_assurance_and_decline_and_reopen_in_no_area() -> None:
    assert "detect" in AREAS["quality_assurance"]
    # Every role in exactly one area, but `decline` (declining work resolves nothing) and `reopen`
    # (recorded, but QA evidence only against the side whose close it reopens).
    assert sorted(r for roles in AREAS.values() for r in roles) == sorted(set(ROLES) - {"decline", "reopen"})


def test_build_report_small_case() -> None:
    counts = {
        "specify": {"partner": 3, "client": 1, "unknown": 2},
        "detect": {"partner": 2, "client": 6},
        "test": {"partner": 5, "client": 0, "unknown": 1},
        "accept": {"partner": 1, "client": 4},
        "investigate": {"unknown": 3},
        "improve": {"partner": 1},
        "deploy": {"partner": 8, "client": 2},
    }
    report = build_report(counts, Thresholds())

    assert list(report) == ["roles", "areas"]
    assert list(report["roles"]) == list(ROLES)
    assert report["roles"]["resolve"] == {"partner": 0, "client": 0, "unknown": 0}
    assert report["roles"]["detect"] == {"partner": 2, "client": 6, "unknown": 0}
    assert list(report["areas"]) == list(AREAS)
    assert report["areas"] == {
        "requirements": {"partner": 3, "client": 1, "unknown": 2, "partner_share": 0.75,
                         "low": 0.3006, "high": 0.9544, "assessment": "insufficient data"},
        "quality_assurance": {"partner": 8, "client": 10, "unknown": 1, "partner_share": 0.4444,
                              "low": 0.2456, "high": 0.6628, "assessment": "mixed"},
        "issue_management": {"partner": 0, "client": 0, "unknown": 3, "partner_share": None,
                             "low": None, "high": None, "assessment": "insufficient data"},
        "improvements": {"partner": 1, "client": 0, "unknown": 0, "partner_share": 1.0,
                         "low": 0.2065, "high": 1.0, "assessment": "insufficient data"},
        "deployment": {"partner": 8, "client": 2, "unknown": 0, "partner_share": 0.8,
                       "low": 0.4902, "high": 0.9433, "assessment": "win-win"},
    }


@pytest.mark.parametrize(
    "counts, word",
    [
        pytest.param({"testing": {"partner": 1}}, "testing", id="unknown-role"),
        pytest.param({"test": {"vendor": 1}}, "vendor", id="unknown-side"),
        pytest.param({"test": {"partner": -1}}, "-1", id="negative"),
    ],
)
def test_build_report_refuses_malformed_counts(counts: dict, word: str) -> None:
    with pytest.raises(ValueError) as error:
        build_report(counts, Thresholds())
    assert word in str(error.value)
