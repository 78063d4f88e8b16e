"""The tables as SQLAlchemy Core objects and the few helpers every writer shares.

Bulk Core statements rather than ORM objects on the ingest path: a sync page is a few hundred
tickets and a few thousand events, and ingest has to keep up with thousands of tickets a second.
"""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Sequence

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.records import Account, Event, ParsedTicket
from service.store import models

ACCOUNTS: Table = models.Account.__table__  # type: ignore[assignment]
PEOPLE: Table = models.Person.__table__  # type: ignore[assignment]
TICKETS: Table = models.Ticket.__table__  # type: ignore[assignment]
EVENTS: Table = models.Event.__table__  # type: ignore[assignment]
LINKS: Table = models.TicketLink.__table__  # type: ignore[assignment]
ALIASES: Table = models.AccountAlias.__table__  # type: ignore[assignment]
ACCOUNT_REF = ACCOUNTS.c.tracker + ":" + ACCOUNTS.c.external_id  # an account as its ref, `jira:5b10ac8d`
EVENT_COLUMNS = ("ticket_id", "external_id", "kind", "at", "actor_id", "field", "from_value", "to_value")
REMOVED_EVENTS: Table = models.RemovedEvent.__table__  # type: ignore[assignment]
REMOVED_EVENT_COLUMNS = ("source", "ticket_external_id", "event_external_id", "removed_at")
ATTRIBUTIONS: Table = models.Attribution.__table__  # type: ignore[assignment]
ATTRIBUTION_COLUMNS = ("ticket_id", "role", "account_id", "person_id", "organisation", "side",
                       "event_external_id", "at", "rule", "explanation")


# A text column without a length still gets a cap: a 210 MB summary is no summary.
TEXT_LIMIT = 65536


# Half of a UTF-16 pair, which JSON's \ud83d escapes can produce: no UTF-8 database stores one.
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(value: Any, limit: int = TEXT_LIMIT) -> Any:
    """Text as every database can store it: no NUL bytes (PostgreSQL refuses them in text, so one
    would abort a whole page), no lone surrogates (no UTF-8 encoder takes them; each becomes
    U+FFFD) and no longer than its column (PostgreSQL refuses that too)."""
    if type(value) is not str:
        return value
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii() and _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    return value if len(value) <= limit else value[:limit - 1] + "…"


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


