"""What a resolution is, the same on every tracker (DESIGN.md, "Roles and evidence").

The close that stands is the first move into a `done` or `deployed` phase after the ticket's
last reopen (on GitHub: the first close after the last reopen, or a merge). Whoever made it
resolved the ticket, unless its resolution declines the work (Won't Fix, Duplicate, GitHub's
"not planned", …): then it is a `decline`, which is not counted as resolving anything. A
missing or unknown resolution counts as a fix, because trackers leave it out more often than
they record a decline. Earlier closes keep their events, and every reopen of a close is an act
of its own (`reopen`): a client reopening partner-resolved work is quality-assurance evidence,
though only against the side whose close it reopens, so no area counts it on its own.

Why not the first close: real sites move tickets to Resolved and back in board migrations
and bulk edits; "first close" credits the migrating admin with most resolutions, while the
people who later closed them for good get none.
"""
from __future__ import annotations

from typing import Iterable

#: Resolution names (Jira resolutions, GitHub closing reasons) that decline the work. Matching
#: ignores case, surrounding spaces, underscores (GitHub's `not_planned`) and the typographic
#: apostrophe. A site in another language adds its own names in `[workflow] declining_resolutions`.
DEFAULT_DECLINING = (
    "Won't Fix", "Won't Do", "Duplicate", "Cannot Reproduce", "Incomplete", "Declined", "Rejected",
    "Cancelled", "Canceled", "Not planned",
)

CLOSED_PHASES = frozenset({"done", "deployed"})


def normalise(name: str) -> str:
    """A resolution name as compared: `Won’t_Fix ` and `won't fix` are one name."""
    return " ".join(name.replace("’", "'").replace("_", " ").split()).casefold()


def declining_set(names: Iterable[str]) -> frozenset[str]:
    """The normalised declining names; a ValueError names an empty or non-text entry."""
    found = set()
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"declining resolutions must be non-empty names, not {name!r}.")
        found.add(normalise(name))
    return frozenset(found)


def is_declining(resolution: str | None, declining: frozenset[str]) -> bool:
    """Whether a resolution name declines the work; None (no resolution recorded) is a fix."""
    return resolution is not None and normalise(resolution) in declining
