"""Upsert neutral records into SQL, idempotently and newest-copy-wins.

Bulk Core statements rather than ORM objects: a sync page is a few hundred tickets and a
few thousand events, and the ingest path has to keep up with thousands of tickets a second.
The caller owns the session and its transaction (a page and its bookmark commit together).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.records import Account as AccountRecord
from connectors.records import ParsedTicket
from service import models

ACCOUNTS: Table = models.Account.__table__  # type: ignore[assignment]
PEOPLE: Table = models.Person.__table__  # type: ignore[assignment]
TICKETS: Table = models.Ticket.__table__  # type: ignore[assignment]
EVENTS: Table = models.Event.__table__  # type: ignore[assignment]
LINKS: Table = models.TicketLink.__table__  # type: ignore[assignment]
EVENT_COLUMNS = ("ticket_id", "external_id", "kind", "at", "actor_id", "field", "from_value", "to_value")


def dialect_insert(session: Session, table: Table) -> Any:
    """An INSERT that knows ON CONFLICT for the session's database (SQLite or PostgreSQL)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {name!r}; use SQLite or PostgreSQL")


def bulk_insert(session: Session, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]],
                *, skip_conflicts: bool = False) -> int:
    """INSERT many rows straight through the driver's executemany; returns how many were inserted.

    The hot path of ingest and classify: SQLAlchemy's per-row parameter processing costs
    more than the database work here. Datetimes must be aware; they are stored as SQLAlchemy
    itself stores them (naive UTC, as ISO text on SQLite) so that queries read them back.
    """
    if not rows:
        return 0
    connection = session.connection()
    sqlite_db = connection.dialect.name == "sqlite"
    mark = "?" if sqlite_db else "%s"
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
           + (" ON CONFLICT DO NOTHING" if skip_conflicts else ""))
    times = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, models.UTCDateTime)]
    to_db = _sqlite_time if sqlite_db else _pg_time
    if times:
        converted = []
        for row in rows:
            values = list(row)
            for i in times:
                if values[i] is not None:
                    values[i] = to_db(values[i])
            converted.append(tuple(values))
        rows = converted  # type: ignore[assignment]
    # Both drivers sum executemany's row counts; rows skipped by ON CONFLICT count 0.
    return connection.exec_driver_sql(sql, rows).rowcount


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's SQLite format, "%Y-%m-%d %H:%M:%S.%f", built with the much faster isoformat
    # ("… 10:00:00+00:00" less its offset; isoformat leaves out a zero microsecond).
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    text = value.isoformat(" ")[:-6]
    return text if value.microsecond else text + ".000000"


def _pg_time(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None)


@dataclass(slots=True)
class KnownAccount:
    id: int
    person_id: int
    ref: str
    display_name: str | None
    email: str | None


