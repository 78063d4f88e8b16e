"""The dashboard's pages (server-rendered)."""
from __future__ import annotations

from flask import Blueprint, render_template

from service.store.report import responsibility_report
from service.web.scorecard import rows as scorecard_rows
from service.web.context import chosen_partner, filter_args, filters, partner_names, state

pages = Blueprint("pages", __name__)


@pages.get("/")
def index() -> str:
    config, sessions = state()
    chosen = filters()
    partner = chosen_partner(config)
    with sessions() as session:
        report = responsibility_report(session, config, chosen)
    # The report's own list (attributed acts by people no organisation covers, within the filters),
    # not `people()`: that counts every event of every account, on every view.
    unaffiliated = report["data_quality"]["unmapped_accounts"]["accounts"][:10]
    unsigned = [s.name for s in config.sources if s.allow_unsigned]
    links = filter_args()
    partners = partner_names(config)
    return render_template("report.html", report=report, filters=chosen, unaffiliated=unaffiliated,
                           demo=config.is_demo, filter_args=links, unsigned=unsigned, partner=partner,
                           partners=partners, rows=scorecard_rows(report["signals"], partner, links))


@pages.app_template_filter("signal_value")
def signal_value(value: float | None, unit: str) -> str:
    """A signal's value for the page: shares in per cent, rates with two decimals."""
    if value is None:
        return "–"
    return f"{value * 100:.0f} %" if unit.endswith("_share") else f"{value:.2f}"
