"""`/healthz`: the process answers; `/readyz`: it can serve, its database answering at the newest
migration. Neither needs a login, so a load balancer or container runtime may ask them as often
as it likes; `/healthz` reads no database, `/readyz` one cheap query."""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from service.store.db import is_current

health = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@health.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@health.get("/readyz")
def readyz() -> Any:
    engine = current_app.extensions["partnerscope"]["engine"]
    try:
        current = is_current(engine)
    except SQLAlchemyError as exc:  # the reason goes to the log; the answer names no host or URL
        log.warning("web.readyz.database_unavailable: %s", type(exc).__name__)
        return jsonify({"status": "unavailable", "reason": "the database does not answer"}), 503
    if not current:
        return jsonify({"status": "unavailable",
                        "reason": "the database is not at the newest migration; any partnerscope command upgrades it"}), 503
    return jsonify({"status": "ready"})
