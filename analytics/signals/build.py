"""From observations to the `signals` of the report: one entry per behaviour of DESIGN.md's table.

Each entry (the JSON contract of `report --format json`):
`{kind, unit, definition, recent: {from, until, value, low, high, n, assessment, <extras>},
whole: {same}, series: [{month, value, low, high, n}], shift, by_partner: {name: {...}},
by_project: {key: {...}}}`; the nested entries have the same shape without nesting further.
`recent` is the window of the last months of the data (ending with the month of the newest
act), `whole` every month of the data.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from analytics.signals import measures
from analytics.signals.catalog import RATE_EXTRAS, Signal
from analytics.signals.months import month_range, recent_window
from analytics.signals.observations import Observations, Scope, scopes
from analytics.signals.shift import find_shift

PERSON_MEASURES: dict[str, Callable[[Scope, Sequence[str]], measures.Figure]] = {
    "communication": measures.communication,
    "onboarding": measures.onboarding,
}
OTHER_EXTRAS: dict[str, Callable[[Scope, Sequence[str]], measures.Figure]] = {
    "first_response_hours": measures.response_hours,
    "gatekeeper_share": measures.gatekeepers,
    "days_to_first_resolve": measures.days_to_first_resolve,
}


def build_signals(obs: Observations, signals: Sequence[Signal], recent_months: int,
                  alpha: float) -> dict[str, Any]:
    """Every signal for all partners, per partner and per project."""
    months = obs.months
    window: tuple[str, str] | None = None
    if months:
        window = recent_window(months[-1], recent_months, months[0])
    everything, partners, projects = scopes(obs)
    out: dict[str, Any] = {}
    for signal in signals:
        entry = _entry(signal, everything, months, window, obs.declared, alpha)
        entry["by_partner"] = {p: _entry(signal, s, months, window, obs.declared, alpha) for p, s in partners.items()}
        entry["by_project"] = {p: _entry(signal, s, months, window, obs.declared, alpha) for p, s in projects.items()}
        out[signal.name] = entry
    return out


def _entry(signal: Signal, scope: Scope, months: list[str], window: tuple[str, str] | None,
           declared: dict[str, str], alpha: float) -> dict[str, Any]:
    recent_months = month_range(*window) if window else []
    entry: dict[str, Any] = {"kind": signal.kind, "unit": signal.unit}
    if signal.kind == "declared":
        value = declared.get(signal.name)
        judged = f"declared: {value}" if value else "not declared"
        for name, span in (("recent", recent_months), ("whole", months)):
            entry[name] = {**_span(span), "value": value, "low": None, "high": None, "n": 0, "assessment": judged}
        entry["series"] = [{"month": m, "value": None, "low": None, "high": None, "n": 0} for m in months]
        entry["shift"] = None
        return entry
    figure = _primary(signal)
    for name, span in (("recent", recent_months), ("whole", months)):
        fig = figure(scope, span)
        judgement = signal.judgement
        assessment = judgement.assess(fig["value"], fig["n"]) if judgement else "insufficient data"
        entry[name] = {**_span(span), **fig, "assessment": assessment}
        for extra in signal.extras:
            entry[name][extra] = _extra(extra)(scope, span)
    entry["series"] = [{"month": m, **figure(scope, [m])} for m in months]
    entry["shift"] = None
    if signal.measure not in PERSON_MEASURES and months:
        cells = [scope.count(signal.measure, [m]) for m in months]
        shift = find_shift(months, [c[0] for c in cells], [c[1] for c in cells], alpha)
        entry["shift"] = shift.as_dict() if shift else None
    return entry


def _span(months: Sequence[str]) -> dict[str, str | None]:
    return {"from": months[0] if months else None, "until": months[-1] if months else None}


def _primary(signal: Signal) -> Callable[[Scope, Sequence[str]], measures.Figure]:
    person = PERSON_MEASURES.get(signal.measure)
    if person is not None:
        return person
    return lambda scope, months: measures.rate(scope, signal.measure, months)


def _extra(name: str) -> Callable[[Scope, Sequence[str]], measures.Figure]:
    fact = RATE_EXTRAS.get(name)
    if fact is not None:
        return lambda scope, months: measures.rate(scope, fact, months)
    return OTHER_EXTRAS[name]