class Directory:
    """Account ids by ref and by id, loaded once per run and kept current as accounts arrive."""

    def __init__(self, session: Session) -> None:
        self.by_ref: dict[str, KnownAccount] = {}
        self.by_id: dict[int, KnownAccount] = {}
        self.reload(session)

    def reload(self, session: Session) -> None:
        """Read every account again (after people were regrouped)."""
        self.by_ref.clear()
        self.by_id.clear()
        self._siblings: dict[int, list[KnownAccount]] | None = None
        rows = session.execute(
            select(ACCOUNTS.c.id, ACCOUNTS.c.person_id, ACCOUNTS.c.tracker, ACCOUNTS.c.external_id,
                   ACCOUNTS.c.display_name, ACCOUNTS.c.email)
        )
        for row in rows:
            self._remember(KnownAccount(row.id, row.person_id, f"{row.tracker}:{row.external_id}",
                                        row.display_name, row.email))

    def _remember(self, known: KnownAccount) -> None:
        self.by_ref[known.ref] = known
        self.by_id[known.id] = known
        self._siblings = None

    def accounts_of(self, person_id: int) -> list[KnownAccount]:
        """Every account of one person (one when nothing was merged)."""
        if self._siblings is None:
            self._siblings = {}
            for known in self.by_id.values():
                self._siblings.setdefault(known.person_id, []).append(known)
        return self._siblings.get(person_id, [])

    def id_of(self, ref: str | None) -> int | None:
        known = self.by_ref.get(ref) if ref else None
        return known.id if known else None

    def ensure(self, session: Session, accounts: Iterable[AccountRecord]) -> int:
        """Insert accounts not seen before (each with a person of its own); refresh names and emails.
        Returns how many accounts are new or have a new email: people may need regrouping."""
        incoming: dict[str, AccountRecord] = {}
        for account in accounts:
            seen = incoming.get(account.ref)
            incoming[account.ref] = _richer(seen, account) if seen else account
        new = [a for ref, a in incoming.items() if ref not in self.by_ref]
        changed = []
        new_emails = 0  # an email learnt later may make two accounts one person
        for ref, account in incoming.items():
            known = self.by_ref.get(ref)
            if known and ((account.display_name and account.display_name != known.display_name)
                          or (account.email and account.email != known.email)):
                new_emails += bool(account.email and account.email != known.email)
                known.display_name = account.display_name or known.display_name
                known.email = account.email or known.email
                changed.append({"b_id": known.id, "display_name": known.display_name, "email": known.email})
        if changed:
            session.connection().execute(
                update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("b_id")),
                changed,
            )
        if not new:
            return new_emails
        person_ids = session.execute(
            PEOPLE.insert().returning(PEOPLE.c.id, sort_by_parameter_order=True),
            [{"name": a.display_name} for a in new],
        ).scalars().all()
        session.execute(
            dialect_insert(session, ACCOUNTS).on_conflict_do_nothing(),
            [
                {"tracker": a.tracker, "external_id": a.external_id, "display_name": a.display_name,
                 "email": a.email, "person_id": pid, "home_person_id": pid}
                for a, pid in zip(new, person_ids)
            ],
        )
        # Re-read rather than trust the insert: a concurrent writer may have won a conflict.
        for a in new:
            row = session.execute(
                select(ACCOUNTS.c.id, ACCOUNTS.c.person_id).where(
                    ACCOUNTS.c.tracker == a.tracker, ACCOUNTS.c.external_id == a.external_id)
            ).one()
            self._remember(KnownAccount(row.id, row.person_id, a.ref, a.display_name, a.email))
        return len(new) + new_emails


def _richer(a: AccountRecord, b: AccountRecord) -> AccountRecord:
    """Combine two sightings of one account, keeping whatever either of them knew."""
    return AccountRecord(a.tracker, a.external_id, b.display_name or a.display_name, b.email or a.email)


@dataclass(slots=True)
class StoreResult:
    """What one `store_tickets` call changed; `stored` (row id, record) need (re-)attribution."""

    tickets: int = 0
    events: int = 0
    skipped_stale: int = 0
    new_accounts: int = 0  # accounts new, or with a new email
    dropped_links: set[str] = field(default_factory=set)  # targets updated tickets no longer name
    updated_ids: set[int] = field(default_factory=set)  # among `stored`: tickets known before
    stored: list[tuple[int, ParsedTicket]] = field(default_factory=list)

    @property
    def ticket_ids(self) -> list[int]:
        return [tid for tid, _ in self.stored]


