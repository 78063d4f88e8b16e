"""The records signals are made of: a dated `Fact`, an `Act` with its actor's side, and the
constants that say which kinds, phases and fields count for what."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable, NamedTuple

from connectors.records import Event

SideOf = Callable[[str, datetime], "tuple[str, str | None]"]

SIDES = ("client", "partner")
SERVICE_KINDS = frozenset({"incident", "service_request"})
DEVELOPMENT_PHASES = frozenset({"develop", "review", "test", "accept", "release", "deployed"})
SPEC_FIELDS = frozenset({"summary", "description", "title", "acceptance criteria"})
RESPONSE_KINDS = frozenset({"comment", "assign", "transition"})
PAIR_WINDOW = timedelta(days=14)
REPLY_WORKING_DAYS = 2


class Fact(NamedTuple):  # tuples: a ticket yields a score of facts, and millions are made per classify
    """One observation for a measure: `k` of `n`, or a duration `x` (hours), dated `at`."""

    measure: str
    at: datetime
    partner: str | None  # the partner organisation it concerns (None: no partner took part)
    k: int = 0
    n: int = 1
    x: float | None = None
    person: str | None = None  # account ref of the person it is about
    other: str | None = None  # the other person of a pair
    side: str = ""  # the side of `person` at `at`, where the fact is one person's act


class Attributed(NamedTuple):
    """An attribution with its actor's side and organisation at the time of the act."""

    role: str
    actor: str
    at: datetime
    side: str
    organisation: str | None


class Act(NamedTuple):
    """An event with its actor's side and organisation at the time."""

    event: Event
    side: str
    organisation: str | None


def ticket_partner(acts: Iterable[Act]) -> str | None:
    """The partner organisation that acted most on the ticket (ties by name), None if none did."""
    counts: dict[str, int] = {}
    for act in acts:
        if act.side == "partner" and act.organisation:
            counts[act.organisation] = counts.get(act.organisation, 0) + 1
    if not counts:
        return None
    return min(counts, key=lambda org: (-counts[org], org))


def working_days_after(at: datetime, days: int) -> datetime:
    """`at` moved on by `days` working days (Monday to Friday), same time of day."""
    moved, left = at, days
    while left:
        moved += timedelta(days=1)
        if moved.weekday() < 5:
            left -= 1
    return moved
