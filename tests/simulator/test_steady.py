"""The steady scenario (`shift=False`): every kind of act keeps its partner share all period.

It is the control for change detection, so the test fits the partner share of each kind of act
from the generated JSON on either side of a split, with sides as the configuration gives them
(what the product sees), and asks that the two agree within binomial noise. The same fit on the
default scenario must see the shift, or the test would pass for a measure blind to it. Splits:
the middle of the period, where the default shifts, and the mover's switch of sides.
"""
from __future__ import annotations

import math
from datetime import date
from typing import Any, Callable

import pytest

from simulator.cast import SHIFT
from simulator.scenario import generate

from .conftest import TICKETS
from .test_people import CONFIG, MIDDLE, day_of, partner_share, transitions

MOVED: date = CONFIG["enrollments"][1]["from"]
Rows = list[tuple[str | None, date]]


@pytest.fixture(scope="module")
def steady() -> list[dict[str, Any]]:
    return generate(TICKETS, shift=False)


def moves_from(status: str) -> Callable[[list[dict[str, Any]]], Rows]:
    """Who moved tickets on from `status`: testers out of "In QA", deployers out of "Ready for Release"."""
    return lambda issues: [(ref, day) for old, _new, ref, day in transitions(issues) if old == status]


def moves_to(status: str) -> Callable[[list[dict[str, Any]]], Rows]:
    return lambda issues: [(ref, day) for _old, new, ref, day in transitions(issues) if new == status]


def reporters(type_name: str) -> Callable[[list[dict[str, Any]]], Rows]:
    def rows(issues: list[dict[str, Any]]) -> Rows:
        return [(f"jira:{i['fields']['reporter']['accountId']}" if i["fields"]["reporter"] else None,
                 day_of(i["fields"]["created"])) for i in issues if i["fields"]["issuetype"]["name"] == type_name]
    return rows


# kind of act: how to find it in the JSON, and the role of `simulator.cast.SHIFT` that draws its side
KINDS = [
    pytest.param(moves_from("In QA"), "test", id="testing"),
    pytest.param(moves_from("UAT"), "accept", id="acceptance"),
    pytest.param(moves_from("Ready for Release"), "deploy", id="deploying"),
    pytest.param(moves_to("Triage"), "investigate", id="triage"),
    pytest.param(reporters("Bug"), "detect", id="bugs-detected"),
    pytest.param(reporters("Improvement"), "improve", id="improvements-proposed"),
]


def split(rows: Rows, at: date) -> tuple[tuple[float, int], tuple[float, int]]:
    return (partner_share([r for r in rows if r[1] < at]), partner_share([r for r in rows if r[1] >= at]))


def z_score(before: tuple[float, int], after: tuple[float, int]) -> float:
    """Two-proportion z statistic (pooled): how many standard errors `after` lies above `before`."""
    (p1, n1), (p2, n2) = before, after
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    return (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))


@pytest.mark.parametrize("at", [pytest.param(MIDDLE, id="halves"), pytest.param(MOVED, id="mover-switch")])
@pytest.mark.parametrize("rows, role", KINDS)
def test_steady_shares_agree_before_and_after(steady, rows, role: str, at: date) -> None:
    before, after = split(rows(steady), at)
    assert before[1] > 100 and after[1] > 100
    assert abs(z_score(before, after)) < 3, (before, after)


@pytest.mark.parametrize("rows, role", KINDS)
def test_steady_share_is_the_midpoint_of_the_two_halves(steady, rows, role: str) -> None:
    share, n = partner_share(rows(steady))
    expected = sum(SHIFT[role]) / 2
    # Unaffiliated people drop out of the fit, so allow a little beyond three standard errors.
    assert abs(share - expected) < 3 * math.sqrt(expected * (1 - expected) / n) + 0.02, (share, expected, n)


@pytest.mark.parametrize("rows, role", KINDS)
def test_the_same_fit_sees_the_default_scenario_shift(issues, rows, role: str) -> None:
    before, after = split(rows(issues), MIDDLE)
    assert z_score(before, after) > 5, (before, after)


def test_steady_is_deterministic_and_another_scenario() -> None:
    steady = generate(300, shift=False)
    assert generate(300, shift=False) == steady
    assert steady != generate(300)


@pytest.mark.parametrize("tracker", ["jira", "github"])
def test_the_fake_servers_take_no_shift(tracker: str) -> None:
    from simulator.__main__ import build_parser

    assert build_parser().parse_args([tracker]).shift is True
    assert build_parser().parse_args([tracker, "--no-shift"]).shift is False
