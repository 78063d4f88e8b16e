"""The dashboard's pages (server-rendered)."""
from __future__ import annotations

from flask import Blueprint, render_template

from service.store.report import responsibility_report
from service.web.context import filter_args, filters, state

pages = Blueprint("pages", __name__)


@pages.get("/")
def index() -> str:
    config, sessions = state()
    chosen = filters()
    with sessions() as session:
        report = responsibility_report(session, config, chosen)
    # The report's own list (attributed acts by people no organisation covers, within the filters),
    # not `people()`: that counts every event of every account, on every view.
    unaffiliated = report["data_quality"]["unmapped_accounts"]["accounts"][:10]
    unsigned = [s.name for s in config.sources if s.allow_unsigned]
    return render_template("report.html", report=report, filters=chosen, unaffiliated=unaffiliated,
                           demo=config.is_demo, filter_args=filter_args(), unsigned=unsigned)


@pages.app_template_filter("signal_value")
def signal_value(value: float | None, unit: str) -> str:
    """A signal's value for the page: shares in per cent, rates with two decimals."""
    if value is None:
        return "–"
    return f"{value * 100:.0f} %" if unit.endswith("_share") else f"{value:.2f}"
