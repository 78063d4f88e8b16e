"""The scorecard's rows as the page draws them: each behaviour of DESIGN.md's table with its two
ends, its figures for the recent window and the whole period (for all partners or the one picked),
a sparkline of its last twelve months, its shift, and where its evidence lies. Drawing only: the
figures come from `analytics.signals` through the report."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from flask import url_for

from analytics.signals.catalog import POLES, SIGNALS, Signal

SPARK_MONTHS, SPARK_WIDTH, SPARK_HEIGHT = 12, 96, 24  # months, pixels


@dataclass(frozen=True)
class Row:
    signal: Signal
    win_lose: str
    win_win: str
    entry: Mapping[str, Any]
    spark: dict[str, Any]
    evidence: str


def rows(signals: Mapping[str, Any], partner: str | None, links: Mapping[str, str]) -> list[Row]:
    """The eleven rows, for `partner` when one is picked (its own figures), else for all partners."""
    out = []
    for signal in SIGNALS:
        entry = signals.get(signal.name)
        if entry is None:
            continue
        entry = for_partner(entry, partner)
        win_lose, win_win = POLES[signal.name]
        out.append(Row(signal, win_lose, win_win, entry, sparkline(entry["series"], signal.unit),
                       _evidence(signal, links)))
    return out


def sparkline(series: list[Mapping[str, Any]], unit: str) -> dict[str, Any]:
    """The last twelve months as an SVG polyline (shares on 0–100 %, other units on their own
    range), with a text equivalent for screen readers; months without a value break the line."""
    months = series[-SPARK_MONTHS:]
    values = [m["value"] for m in months]
    known = [v for v in values if v is not None]
    if unit.endswith("_share"):
        low, high = 0.0, 1.0
    else:
        low, high = (min(known), max(known)) if known else (0.0, 1.0)
    span = (high - low) or 1.0
    step = SPARK_WIDTH / max(len(months) - 1, 1)
    lines: list[list[str]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            if lines[-1]:
                lines.append([])
            continue
        y = SPARK_HEIGHT - 2 - (value - low) / span * (SPARK_HEIGHT - 4)
        lines[-1].append(f"{i * step:.1f},{y:.1f}")
    said = ", ".join(f"{m['month']}: {_said(m['value'], unit)}" for m in months)
    return {"lines": [" ".join(points) for points in lines if points], "width": SPARK_WIDTH,
            "height": SPARK_HEIGHT, "label": f"month by month: {said}" if months else "no months"}


def _said(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    return f"{value * 100:.0f} %" if unit.endswith("_share") else f"{value:.2f}"


def _evidence(signal: Signal, links: Mapping[str, str]) -> str:
    """An area's signal opens its area page (months, sides, people, and from there its tickets);
    the others open the tickets of the filtered range (of the partner picked)."""
    if signal.measure.startswith("area:"):
        return url_for("areas.area_page", name=signal.measure[5:], **links)
    return url_for("tickets.ticket_index", **links)


def for_partner(entry: Mapping[str, Any], partner: str | None) -> Mapping[str, Any]:
    """A signal's entry for `partner` (all partners when None); a partner with no figures for it
    gets the same shape with nothing measured."""
    if partner is None:
        return entry
    return entry["by_partner"].get(partner) or _empty(entry)


def _empty(entry: Mapping[str, Any]) -> dict[str, Any]:
    blank = {"value": None, "low": None, "high": None, "n": 0, "assessment": "insufficient data"}
    return {**entry, "recent": {**entry["recent"], **blank}, "whole": {**entry["whole"], **blank},
            "series": [{**m, "value": None, "n": 0} for m in entry["series"]], "shift": None}
