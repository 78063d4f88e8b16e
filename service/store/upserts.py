"""Upsert neutral records into SQL, idempotently and newest-copy-wins.

The caller owns the session and its transaction (a page and its bookmark commit together).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import bindparam, delete, select, union_all, update
from sqlalchemy.orm import Session

from connectors.records import ParsedTicket
from connectors.webhooks import TicketEvents
from service.store.directory import Directory
from service.store.tombstones import removed_by_row, removed_from, without_removed
from service.store.webhook_acts import reconcile
from service.store.rollups import forget_shares
from service.store.sql import (ATTRIBUTIONS, EVENT_COLUMNS, EVENTS, LINKS, TICKETS, bulk_insert, chunks, clean,
                               clean_record)

@dataclass(slots=True)
class StoreResult:
    """What one `store_tickets` call changed; `stored` (row id, record) need (re-)attribution."""

    tickets: int = 0
    events: int = 0
    skipped_stale: int = 0
    new_accounts: int = 0  # accounts new, or with a new email
    dropped_links: set[str] = field(default_factory=set)  # targets updated tickets no longer name
    refused: list[tuple[str, str]] = field(default_factory=list)  # (ticket key, why): another issue's identity
    cut: list[tuple[str, str]] = field(default_factory=list)  # (ticket key, what was cut to its column)
    updated_ids: set[int] = field(default_factory=set)  # among `stored`: tickets known before
    stored: list[tuple[int, ParsedTicket]] = field(default_factory=list)

    @property
    def ticket_ids(self) -> list[int]:
        return [tid for tid, _ in self.stored]


def store_tickets(
    session: Session, parsed: Sequence[ParsedTicket], directory: Directory,
    phase_of: Callable[[str], str | None],
) -> StoreResult:
    """Upsert tickets, their accounts and events. An older or equal copy changes no field of the
    stored ticket (unless the stored copy is flagged incomplete and an equal one is not: a fuller
    export of the same state), but adds the events it holds that were not stored yet.

    A copy whose id is stored as another issue (another site's, or the same id created at another
    time) or whose key is stored under another id is refused, never taken as an update of it:
    it lands in `StoreResult.refused` with a sentence naming both tickets.
    """
    result = StoreResult()
    if not parsed:
        return result
    parsed = [clean_record(item, result.cut) for item in parsed]  # attributed later, so they must match the rows
    # Within one batch the newest copy of a ticket wins too (an overlap can repeat one), by the
    # same rules as against the stored copy.
    latest: dict[tuple[str, str], ParsedTicket] = {}
    keys: dict[tuple[str, str], str] = {}  # (source, key) -> external id, within the batch
    for item in parsed:
        t = item.ticket
        key = (t.source, t.external_id)
        held = latest.get(key)
        holder = keys.setdefault((t.source, t.key), t.external_id)
        if holder != t.external_id:
            result.refused.append((t.key, _key_taken(t, holder)))
        elif held is not None and not _same_issue(held.ticket, t.site, t.created):
            result.refused.append((t.key, _collision(t, held.ticket)))
        elif held is None or t.updated > held.ticket.updated or (
                t.updated == held.ticket.updated and held.incomplete and not item.incomplete):
            latest[key] = item
    # A deleted act stays deleted whatever copy still lists it (service.store.tombstones): left out
    # here, it is neither stored nor attributed from the records in hand.
    for key, removed in removed_from(session, latest).items():
        latest[key] = replace(latest[key], events=without_removed(latest[key].events, removed))

    existing = _existing(session, latest)
    taken = _keys_taken(session, latest)
    inserts: list[ParsedTicket] = []
    updates: list[tuple[int, ParsedTicket]] = []
    extends: list[tuple[int, ParsedTicket]] = []
    for key, item in latest.items():
        t = item.ticket
        known = existing.get(key)
        if known is None:
            holder = taken.get((t.source, t.key))
            if holder is not None and holder[0] != t.external_id:
                result.refused.append((t.key, _key_taken(t, holder[0])))
            else:
                inserts.append(item)
        elif not _same_issue(known, t.site, t.created):
            result.refused.append((t.key, _collision(t, known)))
        elif t.updated > known.updated or (t.updated == known.updated and known.incomplete and not item.incomplete
                                       and not item.partial):
            updates.append((known.id, item))
        else:
            # As new as the stored copy or older: its fields change nothing, but it may hold events
            # the stored copy lacked (an export read again with its events file; a webhook delivery,
            # which carries only its own change and may arrive after a newer one).
            extends.append((known.id, item))
    kept = inserts + [item for _, item in updates] + [item for _, item in extends]
    result.new_accounts = directory.ensure(session, (a for item in kept for a in item.accounts))

    id_by_item: list[tuple[int, ParsedTicket]] = list(updates)
    if inserts:
        new_ids = session.execute(
            TICKETS.insert().returning(TICKETS.c.id, sort_by_parameter_order=True),
            [_ticket_row(item, directory, phase_of) for item in inserts],
        ).scalars().all()
        id_by_item.extend(zip(new_ids, inserts))
    if updates:
        rows = [{"b_id": tid, **_ticket_row(item, directory, phase_of)} for tid, item in updates]
        for row, (_, item) in zip(rows, updates):
            if item.partial:
                del row["incomplete"]  # one change says nothing about the rest: the stored flag stands
        for keys in {tuple(row) for row in rows}:  # one statement per shape of row
            session.connection().execute(update(TICKETS).where(TICKETS.c.id == bindparam("b_id")),
                                         [row for row in rows if tuple(row) == keys])
    # Only events not stored yet: all of a new ticket's, the unseen ones of an updated ticket.
    seen: set[tuple[int, str]] = set()
    known_ids = [tid for tid, _ in updates + extends]
    for chunk in chunks(known_ids, 500):
        rows = session.execute(
            select(EVENTS.c.ticket_id, EVENTS.c.external_id).where(EVENTS.c.ticket_id.in_(chunk)))
        seen.update((tid, external_id) for tid, external_id in rows)
    id_of = directory.id_of
    github = [(tid, item) for tid, item in id_by_item + extends if "/" in item.ticket.key]
    if github:  # an act a webhook reported without its tracker id is stored once (service.store.webhook_acts)
        seen |= reconcile(session, github, lambda account: directory.by_id[account].ref
                          if account in directory.by_id else None)
    event_rows = []
    extended: list[tuple[int, ParsedTicket]] = []
    for tid, item in extends:
        before = len(event_rows)
        _event_rows(tid, item, seen, id_of, event_rows)
        if len(event_rows) > before:
            extended.append((tid, item))
        else:
            result.skipped_stale += 1
    for tid, item in id_by_item:
        _event_rows(tid, item, seen, id_of, event_rows)
    # A concurrent writer (webhook beside a sync) may have stored some meanwhile: skip those,
    # and count what landed.
    result.events = bulk_insert(session, EVENTS, EVENT_COLUMNS, event_rows, skip_conflicts=True)
    result.dropped_links = _store_links(session, id_by_item, [tid for tid, _ in updates])
    result.tickets = len(id_by_item) + len(extended)
    result.stored = id_by_item + extended
    result.updated_ids = {tid for tid, _ in updates + extended}  # attributed again from the database
    return result


PARTIAL = "only webhook deliveries so far; a sync brings the rest of its history"


def attach_events(session: Session, directory: Directory, attached: Sequence[TicketEvents]) -> list[int]:
    """Add acts to stored tickets without touching their fields (a comment a delivery describes on
    a partly described issue), but none the tracker deleted since. Returns the tickets that got
    any; acts on tickets not stored yet wait for the sync, which brings them under the same ids.

    One query for the tickets and one for their stored and removed events, whatever the number of
    acts: a batch of webhook deliveries holds dozens of comment events, and on PostgreSQL two round
    trips each made up much of the time the applier took for a batch."""
    directory.ensure(session, [a for t in attached for a in t.accounts])
    ids: dict[tuple[str, str], int] = {}
    by_source: dict[str, list[str]] = {}
    for t in attached:
        by_source.setdefault(t.source, []).append(t.external_id)
    for source, external_ids in by_source.items():
        for chunk in chunks(sorted(set(external_ids)), 500):
            ids.update(((source, row.external_id), row.id) for row in session.execute(
                select(TICKETS.c.id, TICKETS.c.external_id).where(TICKETS.c.source == source,
                                                                   TICKETS.c.external_id.in_(chunk))))
    seen: set[tuple[int, str]] = set()  # stored, or deleted by the tracker: not added (again)
    for chunk in chunks(sorted(set(ids.values())), 500):
        seen.update((row.ticket_id, row.external_id) for row in session.execute(union_all(
            select(EVENTS.c.ticket_id, EVENTS.c.external_id).where(EVENTS.c.ticket_id.in_(chunk)),
            removed_by_row(chunk))))
    rows: list[tuple[Any, ...]] = []
    touched: dict[int, None] = {}
    for t in attached:
        tid = ids.get((t.source, t.external_id))
        if tid is None:
            continue
        before = len(rows)
        _event_rows(tid, ParsedTicket(_ticket_stub(t), list(t.accounts), list(t.events)), seen, directory.id_of, rows)
        if len(rows) > before:
            touched[tid] = None
    # A concurrent writer (a sync) may have stored some meanwhile: those are skipped.
    bulk_insert(session, EVENTS, EVENT_COLUMNS, rows, skip_conflicts=True)
    return list(touched)


def _ticket_stub(t: TicketEvents) -> Any:
    from connectors.records import Ticket

    return Ticket(t.source, t.external_id, t.key, "", "", "other", "", "", datetime.min.replace(tzinfo=timezone.utc),
                  datetime.min.replace(tzinfo=timezone.utc))


def _event_rows(tid: int, item: ParsedTicket, seen: set[tuple[int, str]], id_of: Callable[[str | None], int | None],
                rows: list[tuple[Any, ...]]) -> None:
    for ev in item.events:
        if (tid, ev.external_id) in seen:
            continue  # stored before, or repeated in this copy (a duplicated history entry)
        seen.add((tid, ev.external_id))
        rows.append((tid, ev.external_id, ev.kind, ev.at, id_of(ev.actor), ev.field, ev.from_value, ev.to_value))


@dataclass(slots=True)
class _Stored:
    id: int
    key: str
    site: str | None
    created: datetime
    updated: datetime
    incomplete: str | None


def _existing(session: Session, latest: dict[tuple[str, str], ParsedTicket]) -> dict[tuple[str, str], _Stored]:
    existing: dict[tuple[str, str], _Stored] = {}
    by_source: dict[str, list[str]] = {}
    for source, external_id in latest:
        by_source.setdefault(source, []).append(external_id)
    c = TICKETS.c
    for source, ids in by_source.items():
        for chunk in chunks(ids, 500):
            rows = session.execute(select(c.id, c.external_id, c.key, c.site, c.created, c.updated, c.incomplete)
                                   .where(c.source == source, c.external_id.in_(chunk)))
            for row in rows:
                existing[(source, row.external_id)] = _Stored(row.id, row.key, row.site, row.created, row.updated,
                                                              row.incomplete)
    return existing


def _keys_taken(session: Session, latest: dict[tuple[str, str], ParsedTicket]) -> dict[tuple[str, str], tuple[str, int]]:
    """(source, key) -> (external id, row id) of stored tickets with the keys of this batch."""
    by_source: dict[str, list[str]] = {}
    for item in latest.values():
        by_source.setdefault(item.ticket.source, []).append(item.ticket.key)
    taken: dict[tuple[str, str], tuple[str, int]] = {}
    c = TICKETS.c
    for source, keys in by_source.items():
        for chunk in chunks(keys, 500):
            for row in session.execute(select(c.id, c.key, c.external_id).where(c.source == source, c.key.in_(chunk))):
                taken[(source, row.key)] = (row.external_id, row.id)
    return taken


def _same_issue(known: Any, site: str | None, created: datetime) -> bool:
    """Whether a stored copy and a new one are one issue: the same site (when both say) and the same
    creation time (sites on one host share a URL; a moved issue keeps its id and creation time)."""
    if known.site and site and known.site.rstrip("/").casefold() != site.rstrip("/").casefold():
        return False
    return known.created == created


def _key_taken(t: Any, holder: str) -> str:
    return (f"its key is stored for another issue: source '{t.source}' holds {t.key} as id {holder}, while this "
            f"copy has id {t.external_id}; nothing from it was stored")


def _collision(t: Any, known: Any) -> str:
    here = f" from {t.site}" if t.site else ""
    there = f" from {known.site}" if known.site else ""
    return (f"id {t.external_id}{here} (created {t.created:%Y-%m-%d %H:%M} UTC) is another issue than the "
            f"stored {known.key}{there} (created {known.created:%Y-%m-%d %H:%M} UTC) under source '{t.source}'; "
            f"Jira sites reuse ids, so import each site under a source of its own (--source NAME); "
            "nothing from it was stored")


def _store_links(session: Session, stored: list[tuple[int, ParsedTicket]], updated_ids: list[int]) -> set[str]:
    """Keep each ticket's links ("fixes #12", "PAY-123") as its newest copy states them; returns
    the targets that lost a link (their attributions no longer include that pull request)."""
    before: set[str] = set()
    for chunk in chunks(updated_ids, 500):
        before.update(session.scalars(select(LINKS.c.target_key).where(LINKS.c.ticket_id.in_(chunk))))
        session.execute(delete(LINKS).where(LINKS.c.ticket_id.in_(chunk)))
    rows = [(tid, key) for tid, item in stored for key in dict.fromkeys(item.links)]
    bulk_insert(session, LINKS, ("ticket_id", "target_key"), rows, skip_conflicts=True)
    return before - {key for _, key in rows}


def ticket_ids_of(session: Session, keys: Iterable[str]) -> list[int]:
    """Row ids of the tickets with these keys (on any source)."""
    keys = sorted(keys)
    ids: list[int] = []
    for chunk in chunks(keys, 500):
        ids.extend(session.scalars(select(TICKETS.c.id).where(TICKETS.c.key.in_(chunk))))
    return ids


def _ticket_row(item: ParsedTicket, directory: Directory, phase_of: Callable[[str], str | None]) -> dict[str, Any]:
    t = item.ticket
    return {
        "source": t.source,
        "external_id": t.external_id,
        "key": t.key,
        "project": t.project,
        "type_name": t.type_name,
        "kind": t.kind,
        "title": t.title,
        "status": t.status,
        "phase": phase_of(t.status),
        "created": t.created,
        "updated": t.updated,
        "resolved": t.resolved,
        "url": t.url,
        "reporter_id": directory.id_of(t.reporter),
        "assignee_id": directory.id_of(t.assignee),
        "priority": t.priority,
        "labels": list(t.labels),
        "site": t.site,
        "resolution": t.resolution,
        "incomplete": clean("; ".join(item.incomplete)) if item.incomplete else PARTIAL if item.partial else None,
    }


def mark_deleted(session: Session, source: str, external_ids: Sequence[str]) -> list[int]:
    """Tickets the tracker deleted: they leave the reports (their attributions go), their history
    stays. Returns their row ids."""
    ids = list(session.scalars(select(TICKETS.c.id).where(TICKETS.c.source == source,
                                                          TICKETS.c.external_id.in_(list(external_ids)))))
    if ids:
        session.execute(update(TICKETS).where(TICKETS.c.id.in_(ids)).values(deleted_at=datetime.now(timezone.utc)))
        session.execute(delete(ATTRIBUTIONS).where(ATTRIBUTIONS.c.ticket_id.in_(ids)))
        forget_shares(session, ids)
    return ids