def store_tickets(
    session: Session, parsed: Sequence[ParsedTicket], directory: Directory,
    phase_of: Callable[[str], str | None],
) -> StoreResult:
    """Upsert tickets, their accounts and events. An older or equal copy changes nothing."""
    result = StoreResult()
    if not parsed:
        return result
    # Within one batch the newest copy of a ticket wins too (an overlap can repeat one).
    latest: dict[tuple[str, str], ParsedTicket] = {}
    for item in parsed:
        key = (item.ticket.source, item.ticket.external_id)
        if key not in latest or item.ticket.updated > latest[key].ticket.updated:
            latest[key] = item
    result.new_accounts = directory.ensure(session, (a for item in latest.values() for a in item.accounts))

    existing: dict[tuple[str, str], tuple[int, Any]] = {}
    by_source: dict[str, list[str]] = {}
    for source, external_id in latest:
        by_source.setdefault(source, []).append(external_id)
    for source, ids in by_source.items():
        for chunk in _chunks(ids, 500):
            rows = session.execute(
                select(TICKETS.c.id, TICKETS.c.external_id, TICKETS.c.updated).where(
                    TICKETS.c.source == source, TICKETS.c.external_id.in_(chunk))
            )
            for row in rows:
                existing[(source, row.external_id)] = (row.id, row.updated)

    inserts: list[ParsedTicket] = []
    updates: list[tuple[int, ParsedTicket]] = []
    for key, item in latest.items():
        known = existing.get(key)
        if known is None:
            inserts.append(item)
        elif item.ticket.updated > known[1]:
            updates.append((known[0], item))
        else:
            result.skipped_stale += 1

    id_by_item: list[tuple[int, ParsedTicket]] = list(updates)
    if inserts:
        new_ids = session.execute(
            TICKETS.insert().returning(TICKETS.c.id, sort_by_parameter_order=True),
            [_ticket_row(item, directory, phase_of) for item in inserts],
        ).scalars().all()
        id_by_item.extend(zip(new_ids, inserts))
    if updates:
        session.connection().execute(
            update(TICKETS).where(TICKETS.c.id == bindparam("b_id")),
            [{"b_id": tid, **_ticket_row(item, directory, phase_of)} for tid, item in updates],
        )
    # Only events not stored yet: all of a new ticket's, the unseen ones of an updated ticket.
    seen: set[tuple[int, str]] = set()
    updated_ids = [tid for tid, _ in updates]
    for chunk in _chunks(updated_ids, 500):
        rows = session.execute(
            select(EVENTS.c.ticket_id, EVENTS.c.external_id).where(EVENTS.c.ticket_id.in_(chunk)))
        seen.update((tid, external_id) for tid, external_id in rows)
    id_of = directory.id_of
    event_rows = [
        (tid, ev.external_id, ev.kind, ev.at, id_of(ev.actor), ev.field, ev.from_value, ev.to_value)
        for tid, item in id_by_item
        for ev in item.events
        if (tid, ev.external_id) not in seen
    ]
    # A concurrent writer (webhook beside a sync) may have stored some meanwhile, and one copy
    # may repeat an event (an export with a history entry twice): skip those, count what landed.
    result.events = bulk_insert(session, EVENTS, EVENT_COLUMNS, event_rows, skip_conflicts=True)
    result.dropped_links = _store_links(session, id_by_item, [tid for tid, _ in updates])
    result.tickets = len(id_by_item)
    result.stored = id_by_item
    result.updated_ids = {tid for tid, _ in updates}
    return result


def _store_links(session: Session, stored: list[tuple[int, ParsedTicket]], updated_ids: list[int]) -> set[str]:
    """Keep each ticket's links ("fixes #12", "PAY-123") as its newest copy states them; returns
    the targets that lost a link (their attributions no longer include that pull request)."""
    before: set[str] = set()
    for chunk in _chunks(updated_ids, 500):
        before.update(session.scalars(select(LINKS.c.target_key).where(LINKS.c.ticket_id.in_(chunk))))
        session.execute(delete(LINKS).where(LINKS.c.ticket_id.in_(chunk)))
    rows = [(tid, key) for tid, item in stored for key in dict.fromkeys(item.links)]
    bulk_insert(session, LINKS, ("ticket_id", "target_key"), rows, skip_conflicts=True)
    return before - {key for _, key in rows}


def ticket_ids_of(session: Session, keys: Iterable[str]) -> list[int]:
    """Row ids of the tickets with these keys (on any source)."""
    keys = sorted(keys)
    ids: list[int] = []
    for chunk in _chunks(keys, 500):
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
    }


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
