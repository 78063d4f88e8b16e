"""The people page: every person (merged accounts once) with organisation and activity, the
unaffiliated first, as `partnerscope people` counts them."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from werkzeug.exceptions import BadRequest

from service.store.report import people as all_people
from service.web.context import state

people = Blueprint("people", __name__)
SHOWN = 500


@people.get("/people")
def people_page() -> str:
    config, sessions = state()
    only = request.args.get("unaffiliated") or ""
    if only not in ("", "1"):
        raise BadRequest("'unaffiliated' must be 1 or left out.")
    with sessions() as session:
        rows = all_people(session, config, unaffiliated_only=only == "1")
    rows.sort(key=lambda p: (p.side != "unknown", -p.activity, p.account))  # the unaffiliated first
    return render_template("people.html", rows=rows[:SHOWN], total=len(rows), only=only == "1")
