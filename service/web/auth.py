"""Who is asking: the login form, the session it opens, API tokens, and the guard on every request.

Every page and API call needs a user, except the webhooks (their signature is their
authentication), `/healthz`, `/readyz`, `/metrics`, `/login` and the static files. A browser logs in with a form
(`username`, `password`, `csrf_token`, the field names Flask-WTF uses) and carries a signed,
HttpOnly, SameSite session cookie; a script sends `Authorization: Bearer <token>`
(`partnerscope tokens create`). Without a user a page redirects to the login form and the API
answers 401.

Wrong passwords are throttled in the process: after `TRIES` failures within `WINDOW` for one user
name, or `TRIES_PER_ADDRESS` from one address, further attempts are refused with 429 until the
oldest failure leaves the window, without the password being checked.
"""
from __future__ import annotations

import time
from collections import deque
from threading import Lock
from typing import Any

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, session, url_for
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import TooManyRequests, Unauthorized

from service.store.models import User
from service.store.users import authenticate, user_for_token

auth = Blueprint("auth", __name__)
OPEN_ENDPOINTS = frozenset({"auth.login", "health.healthz", "health.readyz", "metrics.scrape", "static"})
TRIES, TRIES_PER_ADDRESS, WINDOW = 5, 20, 900.0  # failures, failures, seconds


class Throttle:
    """Recent failed logins by user name and by address.

    An attempt is counted as failed when it is let through (`attempt`), before its password is
    checked, and taken back if the password was right (`succeeded`): so threads checking at once
    cannot all slip under the limit. Expired failures of every key are dropped now and then, so
    names and addresses tried once do not pile up."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[float]] = {}
        self._lock = Lock()
        self._swept = time.monotonic()

    def attempt(self, name: str, address: str) -> tuple[float, float]:
        """(seconds to wait before this name and address may try again, 0 for now; the attempt's mark)."""
        now = time.monotonic()
        keys = self._keys(name, address)
        with self._lock:
            if now - self._swept > WINDOW:
                for key in list(self._failures):
                    self._wait(key, 1, now)
                self._swept = now
            wait = max(self._wait(keys[0], TRIES, now), self._wait(keys[1], TRIES_PER_ADDRESS, now))
            if not wait:
                for key in keys:
                    self._failures.setdefault(key, deque()).append(now)
        return wait, now

    def succeeded(self, name: str, address: str, mark: float) -> None:
        """The attempt marked `mark` had the right password: it is no failure."""
        with self._lock:
            for key in self._keys(name, address):
                times = self._failures.get(key)
                if times and mark in times:
                    times.remove(mark)

    @staticmethod
    def _keys(name: str, address: str) -> tuple[str, str]:
        return f"name:{name.casefold()}", f"addr:{address}"

    def _wait(self, key: str, limit: int, now: float) -> float:
        times = self._failures.get(key)
        if not times:
            return 0.0
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0.0
        return times[0] + WINDOW - now if len(times) >= limit else 0.0


@auth.route("/login", methods=["GET", "POST"])
def login() -> Any:
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", next=target, failed=False)
    name = request.form.get("username", "")[:200]
    password = request.form.get("password", "")[:2000]
    throttle: Throttle = current_app.extensions["partnerscope"]["throttle"]
    address = request.remote_addr or "?"
    wait, mark = throttle.attempt(name, address)
    if wait:
        raise TooManyRequests(f"Too many failed logins for this user name or from this address; "
                              f"try again in {int(wait // 60) + 1} minutes.")
    with current_app.extensions["partnerscope"]["sessions"]() as db:
        user = authenticate(db, name, password)
    if user is None:
        return render_template("login.html", next=target, failed=True), 401
    throttle.succeeded(name, address, mark)
    session.clear()  # a new session for a new login: nothing carried over from before
    session["user_id"] = user.id
    return redirect(target)


@auth.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("auth.login"))


def require_user() -> Any:
    """Before every request: let the open endpoints through, find the user of the rest or refuse."""
    if request.blueprint == "webhooks" or request.endpoint in OPEN_ENDPOINTS or request.endpoint is None:
        return None
    # A Bearer token is the API's way in; any other Authorization (a proxy's Basic login) leaves
    # the browser's session to speak.
    bearer = request.headers.get("Authorization", "").partition(" ")[0].lower() == "bearer"
    user = _bearer_user() if bearer else _session_user()
    if user is not None:
        g.user = user
        return None
    if request.path.startswith("/api"):
        raise Unauthorized("Log in, or send a token as `Authorization: Bearer <token>` "
                           "(`partnerscope tokens create USER`).", www_authenticate=WWWAuthenticate("Bearer"))
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _session_user() -> User | None:
    user_id = session.get("user_id")
    if not isinstance(user_id, int):
        return None
    with current_app.extensions["partnerscope"]["sessions"]() as db:
        user = db.get(User, user_id)  # still there: a removed user's cookie opens nothing
    if user is None:
        session.clear()
    return user


def _bearer_user() -> User | None:
    token = request.headers.get("Authorization", "").partition(" ")[2]
    if not token.strip():
        return None
    with current_app.extensions["partnerscope"]["sessions"]() as db:
        return user_for_token(db, token.strip())


def _safe_next(value: str | None) -> str:
    """Where to go after logging in: a path of this site, never another site (`//host`, `\\host`)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or any(
            ord(c) < 32 for c in value) or len(value) > 2000:
        return "/"
    return value
