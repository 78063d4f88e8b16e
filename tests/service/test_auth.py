"""Who may ask: login, sessions, CSRF, API tokens, throttling, and the faces that stay open."""
from __future__ import annotations

import importlib
import re

import pytest
from sqlalchemy import delete

from service.store.db import transaction
from service.store.models import User
from service.store.users import add_user, create_token, revoke_tokens
from service.web import create_app
from tests.conftest import log_in

PASSWORD = "a long enough password"
auth_module = importlib.import_module("service.web.auth")  # the package exports its blueprint under that name


@pytest.fixture
def ada(sessions) -> str:
    with transaction(sessions) as s:
        add_user(s, "ada", "admin", PASSWORD)
    return "ada"


@pytest.mark.parametrize("path", ["/", "/?project=SHOP", "/no/such/page"])
def test_pages_send_a_stranger_to_the_login_form_and_back(app, path: str) -> None:
    answer = app.test_client().get(path)
    if path == "/no/such/page":
        assert answer.status_code == 404  # no page to protect; nothing about the data
        return
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login?next=/")


def test_the_api_answers_a_stranger_401_with_how_to_authenticate(app) -> None:
    answer = app.test_client().get("/api/report")
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    assert "tokens create" in answer.get_json()["message"]


@pytest.mark.parametrize("path, status", [("/healthz", 200), ("/login", 200), ("/static/partnerscope.css", 200)])
def test_the_open_faces_need_no_login(app, path: str, status: int) -> None:
    with app.test_client().get(path) as answer:
        assert answer.status_code == status


def test_webhooks_need_no_login_nor_csrf_token(app) -> None:
    answer = app.test_client().post("/webhooks/jira/no-such-source", data=b"{}")
    assert answer.status_code == 404  # no such endpoint, not a login redirect or a CSRF refusal


def test_logging_in_opens_the_pages_and_logging_out_closes_them(app, ada) -> None:
    browser = app.test_client()
    answer = log_in(browser, "ada", PASSWORD, next="/?project=SHOP")
    assert answer.status_code == 302 and answer.headers["Location"] == "/?project=SHOP"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = browser.get("/").get_data(as_text=True)
    assert "ada (admin)" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert browser.get("/logout").status_code == 405
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 302
    assert browser.get("/").status_code == 302


@pytest.mark.parametrize("name, password", [
    pytest.param("ada", "not the password", id="wrong-password"),
    pytest.param("bob", PASSWORD, id="no-such-user"),
    pytest.param("a" * 10_000, PASSWORD, id="huge-name"),
    pytest.param("ada\x00", PASSWORD, id="nul-in-name"),
    pytest.param("ädä", PASSWORD, id="non-ascii-name"),
    pytest.param("ada", "x" * 100_000, id="huge-password"),
    pytest.param("", "", id="empty"),
])
def test_a_failed_login_is_a_401_form_that_says_so(app, ada, name: str, password: str) -> None:
    browser = app.test_client()
    answer = log_in(browser, name, password)
    assert answer.status_code == 401 and "Wrong user name or password." in answer.get_data(as_text=True)
    assert browser.get("/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
                                    "/%0d%0aSet-Cookie:x", "\x00/", "evil"])
def test_after_login_the_way_back_stays_on_this_site(app, ada, target: str) -> None:
    answer = log_in(app.test_client(), "ada", PASSWORD, next=target)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "\\" not in location
    assert "evil" not in location or location.startswith("/%0d%0a")  # a path of this site, however odd


def test_a_login_without_its_csrf_token_is_refused(app, ada) -> None:
    browser = app.test_client()
    answer = browser.post("/login", data={"username": "ada", "password": PASSWORD})
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)
    forged = browser.post("/login", data={"username": "ada", "password": PASSWORD, "csrf_token": "forged"})
    assert forged.status_code == 400 and browser.get("/").status_code == 302


def test_wrong_passwords_are_throttled_by_name_then_by_address(app, ada, monkeypatch) -> None:
    monkeypatch.setattr(auth_module, "TRIES_PER_ADDRESS", 8)
    browser = app.test_client()
    for _ in range(auth_module.TRIES):
        assert log_in(browser, "ada", "not the password").status_code == 401
    blocked = log_in(browser, "ada", PASSWORD)  # the right password, but not checked now
    assert blocked.status_code == 429 and "try again in 15 minutes" in blocked.get_data(as_text=True)
    for name in ("bob", "cyd", "dan"):
        assert log_in(browser, name, "not the password").status_code == 401
    assert log_in(browser, "eve", "whatever password").status_code == 429  # 8 failures from this address


