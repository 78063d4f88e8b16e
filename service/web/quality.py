"""The data-quality page: what the numbers rest on, and what keeps them from resting on more."""
from __future__ import annotations

from flask import Blueprint, render_template

from service.store.quality import data_quality
from service.store.report import act_filters, statuses
from service.store.deliveries import listing
from service.store.runs import runs
from service.store.upkeep import LISTED, source_states, unmapped_types
from service.web.context import filter_args, filters, state

quality = Blueprint("quality", __name__)


@quality.get("/quality")
def quality_page() -> str:
    config, sessions = state()
    chosen = filters()
    with sessions() as session:
        found = data_quality(session, config, chosen.project, act_filters(chosen))
        page = {
            "quality": found,
            "statuses": statuses(session, config, unmapped_only=True)[:50],
            "types": unmapped_types(session),
            "sources": source_states(session, config),
            "failed": listing(session, failed_only=True, limit=LISTED),
            "runs": runs(session, limit=LISTED),
        }
    return render_template("quality.html", filters=chosen, filter_args=filter_args(), **page)
