"""`/healthz`: the process answers. It reads no database and needs no login, so a load balancer or
container runtime may ask it as often as it likes."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})