def test_an_api_token_opens_the_api_until_it_is_revoked(app, ada, sessions) -> None:
    with transaction(sessions) as s:
        token = create_token(s, "ada")
    api = app.test_client()
    assert api.get("/api/report", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    for header in (f"Bearer {token}x", "Bearer ", f"Basic {token}", token, "Bearer " + "x" * 10_000):
        assert api.get("/api/report", headers={"Authorization": header}).status_code == 401, header
    with transaction(sessions) as s:
        revoke_tokens(s, "ada")
    assert api.get("/api/report", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_removed_users_session_opens_nothing(app, ada, sessions) -> None:
    browser = app.test_client()
    log_in(browser, "ada", PASSWORD)
    assert browser.get("/").status_code == 200
    with transaction(sessions) as s:
        s.execute(delete(User))
    assert browser.get("/").status_code == 302


def test_every_process_of_one_database_signs_with_the_same_kept_key(config, engine, ada, monkeypatch) -> None:
    monkeypatch.delenv("PARTNERSCOPE_SECRET_KEY", raising=False)
    first, second = create_app(config, engine=engine), create_app(config, engine=engine)
    assert first.secret_key == second.secret_key and len(first.secret_key) > 40
    browser = first.test_client()
    log_in(browser, "ada", PASSWORD)
    cookie = browser.get_cookie("session").value
    other = second.test_client()
    other.set_cookie("session", cookie)
    assert other.get("/").status_code == 200
    monkeypatch.setenv("PARTNERSCOPE_SECRET_KEY", "from-the-environment-" + "k" * 40)
    assert create_app(config, engine=engine).secret_key == "from-the-environment-" + "k" * 40


def test_the_demo_makes_one_admin_and_prints_the_password_once(sessions, app, capsys) -> None:
    from types import SimpleNamespace

    from service.commands.serving import _demo_admin

    _demo_admin(SimpleNamespace(sessions=sessions))
    printed = capsys.readouterr().out
    password = re.search(r"log in as admin with the password (\S+) ", printed).group(1)
    assert log_in(app.test_client(), "admin", password).status_code == 302
    _demo_admin(SimpleNamespace(sessions=sessions))  # the next run: the admin exists, nothing printed
    assert capsys.readouterr().out == ""


def test_a_proxys_basic_login_leaves_the_browsers_session_to_speak(app, ada) -> None:
    browser = app.test_client()
    log_in(browser, "ada", PASSWORD)
    basic = {"Authorization": "Basic cHJveHk6c2VjcmV0"}  # what a reverse proxy's own login adds to every request
    assert browser.get("/", headers=basic).status_code == 200
    assert app.test_client().get("/api/report", headers=basic).status_code == 401  # no session: no user


def test_logins_at_once_cannot_slip_under_the_limit_and_a_right_one_is_no_failure(app, ada) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def wrong(_: int) -> int:
        return log_in(app.test_client(), "ada", "not the password").status_code

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(wrong, range(12)))
    assert answers.count(401) == auth_module.TRIES and answers.count(429) == 12 - auth_module.TRIES


def test_right_passwords_do_not_count_against_the_limit(app, ada) -> None:
    for _ in range(auth_module.TRIES + 2):
        assert log_in(app.test_client(), "ada", PASSWORD).status_code == 302
    assert log_in(app.test_client(), "ada", "not the password").status_code == 401


def test_the_throttle_forgets_expired_failures_of_every_key(monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(auth_module.time, "monotonic", lambda: clock[0])
    throttle = auth_module.Throttle()
    for n in range(50):
        throttle.attempt(f"user{n}", f"10.0.0.{n}")
    clock[0] += auth_module.WINDOW + 1
    throttle.attempt("someone", "10.0.1.1")
    assert set(throttle._failures) == {"name:someone", "addr:10.0.1.1"}


def test_behind_https_the_session_cookie_is_secure(engine, config, ada) -> None:
    from dataclasses import replace

    from service.web import create_app

    app = create_app(replace(config, secure_cookies=True), engine=engine)
    answer = log_in(app.test_client(), "ada", PASSWORD)
    assert answer.status_code == 302 and "; Secure" in answer.headers["Set-Cookie"]
