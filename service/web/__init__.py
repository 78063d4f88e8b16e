"""The Flask application factory: one blueprint per face (pages, API, webhooks), errors in one handler."""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from service.config import Config
from service.store.db import ensure_schema, make_engine, session_factory
from service.store.gate import WriteGate
from service.jobs.applier_process import ApplierProcess
from service.jobs.deliveries import DeliveryApplier
from service.web.api import api
from service.web.health import health
from service.web.pages import pages
from service.web.security import secure_headers
from service.web.webhooks import hooks_of, webhooks


def create_app(config: Config, *, engine: Any = None, start_applier: bool = False,
               applier_process: bool = False) -> Flask:
    """Build the app for `config`: its own engine (or the given one), schema applied, the webhook
    endpoints of its sources, and a delivery applier (running in a thread with `start_applier`;
    `app.extensions["partnerscope"]["applier"].drain()` applies what is waiting otherwise). With
    `applier_process` (`partnerscope serve`), on PostgreSQL the applier is a process of its own
    (`service.jobs.applier_process`), started by the caller."""
    app = Flask(__name__)
    app.json.sort_keys = False  # keep the report in the order of its areas and roles
    engine = engine or make_engine(config.database_url)
    ensure_schema(engine)
    sessions = session_factory(engine)
    gate = WriteGate.for_engine(engine)  # the endpoints' acknowledgements go before the applier's batches
    applier: Any = DeliveryApplier(sessions, config, gate=gate)
    if applier_process and engine.dialect.name == "postgresql":
        applier = ApplierProcess(config)
    app.extensions["partnerscope"] = {"config": config, "engine": engine, "sessions": sessions, "gate": gate,
                                      "webhooks": hooks_of(config), "applier": applier}
    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.register_blueprint(webhooks)
    app.register_blueprint(health)
    app.register_error_handler(HTTPException, _error)
    app.after_request(secure_headers)
    if start_applier:
        applier.start()
    return app


def _error(exc: HTTPException) -> Any:
    """JSON under /api and /webhooks, a page elsewhere; with the exception's own headers (a 405's
    `Allow`) but its own content type."""
    headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
    if request.path.startswith(("/api", "/webhooks")):
        return jsonify({"error": exc.name, "message": exc.description}), exc.code, headers
    return render_template("error.html", error=exc), exc.code, headers
