"""Signal facts summed, and each ticket's share of the sums, written and taken out together.

Reports read sums, never single facts: by month from `signal_rollups`, and by day from
`signal_days` for a month that a report's dates cut and for a person's first days. A ticket's
facts are summed into its `Share` (`share_key` says how a fact is keyed), stored as one row of
`signal_tickets`, and added to both sums; when the ticket is attributed anew, `forget_shares`
reads that row back and takes it out. Each write adjusts its sums in key order, so two writes
meeting on the same keys lock them in the same order; a transaction that writes several times
(a page's new tickets, then the tickets it touched again) can still meet another one in the
opposite order on PostgreSQL, which then aborts one of them as a deadlock: that sync page or
batch of deliveries is rolled back whole (a sync run again resumes from its bookmark; the
applier applies a failed batch again delivery by delivery).
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from analytics.signals.durations import bucket
from service.store.models import SignalDay, SignalRollup, SignalTicket
from service.store.sql import bulk_add, bulk_insert

ROLLUPS = SignalRollup.__table__
DAYS = SignalDay.__table__
TICKET_SHARES = SignalTicket.__table__
#: Measures summed per person (side and person), and per pair of people.
PER_PERSON = frozenset({"comment", "first_act", "role:resolve"})
PER_PAIR = frozenset({"comment_pair", "contact"})
DURATIONS = frozenset({"response_hours"})
SUM_COLUMNS = ("partner", "project", "side", "person_id", "other_person_id")
FLUSH_AT = 200_000  # keys a rebuild holds in memory before it writes them out

ShareKey = tuple[str, str, str, str, int, int]  # day, measure, partner, side, person, other
Share = dict[ShareKey, list[int]]  # -> [n, k, facts]


def share_key(measure: str, at: datetime, partner: str | None, side: str | None, person: int | None,
              other: int | None, x: float | None) -> ShareKey:
    """How a fact is summed: on its UTC day; by acting side for roles; by person and pair only for
    the measures read per person; by the duration's bucket (in the person's place) for durations."""
    if at.tzinfo is not None and at.tzinfo is not timezone.utc:
        at = at.astimezone(timezone.utc)
    day = at.date().isoformat()
    if measure in PER_PAIR:
        return (day, measure, partner or "", "", person or 0, other or 0)
    if measure in PER_PERSON:
        return (day, measure, partner or "", side or "", person or 0, 0)
    if measure.startswith("role:"):
        return (day, measure, partner or "", side or "", 0, 0)
    if measure in DURATIONS:
        return (day, measure, partner or "", "", bucket(x or 0.0), 0)
    return (day, measure, partner or "", "", 0, 0)


@dataclass(slots=True)
class TicketShare:
    ticket_id: int
    project: str
    uncredited: bool  # closed, and nobody credited with the close (data quality)
    sums: Share


class Sums:
    """Changes to the daily and monthly sums, gathered before they are written in one go."""

    def __init__(self) -> None:
        self.days: dict[tuple[Any, ...], list[int]] = {}
        self.months: dict[tuple[Any, ...], list[int]] = {}

    def __len__(self) -> int:
        return len(self.days)

    def add(self, project: str, share: Share, sign: int) -> None:
        days, months = self.days, self.months
        for (day, measure, partner, side, person, other), (n, k, c) in share.items():
            for table, when in ((days, day), (months, day[:7])):
                cell = table.get((when, measure, partner, project, side, person, other))
                if cell is None:
                    table[(when, measure, partner, project, side, person, other)] = [sign * n, sign * k, sign * c]
                else:
                    cell[0] += sign * n
                    cell[1] += sign * k
                    cell[2] += sign * c

    def write(self, session: Session) -> None:
        _adjust(session, DAYS, "day", self.days)
        _adjust(session, ROLLUPS, "month", self.months)
        self.days, self.months = {}, {}


def add_shares(session: Session, shares: Sequence[TicketShare], into: Sums | None = None) -> None:
    """Store these tickets' shares and add them to the sums: now, or into a rebuild's `into`."""
    bulk_insert(session, TICKET_SHARES, ("ticket_id", "project", "uncredited", "sums"),
                [(s.ticket_id, s.project, s.uncredited, _encode(s.sums)) for s in shares])
    sums = into if into is not None else Sums()
    for s in shares:
        sums.add(s.project, s.sums, 1)
    if into is None or len(into) > FLUSH_AT:
        sums.write(session)


def forget_shares(session: Session, ticket_ids: Sequence[int]) -> None:
    """Take these tickets' shares out of the sums and delete them."""
    if not ticket_ids:
        return
    t = TICKET_SHARES.c
    ids = list(ticket_ids)
    sums = Sums()
    for project, text in session.execute(select(t.project, t.sums).where(t.ticket_id.in_(ids))):
        sums.add(project, _decode(text), -1)
    # Every row goes, an empty share's too: a ticket that yielded no fact still has its row.
    session.execute(delete(TICKET_SHARES).where(t.ticket_id.in_(ids)))
    sums.write(session)


@contextmanager
def rebuilding(session: Session) -> Iterator[Sums]:
    """Every share is about to be made again (`partnerscope classify`): forget them all, gather
    the new sums in memory (written out whenever they grow past `FLUSH_AT` keys) and write
    them at the end, rather than adjusting the same keys batch after batch."""
    for table in (TICKET_SHARES, DAYS, ROLLUPS):
        session.execute(delete(table))
    sums = Sums()
    yield sums
    sums.write(session)


def _encode(share: Share) -> str:
    return json.dumps([[*key, *cell] for key, cell in share.items()], separators=(",", ":"))


def _decode(text: str) -> Share:
    return {tuple(item[:6]): item[6:] for item in json.loads(text)}  # type: ignore[misc]


def _adjust(session: Session, table: Any, when: str, changes: dict[tuple[Any, ...], list[int]]) -> None:
    """Add `changes` (keyed by `when`, measure and `SUM_COLUMNS`) to `table`'s sums, and drop the
    sums no fact holds any more."""
    rows = [(*k, *v) for k, v in sorted(changes.items()) if any(v)]
    bulk_add(session, table, (when, "measure", *SUM_COLUMNS), ("n", "k", "c"), rows)
    emptied = sorted({k[0] for k, v in changes.items() if v[2] < 0})
    for start in range(0, len(emptied), 500):
        session.execute(delete(table).where(table.c[when].in_(emptied[start:start + 500]), table.c.c <= 0))