def bulk_add(session: Session, table: Table, key: Sequence[str], sums: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Add `rows` (`key` columns, then `sums` columns) to `table`: a row whose key is stored adds
    its sums to the stored ones, a new key is inserted. Straight through the driver, like
    `bulk_insert`; both databases spell the upsert the same way."""
    if not rows:
        return
    columns = (*key, *sums)
    mark = "?" if session.connection().dialect.name == "sqlite" else "%s"
    sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
           f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
           + ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in sums))
    session.connection().exec_driver_sql(sql, rows)


def _sqlite_time(value: datetime) -> str:
    # SQLAlchemy's SQLite format, "%Y-%m-%d %H:%M:%S.%f", built with the much faster isoformat
    # ("… 10:00:00+00:00" less its offset; isoformat leaves out a zero microsecond).
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    text = value.isoformat(" ")[:-6]
    return text if value.microsecond else text + ".000000"


def _pg_time(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def clean_record(item: ParsedTicket, cuts: list[tuple[str, str]] | None = None) -> ParsedTicket:
    """A parsed ticket whose every text fits every database (see `clean`); the same object when
    nothing needed cleaning, which is nearly always (so the check is one pass, the copy rare).
    Each text cut to its column is noted in `cuts` as (ticket key, what was cut)."""
    t = item.ticket
    if (all(map(_fits_event, item.events)) and all(map(_fits_account, item.accounts)) and _fits_ticket(t)
            and all(_fits(label, 200) for label in t.labels)):
        return item
    if cuts is not None:
        cuts.extend((t.key, what) for what in _too_long(item))
    ticket = replace(t, labels=tuple(clean(label, 200) for label in t.labels),
                     **{name: clean(getattr(t, name), limit) for name, limit in _TICKET_LIMITS})
    events = [e if _fits_event(e) else Event(clean(e.external_id, 200), e.kind, e.at, clean(e.actor, 200),
                                             clean(e.field, 200), clean(e.from_value), clean(e.to_value))
              for e in item.events]
    accounts = [a if _fits_account(a) else Account(a.tracker, clean(a.external_id, 200), clean(a.display_name, 300),
                                                   clean(a.email, 300))
                for a in item.accounts]
    return ParsedTicket(ticket, accounts, events, item.links, item.incomplete)


def _too_long(item: ParsedTicket) -> list[str]:
    """What of a ticket is longer than its column: "title (210,000 characters)"."""
    t = item.ticket
    found = [f"{name} ({len(getattr(t, name)):,} characters)" for name, limit in _TICKET_LIMITS
             if isinstance(getattr(t, name), str) and len(getattr(t, name)) > limit]
    for e in item.events:
        for value in (e.from_value, e.to_value):
            if value is not None and len(value) > TEXT_LIMIT:
                found.append(f"a change of {e.field or e.kind} ({len(value):,} characters)")
    found += [f"the name of {a.tracker}:{a.external_id[:40]} ({len(a.display_name):,} characters)"
              for a in item.accounts if a.display_name and len(a.display_name) > 300]
    return found


_TICKET_LIMITS = (("source", 200), ("external_id", 200), ("key", 200), ("project", 200), ("type_name", 200),
                  ("title", TEXT_LIMIT), ("status", 200), ("url", TEXT_LIMIT), ("reporter", 200), ("assignee", 200),
                  ("priority", 100), ("site", 300), ("resolution", 200))


def _fits(value: str | None, limit: int) -> bool:
    return value is None or ("\x00" not in value and len(value) <= limit
                             and (value.isascii() or not _SURROGATE.search(value)))


def _fits_ticket(t: Any) -> bool:
    # Written out rather than looped over _TICKET_LIMITS: this runs for every ingested ticket.
    return (_fits(t.title, TEXT_LIMIT) and _fits(t.key, 200) and _fits(t.external_id, 200) and _fits(t.status, 200)
            and _fits(t.type_name, 200) and _fits(t.project, 200) and _fits(t.source, 200)
            and _fits(t.url, TEXT_LIMIT) and _fits(t.reporter, 200) and _fits(t.assignee, 200)
            and _fits(t.priority, 100) and _fits(t.site, 300) and _fits(t.resolution, 200))


def _fits_event(e: Event) -> bool:
    # One expression rather than a loop: this runs for every event of every ingested ticket.
    i, a, f, v, w = e.external_id, e.actor, e.field, e.from_value, e.to_value
    return ("\x00" not in i and len(i) <= 200 and (a is None or ("\x00" not in a and len(a) <= 200))
            and (f is None or ("\x00" not in f and len(f) <= 200))
            and (v is None or ("\x00" not in v and len(v) <= TEXT_LIMIT))
            and (w is None or ("\x00" not in w and len(w) <= TEXT_LIMIT))
            and (i.isascii() or not _SURROGATE.search(i))  # ids, names and values are nearly all ASCII
            and (a is None or a.isascii() or not _SURROGATE.search(a))
            and (f is None or f.isascii() or not _SURROGATE.search(f))
            and (v is None or v.isascii() or not _SURROGATE.search(v))
            and (w is None or w.isascii() or not _SURROGATE.search(w)))


def _fits_account(a: Account) -> bool:
    return _fits(a.external_id, 200) and _fits(a.display_name, 300) and _fits(a.email, 300)


def within_days(at: Any, since: date | None, until: date | None) -> list[Any]:
    """Conditions that the time column `at` falls on a day from `since` to `until`, both
    inclusive and either open (UTC days, as acts are stored)."""
    where = []
    if since:
        where.append(at >= datetime.combine(since, time.min, tzinfo=timezone.utc))
    if until and until < date.max:  # the last day there is has no day after it
        where.append(at < datetime.combine(until + timedelta(days=1), time.min, tzinfo=timezone.utc))
    return where
