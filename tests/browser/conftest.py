"""Browser fixtures: the demo served once per session, Debian's Chromium once per session, a fresh
browser context (no cookies) per test.

Without a browser these tests are skipped with the reason in pytest's summary, except where
PARTNERSCOPE_REQUIRE_BROWSER=1 (CI) makes that a failure: CI installs Chromium, so a skip there
would only hide a broken install.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

from tests.browser.live import (REQUIRE_ENV, browser_required, build_demo_database, import_script_ticket, launch,
                                log_in, missing_browser, new_page, serve)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="session", autouse=True)
def _browser_present() -> None:
    """Runs before any other fixture of these tests, so a missing browser costs no demo build."""
    reason = missing_browser()
    if reason is None:
        return
    if browser_required():
        pytest.fail(f"browser tests required ({REQUIRE_ENV} is set) but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with an admin and the script-titled ticket, built once and copied for each server."""
    folder = tmp_path_factory.mktemp("browser-demo")
    path = build_demo_database(folder / "demo.db")
    import_script_ticket(path, folder)
    return path


@pytest.fixture(scope="session")
def base_url(demo_database: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server the read-only tests share."""
    with serve(demo_database, tmp_path_factory.mktemp("browser-served")) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A page of a browser that nobody has logged in with yet."""
    page = new_page(browser, base_url)
    yield page
    page.context.close()


@pytest.fixture
def admin(page: Page) -> Page:
    """The page, logged in as the demo's admin through the form."""
    log_in(page)
    return page
