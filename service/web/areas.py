"""An area page per responsibility: its monthly shares as a chart drawn on the server (SVG, so the
page runs no script), per project and per partner, and the people who carried it most."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from werkzeug.exceptions import NotFound

from analytics.scorecard import AREAS
from service.store.areas import SIDES, area_view
from service.store.quality import signals_owed
from service.web.context import filter_args, filters, state

areas = Blueprint("areas", __name__)
BAR, GAP, HEIGHT = 12, 3, 120  # pixels of the chart


@areas.get("/areas/<name>")
def area_page(name: str) -> str:
    known_area(name)
    config, sessions = state()
    chosen = filters()
    with sessions() as session:
        view = area_view(session, name, chosen)
        owed = signals_owed(session)
    return render_template("area.html", name=name, roles=AREAS[name], view=view, owed=owed, sides=SIDES,
                           bars=_bars(view.months), width=len(view.months) * (BAR + GAP), height=HEIGHT,
                           filter_args=filter_args())


def known_area(name: str) -> None:
    """Nothing for an area's name (the page's and the API's); any other name is a 404 naming the areas."""
    if name not in AREAS:
        raise NotFound(f"There is no area {name[:40]!r}; the areas are {', '.join(AREAS)}.")


def _bars(months: list[tuple[str, dict[str, int]]]) -> list[dict[str, Any]]:
    """Each month's bar: its parts stacked from the bottom, partner first, in shares of the month."""
    bars = []
    for i, (month, counts) in enumerate(months):
        total = sum(counts.values())
        top, parts = float(HEIGHT), []
        for side in SIDES:
            height = HEIGHT * counts[side] / total if total else 0.0
            top -= height
            parts.append({"side": side, "y": round(top, 1), "height": round(height, 1)})
        bars.append({"month": month, "x": i * (BAR + GAP), "parts": parts, "total": total, "counts": counts})
    return bars
