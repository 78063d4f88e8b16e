"""The signals' entries from hand-made observations: windows, series, partners, assessments."""
from __future__ import annotations

from dataclasses import replace

import pytest

from analytics.signals.build import build_signals
from analytics.signals.durations import bucket, quantile
from analytics.signals.catalog import BY_NAME, SIGNALS, Judgement
from analytics.signals.months import month_range
from analytics.signals.observations import Commenter, Count, Hours, Newcomer, Observations, Pair

MONTHS = month_range("2025-01", "2025-12")


def build(obs: Observations, recent: int = 6) -> dict:
    return build_signals(obs, SIGNALS, recent, 0.01)


def test_every_signal_has_the_contract_shape() -> None:
    out = build(Observations(MONTHS, counts=[Count("area:deployment", "2025-03", "Nordlys", "SHOP", 10, 7)]))
    assert list(out) == ["contract_type", "focus", "requirements", "deployment", "quality_assurance",
                         "issue_management", "improvements", "onboarding", "communication", "relationships",
                         "project_management"]
    for name, entry in out.items():
        assert entry["kind"] in ("measured", "proxy", "declared"), name
        for span in ("recent", "whole"):
            assert {"from", "until", "value", "low", "high", "n", "assessment"} <= set(entry[span])
        assert [p["month"] for p in entry["series"]] == MONTHS
        for nested in list(entry["by_partner"].values()) + list(entry["by_project"].values()):
            assert "by_partner" not in nested and "by_project" not in nested
            assert set(nested) == {"kind", "unit", "recent", "whole", "series", "shift"}


def test_recent_window_ends_with_the_newest_month_and_empty_months_are_null() -> None:
    counts = [Count("area:deployment", "2025-01", "Nordlys", "SHOP", 20, 2),
              Count("area:deployment", "2025-12", "Nordlys", "SHOP", 20, 18)]
    entry = build(Observations(MONTHS, counts=counts))["deployment"]
    assert (entry["recent"]["from"], entry["recent"]["until"]) == ("2025-07", "2025-12")
    assert (entry["recent"]["value"], entry["recent"]["n"], entry["recent"]["assessment"]) == (0.9, 20, "win-win")
    assert (entry["whole"]["value"], entry["whole"]["n"], entry["whole"]["assessment"]) == (0.5, 40, "mixed")
    assert entry["series"][5] == {"month": "2025-06", "value": None, "low": None, "high": None, "n": 0}
    assert entry["series"][0]["value"] == 0.1 and entry["series"][0]["low"] < 0.1 < entry["series"][0]["high"]
    three = build(Observations(MONTHS, counts=counts), recent=3)["deployment"]
    assert three["recent"]["from"] == "2025-10"


def test_two_partners_and_projects_each_get_their_own_figures() -> None:
    counts = [Count("area:quality_assurance", "2025-05", "Nordlys", "SHOP", 10, 9),
              Count("area:quality_assurance", "2025-05", "Fjord", "PAY", 10, 1),
              Count("area:quality_assurance", "2025-05", None, "OPS", 5, 0)]
    entry = build(Observations(MONTHS, counts=counts))["quality_assurance"]
    assert entry["whole"]["value"] == round(10 / 25, 4) and entry["whole"]["n"] == 25
    assert entry["by_partner"]["Nordlys"]["whole"]["assessment"] == "win-win"
    assert entry["by_partner"]["Fjord"]["whole"]["assessment"] == "win-lose"
    assert set(entry["by_partner"]) == {"Nordlys", "Fjord"}
    assert entry["by_project"]["OPS"]["whole"]["value"] == 0.0


