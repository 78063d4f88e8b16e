"""The README's screenshots, taken of the demo as the browser tests serve it: the scorecard, an
area page and a ticket page, full length at a laptop's width.

    python -m tests.browser.screenshots docs/     (make screenshots)

The demo is deterministic, so a run changes the pictures only when the pages changed.
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tests.browser.live import build_demo_database, launch, log_in, missing_browser, new_page, serve

if TYPE_CHECKING:
    from playwright.sync_api import Page

AREA = "quality_assurance"
TICKET = "PAY-310"  # a bug both sides acted on: detected, investigated, tested, resolved


def take(folder: Path) -> list[Path]:
    """Build the demo, serve it and save the three pictures into `folder`; returns their paths."""
    from playwright.sync_api import sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    shots = []
    with tempfile.TemporaryDirectory(prefix="partnerscope-screenshots-") as tmp, sync_playwright() as playwright:
        database = build_demo_database(Path(tmp) / "demo.db")
        browser = launch(playwright)
        try:
            with serve(database, Path(tmp)) as url:
                page = new_page(browser, url)
                log_in(page)
                shots.append(_shot(page, folder / "scorecard.png"))
                page.goto(f"/areas/{AREA}")
                shots.append(_shot(page, folder / "area.png"))
                page.goto(f"/tickets?q={TICKET}")
                page.get_by_role("link", name=TICKET, exact=True).click()
                page.wait_for_url("**/tickets/*")
                shots.append(_shot(page, folder / "ticket.png"))
                page.context.close()
        finally:
            browser.close()
    return shots


def _shot(page: Page, path: Path) -> Path:
    """Save the whole page in 256 colours: a page is flat colours and anti-aliased text, so it looks
    the same at well under half the size of Chromium's full-colour PNG (the scorecard's was 390 KB)."""
    from PIL import Image

    page.wait_for_load_state()
    with Image.open(io.BytesIO(page.screenshot(full_page=True))) as shot:
        shot.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.screenshots", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=Path("docs"), help="where to save them (docs)")
    folder = parser.parse_args(argv).folder
    reason = missing_browser()
    if reason:
        print(f"screenshots: cannot take them: {reason}", file=sys.stderr)
        return 1
    for path in take(folder):
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
