"""One generated demo scenario shared by the simulator tests (generating it takes about a second)."""
from __future__ import annotations

from typing import Any

import pytest

from simulator.scenario import generate

TICKETS = 2000


@pytest.fixture(scope="session")
def issues() -> list[dict[str, Any]]:
    """The default scenario at its default size and seed, full changelogs included."""
    return generate(TICKETS)
