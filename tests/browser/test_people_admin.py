"""An admin affiliates an unaffiliated account on /people and the scorecard moves its acts out of
`unknown` at once.

The form, in each unaffiliated account's row: `form.assign` with `select[name=organisation]`,
optional `input[name=since]` and `input[name=until]` (dates), a hidden `account` and a button
"Assign"; it redirects back to /people with a message.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

from tests.browser.live import area_counts, log_in, new_page, serve

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

FREELANCER = "Quinn Rivera"  # the demo's freelance developer, working with Nordlys for a while


@pytest.fixture
def own_admin(browser: Browser, demo_database: Path, tmp_path: Path) -> Iterator[Page]:
    """An admin on a server of its own: an assignment must not change the numbers other tests read."""
    with serve(demo_database, tmp_path) as url:
        page = new_page(browser, url)
        try:
            log_in(page)
            yield page
        finally:
            page.context.close()


def total(counts: dict[str, dict[str, int]], side: str) -> int:
    return sum(area[side] for area in counts.values())


def test_assigning_an_unaffiliated_account_moves_its_acts_to_a_side(own_admin: Page) -> None:
    page = own_admin
    before = area_counts(page)
    assert total(before, "unknown") > 0

    page.goto("/people")
    form = page.locator("tr", has_text=FREELANCER).locator("form.assign")
    assert form.locator("input[name=account]").get_attribute("type") == "hidden"
    assert form.locator("input[name=since]").get_attribute("type") == "date"
    assert form.locator("input[name=until]").get_attribute("type") == "date"
    form.locator("select[name=organisation]").select_option(label="Nordlys")
    form.get_by_role("button", name="Assign").click()
    page.wait_for_url("**/people")
    said = page.get_by_role("status").inner_text()
    assert said.startswith("Assigned ") and " to Nordlys" in said, said
    assert page.locator("tr", has_text=FREELANCER).locator("form.assign").count() == 0  # affiliated now

    page.goto("/")
    after = area_counts(page)
    assert total(after, "unknown") < total(before, "unknown")
    assert total(after, "partner") > total(before, "partner")
    assert total(after, "client") == total(before, "client")
