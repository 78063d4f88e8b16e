"""The dashboard in a real browser: log in, read the scorecard, follow a number to its evidence,
filter, and read it all on a phone."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.live import area_counts, log_in, new_page, table_after

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

AREAS = ["requirements", "quality assurance", "issue management", "improvements", "deployment"]


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_a_visitor_is_sent_to_the_form_and_back_once_logged_in(page: Page) -> None:
    page.goto("/areas/deployment")
    assert urlsplit(page.url).path == "/login"
    assert page.locator("input[name=csrf_token]").get_attribute("value")  # the form's own token goes with it

    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong user name or password."

    log_in(page)
    page.goto("/areas/deployment")
    assert page.locator("h1").inner_text() == "Deployment"
    assert page.locator("nav.user").inner_text().startswith("admin (admin)")


def test_the_scorecard_shows_every_area_by_side(admin: Page) -> None:
    assert admin.locator("h1").inner_text() == "Where the responsibility sits"
    assert "bundled demo scenario" in admin.locator("p.note").first.inner_text()
    counts = area_counts(admin)
    assert list(counts) == AREAS
    assert all(c["partner"] > 0 and c["client"] > 0 for c in counts.values()), counts
    patterns = table_after(admin, "Areas").locator("tbody > tr > td:last-child").all_inner_texts()
    assert set(patterns) <= {"win-win", "win-lose", "mixed", "insufficient data"}


def test_a_count_leads_to_its_tickets_and_each_ticket_to_its_evidence(admin: Page) -> None:
    row = table_after(admin, "Areas").locator("tbody > tr", has_text="quality assurance")
    row.locator("td").nth(1).get_by_role("link").click()  # the partner's count
    admin.wait_for_url("**/tickets?**")
    assert query(admin) == {"area": ["quality_assurance"], "side": ["partner"]}
    assert "quality assurance area by the partner side" in admin.locator("p.note").inner_text()

    first = admin.locator("table > tbody > tr").first.get_by_role("link")
    key = first.inner_text()
    first.click()
    admin.wait_for_url(re.compile(r"/tickets/\d+$"))
    assert admin.locator("h1").inner_text().startswith(f"{key}: ")
    evidence = table_after(admin, "Who carried what").locator("tbody > tr")
    rows = [row.locator("td").all_inner_texts() for row in evidence.all()]
    # At least one partner act of the area, and every row with the sentence of its evidence, dated.
    assert any(r[0] in ("detect", "test", "accept") and r[2] == "partner" for r in rows), rows
    for role, person, side, organisation, when, sentence in rows:
        assert when[:10] in sentence, (role, sentence)


def test_an_area_name_leads_to_its_month_by_month_page(admin: Page) -> None:
    admin.get_by_role("link", name="issue management", exact=True).click()
    admin.wait_for_url("**/areas/issue_management")
    assert admin.locator("h1").inner_text() == "Issue management"
    assert admin.locator("svg[role=img] rect.partner").count() > 0
    months = table_after(admin, "Month by month").locator("tbody > tr").count()
    assert months == 18  # the demo's 18 months, 2025-01 to 2026-06


def test_filters_go_in_the_url_and_narrow_the_numbers(admin: Page) -> None:
    whole = area_counts(admin)

    admin.get_by_label("Project", exact=True).fill("PAY")
    admin.get_by_role("button", name="Apply").click()
    admin.wait_for_url("**project=PAY**")
    pay = area_counts(admin)
    assert admin.get_by_label("Project", exact=True).input_value() == "PAY"

    admin.get_by_label("Since", exact=True).fill("2026-01-01")
    admin.get_by_label("Until", exact=True).fill("2026-06-30")
    admin.get_by_role("button", name="Apply").click()
    admin.wait_for_url("**since=2026-01-01**")
    assert query(admin) == {"project": ["PAY"], "since": ["2026-01-01"], "until": ["2026-06-30"]}
    recent = area_counts(admin)

    for area in AREAS:
        assert recent[area] != pay[area] != whole[area], area
        for side in ("partner", "client"):
            assert recent[area][side] <= pay[area][side] < whole[area][side], (area, side)
    # The demo's story: after the shift the partner carries quality assurance.
    qa = table_after(admin, "Areas").locator("tbody > tr", has_text="quality assurance")
    assert qa.locator("td").last.inner_text() == "win-win"


@pytest.mark.parametrize("path", ["/", "/areas/quality_assurance", "/tickets", "/tickets/1", "/people", "/review",
                                  "/quality"])
def test_a_phone_reads_each_page_without_scrolling_sideways(browser: Browser, base_url: str, path: str) -> None:
    page = new_page(browser, base_url, viewport={"width": 390, "height": 844})
    try:
        log_in(page)
        page.goto(path)
        assert page.locator("h1").is_visible()
        width, inner = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert width <= inner, f"{path} is {width} px wide on a {inner} px screen"
    finally:
        page.context.close()