def test_lower_is_better_and_thresholds_and_declared() -> None:
    counts = [Count("intervention", "2025-05", "Nordlys", "SHOP", 100, 10)]
    out = build_signals(Observations(MONTHS, counts=counts, declared={"contract_type": "SLA with target price"}),
                        SIGNALS, 6, 0.01)
    assert out["project_management"]["whole"]["assessment"] == "win-win"  # 10 % client interventions
    assert out["contract_type"]["whole"]["assessment"] == "declared: SLA with target price"
    assert out["contract_type"]["kind"] == "declared" and out["contract_type"]["shift"] is None
    strict = tuple(replace(s, judgement=Judgement(0.05, 0.08, higher_is_better=False))
                   if s.name == "project_management" else s for s in SIGNALS)
    assert build_signals(Observations(MONTHS, counts=counts), strict, 6, 0.01)[
        "project_management"]["whole"]["assessment"] == "win-lose"
    assert build(Observations(MONTHS))["contract_type"]["whole"]["assessment"] == "not declared"


def test_person_level_signals() -> None:
    obs = Observations(
        MONTHS,
        pairs=[Pair("2025-02", "Nordlys", "SHOP", 1, 10), Pair("2025-02", "Nordlys", "SHOP", 2, 10),
               Pair("2025-03", "Nordlys", "SHOP", 1, 10)],
        commenters=[Commenter("2025-02", "Nordlys", "SHOP", 1, "partner", 5, 5),
                    Commenter("2025-02", "Nordlys", "SHOP", 2, "partner", 1, 1),
                    Commenter("2025-02", "Nordlys", "SHOP", 3, "partner", 1, 1),
                    Commenter("2025-02", "Nordlys", "SHOP", 10, "client", 3, 2)],
        counts=[Count("first_response", "2025-02", "Nordlys", "SHOP", 5, 4)],
        hours=[Hours("2025-02", "Nordlys", "SHOP", bucket(h), 1) for h in (1.0, 2.0, 3.0, 40.0)],
        newcomers=[Newcomer("2025-04", "Nordlys", "SHOP", 7, 4, 12.0), Newcomer("2025-05", "Nordlys", "SHOP", 8, 0, None)],
    )
    out = build(obs)
    whole = out["communication"]["whole"]
    assert (whole["value"], whole["n"]) == (0.5, 4)  # two distinct pairs among four commenters
    assert whole["gatekeeper_share"]["value"] == round((5 + 1 + 2) / 9, 4)
    assert out["communication"]["series"][1]["value"] == 0.5
    hours = out["issue_management"]["whole"]["first_response_hours"]
    assert (hours["n"], hours["unanswered"]) == (4, 1)
    assert hours["median"] == pytest.approx(2.5, rel=0.03) and hours["p90"] == pytest.approx(28.9, rel=0.03)
    onboarding = out["onboarding"]["whole"]
    assert (onboarding["value"], onboarding["n"], onboarding["assessment"]) == (2.0, 2, "insufficient data")
    assert onboarding["days_to_first_resolve"] == {"median": 12.0, "n": 1, "never": 1}


@pytest.mark.parametrize("bad", [dict(win_win_at=0.2, win_lose_at=0.5), dict(win_win_at="x", win_lose_at=0.1),
                                 dict(win_win_at=0.7, win_lose_at=0.3, min_samples=0)])
def test_judgement_refuses_nonsense(bad: dict) -> None:
    with pytest.raises(ValueError):
        Judgement(**bad)


def test_catalog_names_each_behaviour_once() -> None:
    assert len(BY_NAME) == 11 and {s.kind for s in SIGNALS} == {"measured", "proxy", "declared"}


def test_quantiles_from_buckets_stay_within_two_per_cent() -> None:
    import random
    from statistics import quantiles

    rng = random.Random(3)
    for _ in range(50):
        hours = [rng.lognormvariate(1.5, 1.4) for _ in range(rng.randint(20, 2000))]
        counts: dict[int, int] = {}
        for h in hours:
            counts[bucket(h)] = counts.get(bucket(h), 0) + 1
        exact = quantiles(hours, n=10, method="inclusive")
        for q, want in ((0.5, exact[4]), (0.9, exact[8])):
            assert quantile(counts, q) == pytest.approx(want, rel=0.03, abs=0.05)
    assert quantile({}, 0.5) is None
