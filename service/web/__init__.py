"""The Flask application factory: the report page and the JSON/CSV API."""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException

from service.config import Config
from service.store.db import ensure_schema, make_engine, session_factory
from service.store.report import FilterError, Filters, people, responsibility_report

pages = Blueprint("pages", __name__)
api = Blueprint("api", __name__, url_prefix="/api")
FILTER_ARGS = ("project", "since", "until")
FORMATS = ("json", "csv")


def create_app(config: Config, *, engine: Any = None) -> Flask:
    """Build the app for `config`: its own engine (or the given one), schema applied."""
    app = Flask(__name__)
    app.json.sort_keys = False  # keep the report in the order of its areas and roles
    engine = engine or make_engine(config.database_url)
    ensure_schema(engine)
    app.extensions["partnerscope"] = {"config": config, "sessions": session_factory(engine)}
    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.register_error_handler(HTTPException, _error)
    return app


def _state() -> tuple[Config, Any]:
    ext = current_app.extensions["partnerscope"]
    return ext["config"], ext["sessions"]


def _filters() -> Filters:
    def day(name: str) -> date | None:
        value = request.args.get(name)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            shown = f", not {value!r}" if len(value) <= 40 else ""
            raise BadRequest(f"'{name}' must be a date like 2025-01-31{shown}.") from None

    try:
        return Filters(project=request.args.get("project") or None, since=day("since"), until=day("until"))
    except FilterError as exc:
        raise BadRequest(str(exc)) from None


def _filter_args() -> dict[str, str]:
    """The filters of this request, for links that keep them (and nothing else the URL carried)."""
    return {k: v for k, v in request.args.items() if k in FILTER_ARGS and v}


@pages.get("/")
def index() -> str:
    config, sessions = _state()
    filters = _filters()
    with sessions() as session:
        report = responsibility_report(session, config, filters)
        unaffiliated = people(session, config, unaffiliated_only=True)[:10]
    return render_template("report.html", report=report, filters=filters, unaffiliated=unaffiliated,
                           demo=config.is_demo, filter_args=_filter_args())


@api.get("/report")
def report_json() -> Response:
    from service.store.report import report_csv

    config, sessions = _state()
    fmt = request.args.get("format") or "json"
    if fmt not in FORMATS:
        raise BadRequest(f"'format' must be {' or '.join(FORMATS)}.")
    filters = _filters()
    with sessions() as session:
        report = responsibility_report(session, config, filters)
    if fmt == "csv":
        return Response(report_csv(report), mimetype="text/csv",
                        headers={"Content-Disposition": "attachment; filename=partnerscope-report.csv"})
    return jsonify(report)


@api.get("/health")
def health() -> Response:
    return jsonify({"status": "ok"})


def _error(exc: HTTPException) -> Any:
    if request.path.startswith(("/api", "/webhooks")):
        return jsonify({"error": exc.name, "message": exc.description}), exc.code
    return render_template("error.html", error=exc), exc.code
