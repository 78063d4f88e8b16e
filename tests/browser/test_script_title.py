"""A ticket titled `<script>alert(1)</script>` in a tracker is shown as those characters and runs
nothing: the templates escape it, and the Content-Security-Policy would refuse it if one did not."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.browser.live import SCRIPT_KEY, SCRIPT_TITLE, table_after

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Page


def test_a_script_title_is_text_on_the_list_and_the_ticket_page(admin: Page) -> None:
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    admin.on("dialog", refuse)
    admin.goto("/tickets")
    admin.get_by_label("Text").fill("<script>")
    admin.get_by_role("button", name="Apply").click()
    admin.wait_for_url("**q=%3Cscript%3E**")
    row = admin.locator("table > tbody > tr")
    assert row.count() == 1 and row.locator("td").nth(1).inner_text() == SCRIPT_TITLE

    with admin.expect_response(re.compile(r"/tickets/\d+$")) as answer:
        row.get_by_role("link", name=SCRIPT_KEY).click()
    admin.wait_for_load_state()
    assert admin.locator("h1").inner_text() == f"{SCRIPT_KEY}: {SCRIPT_TITLE}"
    assert admin.locator("script").count() == 0  # no element made of the title, run or not
    policy = answer.value.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    # Imported like any export: the partner's close is its evidence.
    evidence = table_after(admin, "Who carried what").locator("tbody > tr", has_text="resolve")
    assert evidence.locator("td").last.inner_text() == "moved In Progress → Done by Henrik Aas on 2026-03-03"
    assert dialogs == []
