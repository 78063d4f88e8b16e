"""The JSON/CSV API under /api."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import BadRequest

from service.store.report import report_csv, responsibility_report
from service.web.context import filters, state

api = Blueprint("api", __name__, url_prefix="/api")
FORMATS = ("json", "csv")


@api.get("/report")
def report_json() -> Response:
    config, sessions = state()
    fmt = chosen_format()
    chosen = filters()
    with sessions() as session:
        report = responsibility_report(session, config, chosen)
    if fmt == "csv":
        return Response(report_csv(report), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=partnerscope-report.csv"})
    return jsonify(report)


def chosen_format() -> str:
    """The `format` of this request, json unless it says csv; anything else is a 400."""
    fmt = request.args.get("format") or "json"
    if fmt not in FORMATS:
        raise BadRequest(f"'format' must be {' or '.join(FORMATS)}.")
    return fmt
