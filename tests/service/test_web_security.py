"""Every response carries its security headers; `/healthz` answers without a database; a 405
says which methods are allowed; the pages hold no inline script or style for the policy to forbid."""
from __future__ import annotations

import re

import pytest

from service.web.security import HEADERS


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/", 200),
    ("GET", "/?since=2025-13-40", 400),
    ("GET", "/api/report", 200),
    ("GET", "/api/report?format=xml", 400),
    ("GET", "/healthz", 200),
    ("GET", "/static/partnerscope.css", 200),
    ("GET", "/no/such/page", 404),
    ("GET", "/api/no/such/thing", 404),
    ("POST", "/", 405),
    ("DELETE", "/api/report", 405),
    ("POST", "/webhooks/jira/no-such-source", 404),
    ("GET", "/webhooks/github/no-such-source", 405),
])
def test_every_response_carries_the_security_headers(client, method: str, path: str, status: int) -> None:
    with client.open(path, method=method) as response:  # closed: a static file is streamed
        assert response.status_code == status
        for name, value in HEADERS.items():
            assert response.headers.get(name) == value, name


def test_the_policy_forbids_inline_script_and_framing() -> None:
    policy = dict(part.strip().split(" ", 1) for part in HEADERS["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"


def test_a_405_says_which_methods_are_allowed_on_pages_and_the_api(client) -> None:
    page = client.post("/")
    assert page.status_code == 405 and set(page.headers["Allow"].split(", ")) >= {"GET", "HEAD"}
    assert page.mimetype == "text/html"
    api = client.put("/api/report")
    assert api.status_code == 405 and "GET" in api.headers["Allow"] and api.get_json()["error"]


def test_healthz_answers_without_login_or_database(client, app) -> None:
    app.extensions["partnerscope"]["engine"].dispose()
    app.extensions["partnerscope"]["sessions"] = None  # a health check that read the database would fail now
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_the_pages_hold_no_inline_script_or_style(client) -> None:
    for path in ("/", "/no/such/page"):
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html, re.I), path
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", html, re.I), path
        assert 'href="/static/partnerscope.css"' in html


def test_readyz_says_whether_the_database_answers_at_the_newest_migration(app, monkeypatch, caplog) -> None:
    from sqlalchemy.exc import OperationalError

    from importlib import import_module

    health = import_module("service.web.health")  # the module; `service.web.health` is also its blueprint
    anyone = app.test_client()  # no login
    assert anyone.get("/readyz").get_json() == {"status": "ready"}
    assert anyone.post("/readyz").status_code == 405
    monkeypatch.setattr(health, "is_current", lambda _engine: False)  # a migration behind
    behind = anyone.get("/readyz")
    assert behind.status_code == 503 and "not at the newest migration" in behind.get_json()["reason"]

    def down(_engine):
        raise OperationalError("SELECT 1", {}, Exception("connection to server at 10.0.0.7 failed: password=hunter2"))

    monkeypatch.setattr(health, "is_current", down)
    answer = anyone.get("/readyz")
    assert answer.status_code == 503 and answer.get_json() == {"status": "unavailable",
                                                               "reason": "the database does not answer"}
    assert "hunter2" not in caplog.text and "10.0.0.7" not in answer.get_data(as_text=True)
