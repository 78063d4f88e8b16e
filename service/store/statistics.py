"""Planner statistics on PostgreSQL for the tables an ingest grows.

PostgreSQL plans from statistics that ANALYZE gathers, and only autovacuum runs it unasked. On a
new database, or a server where autovacuum is off (as on this project's CI machine), there are
none, and the planner guesses: looking a page's 500 tickets up by source and external id, it used
the unique index for the source alone and filtered every row of that source, so each page read
the whole table (measured on the demo build: 16 ms a lookup at 56,000 tickets, and growing with
them), and a million-ticket build would never end. So the ingest paths analyze those tables
themselves whenever the tickets stored since their last look outnumber what was there then: a
handful of times over any build, each a sample of the rows, not a read of them. SQLite plans these
lookups well without statistics.
"""
from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from service.store.sql import TICKETS

FIRST = 2000  # tickets stored before the first look
TABLES = ("tickets", "events", "attributions", "accounts", "signal_tickets", "signal_days", "signal_rollups")


class Statistics:
    """Counts the tickets an ingest stores and analyzes the tables when they have doubled."""

    def __init__(self) -> None:
        self.stored = 0
        self.threshold: int | None = None  # tickets to store before the next ANALYZE

    def stored_tickets(self, session: Session, count: int) -> None:
        if session.get_bind().dialect.name != "postgresql" or not count:
            return
        if self.threshold is None:
            self.threshold = max(FIRST, session.scalar(select(func.count()).select_from(TICKETS)) or 0)
        self.stored += count
        if self.stored >= self.threshold:
            session.execute(text(f"ANALYZE {', '.join(TABLES)}"))
            self.threshold = max(FIRST, session.scalar(select(func.count()).select_from(TICKETS)) or 0)
            self.stored = 0
