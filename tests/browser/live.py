"""The real app on loopback for a real browser: the demo scenario in a throwaway SQLite database,
served by a threaded werkzeug server, and Debian's Chromium driven by Playwright.

Shared by the browser tests (`conftest.py`) and the README's screenshots (`screenshots.py`).
Playwright's own browser download cannot run here, so it drives the system's Chromium
(`PARTNERSCOPE_CHROMIUM`, else /usr/bin/chromium) with the flags that keep Chromium off the
network: without them it calls Google's update, sync and account hosts at every start, which a
closed network refuses many times over, and no test should send anything beyond loopback.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from werkzeug.serving import WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Playwright

    from service.config import Config

CHROMIUM_ENV = "PARTNERSCOPE_CHROMIUM"
REQUIRE_ENV = "PARTNERSCOPE_REQUIRE_BROWSER"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
QUIET_FLAGS = ("--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync",
               # Even so it looks up update.googleapis.com and accounts.google.com at start (seen with
               # strace); every name but localhost resolves to nothing, inside Chromium, so no query
               # leaves the machine. The app is reached by its address, 127.0.0.1, which needs no lookup.
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1")
ADMIN, ADMIN_PASSWORD = "admin", "browser-admin-password"
SCRIPT_TITLE = "<script>alert(1)</script>"
SCRIPT_KEY = "SHOP-9001"
LAPTOP = {"width": 1280, "height": 800}


def chromium_path(environ: Mapping[str, str] = os.environ) -> str:
    """The Chromium executable to drive: PARTNERSCOPE_CHROMIUM, else Debian's."""
    return environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM


def browser_required(environ: Mapping[str, str] = os.environ) -> bool:
    """CI sets PARTNERSCOPE_REQUIRE_BROWSER=1: there a missing browser fails the run instead of skipping."""
    return environ.get(REQUIRE_ENV, "").strip() not in ("", "0")


def missing_browser(environ: Mapping[str, str] = os.environ) -> str | None:
    """Why the browser tests cannot run on this machine, in one sentence; None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    path = chromium_path(environ)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        hint = f"set {CHROMIUM_ENV}" if environ.get(CHROMIUM_ENV) else "apt-get install chromium"
        return f"{path} not found ({hint})"
    return None


def launch(playwright: Playwright) -> Browser:
    """Headless Chromium from the system; as root (CI, containers) it refuses to start without --no-sandbox."""
    args = list(QUIET_FLAGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=args)


def demo_config(path: Path) -> Config:
    """The configuration `partnerscope run` uses for the demo (no config.toml), on the database at `path`."""
    from service.config import parse_config
    from simulator.scenario import scenario_config

    return parse_config(dict(scenario_config(), database={"url": f"sqlite:///{path}"}), None)


def build_demo_database(path: Path) -> Path:
    """The demo as `partnerscope run` builds it, with an admin whose password the tests know."""
    from service.jobs.ingest import build_demo
    from service.store.db import make_engine, session_factory, transaction, upgrade
    from service.store.users import add_user

    config = demo_config(path)
    engine = make_engine(config.database_url)
    try:
        upgrade(engine)
        sessions = session_factory(engine)
        build_demo(sessions, config)
        with transaction(sessions) as session:
            add_user(session, ADMIN, "admin", ADMIN_PASSWORD)
        _checkpoint(engine)
    finally:
        engine.dispose()
    return path


def import_script_ticket(path: Path, folder: Path) -> None:
    """One Jira issue titled `<script>alert(1)</script>`, imported as an export file is: markup in a
    tracker's text reaches the pages by the same road as every other title."""
    from service.jobs.ingest import import_files
    from service.store.db import make_engine, session_factory
    from simulator.people import BY_HANDLE

    export = folder / "script-title.json"
    export.write_text(json.dumps({"issues": [_script_issue(BY_HANDLE["ben"], BY_HANDLE["henrik"])], "isLast": True}),
                      encoding="utf-8")
    config = demo_config(path)
    engine = make_engine(config.database_url)
    try:
        result = import_files(session_factory(engine), config, [export], "jira-import")
        assert (result.tickets, result.refused) == (1, []), result
        _checkpoint(engine)
    finally:
        engine.dispose()


def _script_issue(reporter: Any, closer: Any) -> dict[str, Any]:
    """A Jira Cloud issue (v3 search, changelog expanded): reported by the client, closed by the partner."""
    def user(person: Any) -> dict[str, Any]:
        return {"accountId": person.account_id, "displayName": person.name, "accountType": "atlassian", "active": True}

    return {
        "id": "99001", "key": SCRIPT_KEY, "self": "https://acme.atlassian.net/rest/api/3/issue/99001",
        "fields": {
            "summary": SCRIPT_TITLE, "issuetype": {"name": "Bug", "id": "1"},
            "status": {"name": "Done", "statusCategory": {"key": "done"}},
            "project": {"key": "SHOP", "name": "Shop", "id": "100"},
            "reporter": user(reporter), "creator": user(reporter), "assignee": user(closer),
            "created": "2026-03-02T09:00:00.000+0000", "updated": "2026-03-03T10:00:00.000+0000",
            "resolutiondate": "2026-03-03T10:00:00.000+0000", "labels": [], "priority": {"name": "High"},
            "comment": {"comments": [], "maxResults": 0, "total": 0, "startAt": 0},
        },
        "changelog": {"startAt": 0, "maxResults": 1, "total": 1, "histories": [{
            "id": "9900101", "author": user(closer), "created": "2026-03-03T10:00:00.000+0000",
            "items": [{"field": "status", "fieldtype": "jira", "from": "1", "fromString": "In Progress",
                       "to": "2", "toString": "Done"}],
        }]},
    }


def _checkpoint(engine: Any) -> None:
    """Fold the write-ahead log into the file, so that a copy of the file alone is the whole database."""
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # a line per request would bury what a failing test prints


@contextmanager
def serve(template: Path, folder: Path) -> Iterator[str]:
    """Serve a copy of the database at `template` on 127.0.0.1 and a free port; yields the base URL.

    A copy, so that a test that changes data (an assignment) changes it for no other test.
    """
    from service.web import create_app

    path = folder / "served.db"
    shutil.copyfile(template, path)
    app = create_app(demo_config(path))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        app.extensions["partnerscope"]["engine"].dispose()


def new_page(browser: Browser, base_url: str, viewport: dict[str, int] = LAPTOP) -> Page:
    """A page in a context of its own: no cookie of another page, relative URLs against the server."""
    context = browser.new_context(base_url=base_url, viewport=viewport)
    context.set_default_timeout(10_000)  # a page here answers in milliseconds; a stuck one should fail soon
    return context.new_page()


def log_in(page: Page, name: str = ADMIN, password: str = ADMIN_PASSWORD) -> None:
    """Log in through the form, as a person would: the page's own CSRF token goes with it."""
    page.goto("/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def table_after(page: Page, heading: str) -> Locator:
    """The first table after the h2 that starts with `heading`, whether or not a scrolling box wraps it."""
    return page.locator(f"xpath=//h2[starts-with(normalize-space(.), '{heading}')]"
                        "/following-sibling::*[1]/descendant-or-self::table").first


def area_counts(page: Page) -> dict[str, dict[str, int]]:
    """The scorecard's areas table as shown: area → side → count."""
    counts = {}
    for row in table_after(page, "Areas").locator("tbody > tr").all():
        cells = row.locator("td").all_inner_texts()
        counts[cells[0]] = {side: int(cell) for side, cell in zip(("partner", "client", "unknown"), cells[1:4])}
    return counts
