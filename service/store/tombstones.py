"""Acts the tracker deleted (a comment), remembered so that a deleted act stays deleted.

Deliveries arrive out of order, and copies of one ticket come by several paths. A comment's
`comment_deleted` delivery may be applied before its `comment_created`, before a
`jira:issue_updated` that embeds it, or before a sync or import page read earlier that still
lists it. Deleting the stored event alone lets any of these add it back, and count it again in
the attributions and signals. So a removal is also stored as a tombstone, and the paths that add
events to stored tickets (`service.store.upserts`: `store_tickets`, `attach_events`) leave the
tombstoned ones out of what they store and of the records they attribute.

A tombstone names its ticket by (source, ticket external id), not by row: a deletion can be
applied before any copy of its ticket is stored (the sync has not reached it, the issue's own
delivery comes in a later batch) and must hold once the ticket arrives.

Tombstones are kept, not pruned with the deliveries (`[webhooks] retention_days`): what could
bring a comment back is not bounded by that retention. A failed delivery is kept twice as long
and can be replayed, an export file can be imported again at any time, and a row per deleted
comment is small beside the events.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Sequence

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from connectors.records import Event
from service.store.sql import EVENTS, REMOVED_EVENT_COLUMNS, REMOVED_EVENTS, TICKETS, bulk_insert, chunks, clean


def remove_events(session: Session, source: str, pairs: Sequence[tuple[str, str]]) -> list[int]:
    """Events the tracker deleted (a comment): (ticket external id, event external id). Deletes
    the stored ones and remembers every one, its ticket stored yet or not. Returns the tickets to
    attribute again."""
    removed_at = datetime.now(timezone.utc)
    # Cut as the store cuts ids to their columns, so a tombstone matches the event it stands for.
    rows = list(dict.fromkeys((source, clean(ticket, 200), clean(event, 200), removed_at) for ticket, event in pairs))
    bulk_insert(session, REMOVED_EVENTS, REMOVED_EVENT_COLUMNS, rows, skip_conflicts=True)  # the first removal's time stands
    touched = []
    for external_id, event_id in pairs:
        tid = session.scalar(select(TICKETS.c.id).where(TICKETS.c.source == source, TICKETS.c.external_id == external_id))
        if tid is not None and session.execute(delete(EVENTS).where(
                EVENTS.c.ticket_id == tid, EVENTS.c.external_id == event_id)).rowcount:
            touched.append(tid)
    return touched


def removed_from(session: Session, tickets: Iterable[tuple[str, str]]) -> dict[tuple[str, str], frozenset[str]]:
    """(source, ticket external id) -> the ids of its events the tracker deleted, for the tickets
    that have any. One query per source and 500 tickets, as a page's stored events are read."""
    by_source: dict[str, set[str]] = {}
    for source, external_id in tickets:
        by_source.setdefault(source, set()).add(external_id)
    found: dict[tuple[str, str], set[str]] = {}
    c = REMOVED_EVENTS.c
    for source, external_ids in by_source.items():
        for chunk in chunks(sorted(external_ids), 500):
            for row in session.execute(select(c.ticket_external_id, c.event_external_id)
                                       .where(c.source == source, c.ticket_external_id.in_(chunk))):
                found.setdefault((source, row.ticket_external_id), set()).add(row.event_external_id)
    return {key: frozenset(ids) for key, ids in found.items()}


def removed_by_row(ticket_ids: Sequence[int]) -> Select[tuple[int, str]]:
    """(ticket_id, external_id) of the events the tracker deleted from these stored tickets: a
    query to read with their stored events, in the same round trip."""
    c = REMOVED_EVENTS.c
    return (select(TICKETS.c.id.label("ticket_id"), c.event_external_id.label("external_id"))
            .join_from(REMOVED_EVENTS, TICKETS, (TICKETS.c.source == c.source)
                       & (TICKETS.c.external_id == c.ticket_external_id))
            .where(TICKETS.c.id.in_(ticket_ids)))


def without_removed(events: Iterable[Event], removed: frozenset[str]) -> list[Event]:
    """`events` less those the tracker deleted."""
    return [e for e in events if e.external_id not in removed]
