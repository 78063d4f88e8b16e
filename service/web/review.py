"""The partnership review: a printable page for a quarterly review meeting. The scorecard of the
chosen quarter beside the one before it, the shifts the whole period shows, and per area the
latest acts of each side with their evidence sentences."""
from __future__ import annotations

import re
from calendar import monthrange
from datetime import date

from flask import Blueprint, render_template, request
from werkzeug.exceptions import BadRequest

from analytics.signals.catalog import POLES, SIGNALS
from service.store.report import Filters, responsibility_report
from service.store.review import area_evidence
from service.web.context import chosen_partner, filter_args, filters, state
from service.web.scorecard import for_partner

review = Blueprint("review", __name__)
QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")


@review.get("/review")
def review_page() -> str:
    config, sessions = state()
    project = filters().project  # a review is of its quarters: the date filters stay in the links only
    partner = chosen_partner(config)
    with sessions() as session:
        whole = responsibility_report(session, config, Filters(project))
        quarter = _quarter(request.args.get("quarter"), whole)
        if quarter is None:
            return render_template("review.html", quarter=None, filter_args=filter_args())
        previous = _before(quarter)
        spans = {q: _days(q) for q in (quarter, previous)}
        reports = {q: responsibility_report(session, config, Filters(project, *spans[q])) for q in spans}
        evidence = {s.measure[5:]: area_evidence(session, s.measure[5:], Filters(project, *spans[quarter]), partner)
                    for s in SIGNALS if s.measure.startswith("area:")}
    rows = []
    for signal in SIGNALS:
        now, then = (for_partner(reports[q]["signals"][signal.name], partner)["whole"] for q in (quarter, previous))
        rows.append({"signal": signal, "poles": POLES[signal.name], "now": now, "then": then,
                     "shift": for_partner(whole["signals"][signal.name], partner)["shift"],
                     "evidence": evidence.get(signal.measure[5:], [])})
    return render_template("review.html", quarter=_name(quarter), previous=_name(previous),
                           spans={_name(q): days for q, days in spans.items()},
                           rows=rows, partner=partner, project=project,
                           filter_args=filter_args())


def _quarter(value: str | None, whole: dict) -> tuple[int, int] | None:
    """The quarter asked for (`2026-Q2`), else the one holding the newest act; None without acts."""
    if value:
        match = QUARTER.fullmatch(value)
        if not match or int(match.group(1)) < 2:
            shown = f", not {value!r}" if len(value) <= 40 else ""
            raise BadRequest(f"'quarter' must be a year and quarter like 2026-Q2{shown}.")
        return int(match.group(1)), int(match.group(2))
    until = next(iter(whole["signals"].values()), {}).get("whole", {}).get("until")
    if not until:
        return None
    year, month = map(int, until.split("-"))
    return year, (month - 1) // 3 + 1


def _before(quarter: tuple[int, int]) -> tuple[int, int]:
    year, q = quarter
    return (year, q - 1) if q > 1 else (year - 1, 4)


def _days(quarter: tuple[int, int]) -> tuple[date, date]:
    year, q = quarter
    return date(year, 3 * q - 2, 1), date(year, 3 * q, monthrange(year, 3 * q)[1])


def _name(quarter: tuple[int, int]) -> str:
    return f"{quarter[0]}-Q{quarter[1]}"
