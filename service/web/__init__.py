"""The Flask application factory: one blueprint per face (login, pages, API, webhooks, health,
metrics), errors in one handler, a user required before anything but the open faces
(`service.web.auth`)."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException

from service.config import Config
from service.store.db import ensure_schema, make_engine, session_factory
from service.store.gate import WriteGate
from service.jobs.applier_process import ApplierProcess
from service.jobs.deliveries import DeliveryApplier
from service.store.secret_key import ENV as SECRET_ENV
from service.store.secret_key import secret_key
from service.web.api import api
from service.web.areas import areas
from service.web.api_v1 import api_v1
from service.web.auth import Throttle, auth, require_user
from service.web.health import health
from service.web.metrics import instrument
from service.web.pages import pages
from service.web.people import people
from service.web.quality import quality
from service.web.review import review
from service.web.security import secure_headers
from service.web.tickets import tickets
from service.web.webhooks import hooks_of, webhooks

log = logging.getLogger(__name__)


def create_app(config: Config, *, engine: Any = None, start_applier: bool = False,
               applier_process: bool = False, applier: Any = None) -> Flask:
    """Build the app for `config`: its own engine (or the given one), schema applied, the webhook
    endpoints of its sources, and a delivery applier (running in a thread with `start_applier`;
    `app.extensions["partnerscope"]["applier"].drain()` applies what is waiting otherwise). With
    `applier_process` (`partnerscope run`), on PostgreSQL the applier is a process of its own
    (`service.jobs.applier_process`), started by the caller. `applier`: one run elsewhere, which
    this app only wakes (`partnerscope serve`'s workers, `service.web.server`)."""
    app = Flask(__name__)
    app.json.sort_keys = False  # keep the report in the order of its areas and roles
    engine = engine or make_engine(config.database_url)
    ensure_schema(engine)
    sessions = session_factory(engine)
    gate = WriteGate.for_engine(engine)  # the endpoints' acknowledgements go before the applier's batches
    if applier is None:
        applier = DeliveryApplier(sessions, config, gate=gate)
        if config.queue is not None:  # the workers apply what the queue announces
            from service.jobs.queue import QueuedApplier

            applier = QueuedApplier(config.queue)
        elif applier_process and engine.dialect.name == "postgresql":
            applier = ApplierProcess(config)
    app.extensions["partnerscope"] = {"config": config, "engine": engine, "sessions": sessions, "gate": gate,
                                      "webhooks": hooks_of(config), "applier": applier, "throttle": Throttle()}
    with sessions() as session, session.begin():
        key, from_environment = secret_key(session)
    if not from_environment:
        log.warning("web.secret_key: %s is unset; sessions are signed with a key kept in the database, "
                    "so anyone who can read the database can forge a login", SECRET_ENV)
    app.config.update(SECRET_KEY=key, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=config.secure_cookies)
    app.extensions["partnerscope"]["metrics"] = instrument(app, sessions)  # first: times every request
    csrf = CSRFProtect(app)
    csrf.exempt(webhooks)  # a delivery's signature is its authentication; it carries no form token
    app.register_blueprint(auth)
    app.register_blueprint(pages)
    app.register_blueprint(tickets)
    app.register_blueprint(quality)
    app.register_blueprint(people)
    app.register_blueprint(areas)
    app.register_blueprint(review)
    app.register_blueprint(api)
    app.register_blueprint(api_v1)
    app.register_blueprint(webhooks)
    app.register_blueprint(health)
    app.before_request(require_user)
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
