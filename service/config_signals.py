"""`[scorecard]`'s signal keys and `[declared]`: how each signal is judged, over which window."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from analytics.scorecard import Thresholds
from analytics.signals.catalog import BY_NAME, SIGNALS, Judgement, Signal
from analytics.signals.shift import DEFAULT_ALPHA
from service.config_tables import ConfigError, no_unknown, table, text

RECENT_MONTHS = 6
DECLARED_KEYS = {"contract_type"}


@dataclass(frozen=True)
class SignalSettings:
    """The catalog with its configured thresholds, the recent window and the shift test's alpha."""

    signals: tuple[Signal, ...] = SIGNALS
    recent_months: int = RECENT_MONTHS
    shift_alpha: float = DEFAULT_ALPHA
    declared: dict[str, str] = field(default_factory=dict)


def read_signals(data: Mapping[str, Any], scorecard: Mapping[str, Any], thresholds: Thresholds,
                 origin: str) -> SignalSettings:
    """`[scorecard] recent_months, shift_alpha`, `[scorecard.signals.<name>]` and `[declared]`.
    Share signals follow `[scorecard]`'s thresholds unless their own table says otherwise."""
    recent = scorecard.get("recent_months", RECENT_MONTHS)
    if isinstance(recent, bool) or not isinstance(recent, int) or not 1 <= recent <= 120:
        raise ConfigError(f"{origin}: [scorecard] key 'recent_months' must be a whole number of months from 1 to 120.")
    alpha = scorecard.get("shift_alpha", DEFAULT_ALPHA)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 0.5:
        raise ConfigError(f"{origin}: [scorecard] key 'shift_alpha' must be a number between 0 and 0.5 (exclusive).")
    overrides = table(scorecard, "signals", origin, "scorecard.signals")
    no_unknown(overrides, set(BY_NAME), origin, "[scorecard.signals] ")
    share = Judgement(thresholds.win_win_at, thresholds.win_lose_at, thresholds.min_samples)
    signals = []
    for signal in SIGNALS:
        judgement = share if signal.unit == "partner_share" else signal.judgement
        where = f"[scorecard.signals.{signal.name}]"
        given = table(overrides, signal.name, origin, where[1:-1])
        if given and judgement is None:
            raise ConfigError(f"{origin}: {where} {signal.name} is declared, not judged: it takes no thresholds.")
        no_unknown(given, {"win_win_at", "win_lose_at", "min_samples"}, origin, f"{where} ")
        if judgement is not None:
            try:
                judgement = replace(judgement, **given)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{origin}: {where} {exc}") from None
        signals.append(replace(signal, judgement=judgement))
    declared_table = table(data, "declared", origin)
    no_unknown(declared_table, DECLARED_KEYS, origin, "[declared] ")
    declared = {key: text(declared_table, key, origin, "[declared] ") for key in declared_table}
    for key, value in declared.items():
        if len(value) > 200:
            raise ConfigError(f"{origin}: [declared] key '{key}' must be at most 200 characters.")
    return SignalSettings(tuple(signals), recent, float(alpha), declared)
