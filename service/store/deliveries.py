"""Webhook deliveries: stored raw before anything else, claimed and applied once, kept for replay.

A verified delivery is written in its own transaction before it is acknowledged, keyed by the
tracker's delivery id, so a redelivery is recognised and nothing a tracker was told it
delivered can be lost. Appliers (one per web process, or the worker) claim deliveries in the
order they arrived: the claim is an update of the state, so two processes never apply one
delivery twice, and a claim left by a killed process is taken over after `CLAIM_TIMEOUT` (or the
timeout the applier is given: `PARTNERSCOPE_CLAIM_TIMEOUT`, see `service.config.claim_timeout`).

A delivery whose application failed is tried again up to `RETRIES` times, after `BACKOFF`, then
four times that, then sixteen (it waits as `received` with a `retry_at`); after that it stays
`failed`, with its error, until `deliveries replay` puts it back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import Any, Sequence

from sqlalchemy import Connection, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.store.models import WebhookDelivery
from service.store.sql import clean

RECEIVED, APPLYING, APPLIED, IGNORED, FAILED = "received", "applying", "applied", "ignored", "failed"
STATES = (RECEIVED, APPLYING, APPLIED, IGNORED, FAILED)
CLAIM_TIMEOUT = timedelta(minutes=2)  # longer than any batch takes; a claim this old was left by a killed process
RETRIES = 3  # a failed application is tried again this many times …
BACKOFF = timedelta(seconds=30)  # … after 30 s, 2 min and 8 min
TABLE = WebhookDelivery.__table__


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class Stored:
    """Where a delivery was stored, and whether this was its first arrival."""

    id: int
    fresh: bool
    state: str


def store_delivery(connection: Connection | Session, *, source: str, tracker: str, delivery_id: str, event: str,
                   headers: dict[str, str], body: bytes, state: str = RECEIVED, error: str | None = None) -> Stored:
    """Write one delivery raw (in the caller's transaction); a delivery id stored before is not
    written again, and its row says what became of it.

    The webhook endpoints call this on a Core connection rather than an ORM session: the session's
    own bookkeeping added about half again to the CPU of storing a delivery (0.62 against 0.43 ms),
    which acknowledgements at hundreds a second pay in the process that also applies them."""
    row = {"source": source, "tracker": tracker, "delivery_id": clean(delivery_id, 200), "event": clean(event, 100),
           "received_at": now(), "headers": {k: clean(v, 1000) for k, v in headers.items()}, "body": body,
           "state": state, "error": error, "attempts": 0, "applied_at": now() if state in (APPLIED, IGNORED) else None}
    dialect = (connection.get_bind() if isinstance(connection, Session) else connection).dialect.name
    inserted = connection.execute(_insert_once(dialect), row).scalar()
    if inserted is not None:
        return Stored(inserted, True, state)
    known = connection.execute(select(TABLE.c.id, TABLE.c.state).where(
        TABLE.c.source == source, TABLE.c.delivery_id == row["delivery_id"])).one()
    return Stored(known.id, False, known.state)


@cache
def _insert_once(dialect: str) -> Any:
    """INSERT … ON CONFLICT (source, delivery_id) DO NOTHING RETURNING id, built once per dialect
    (a statement built per request costs its construction and cache key each time)."""
    if dialect not in ("postgresql", "sqlite"):
        raise RuntimeError(f"unsupported database dialect {dialect!r}; use SQLite or PostgreSQL")
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(TABLE).on_conflict_do_nothing(index_elements=["source", "delivery_id"]).returning(TABLE.c.id)


def claim(session: Session, limit: int, at: datetime | None = None,
          timeout: timedelta = CLAIM_TIMEOUT) -> list[WebhookDelivery]:
    """Take up to `limit` deliveries to apply, oldest first: those received, and those claimed more
    than `timeout` ago. The caller commits the claim before applying (so other appliers skip them)."""
    at = at or now()
    stale = at - timeout
    waiting = select(WebhookDelivery).where(or_(
        (WebhookDelivery.state == RECEIVED) & (WebhookDelivery.retry_at.is_(None) | (WebhookDelivery.retry_at <= at)),
        (WebhookDelivery.state == APPLYING) & (WebhookDelivery.claimed_at < stale),
    )).order_by(WebhookDelivery.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        waiting = waiting.with_for_update(skip_locked=True)  # concurrent appliers take different rows
    rows = list(session.scalars(waiting))
    for row in rows:
        row.state, row.claimed_at, row.attempts = APPLYING, at, row.attempts + 1
    session.flush()
    return rows


def finish(session: Session, ids: Sequence[int], state: str, error: str | None = None) -> None:
    """Record what became of claimed deliveries."""
    if ids:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(list(ids))).values(
            state=state, error=clean(error, 2000) if error else None, applied_at=now(), claimed_at=None))


def retry_or_fail(session: Session, delivery_id: int, attempts: int, error: str, at: datetime | None = None) -> str:
    """Record a failed application of a claimed delivery: back to `received` with a later
    `retry_at` while it has retries left (it has been tried `attempts` times), else `failed`."""
    at = at or now()
    if attempts > RETRIES:
        finish(session, [delivery_id], FAILED, error)
        return FAILED
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(
        state=RECEIVED, error=clean(error, 2000), claimed_at=None, retry_at=at + BACKOFF * 4 ** (attempts - 1)))
    return RECEIVED


def listing(session: Session, failed_only: bool = False, limit: int = 200) -> list[WebhookDelivery]:
    """The newest deliveries (or only the failed ones), newest first."""
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if failed_only:
        query = query.where(WebhookDelivery.state == FAILED)
    return list(session.scalars(query))


def requeue(session: Session, delivery_ids: Sequence[str] = (), failed: bool = False) -> list[str]:
    """Put deliveries back to be applied again (`deliveries replay`): by the tracker's delivery id,
    or every failed one. Returns the delivery ids requeued."""
    query = select(WebhookDelivery.id, WebhookDelivery.delivery_id)
    if failed:
        query = query.where(WebhookDelivery.state == FAILED)
    else:
        query = query.where(WebhookDelivery.delivery_id.in_(list(delivery_ids)))
    rows = session.execute(query).all()
    if rows:
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_([r.id for r in rows])).values(
            state=RECEIVED, error=None, claimed_at=None, applied_at=None, retry_at=None, attempts=0))
    return [r.delivery_id for r in rows]


def prune(session: Session, days: int, at: datetime | None = None) -> int:
    """Delete deliveries received more than `days` ago that are done with (applied or ignored);
    failed ones stay until replayed or older still than twice the retention."""
    at = at or now()
    done = (WebhookDelivery.received_at < at - timedelta(days=days)) & WebhookDelivery.state.in_((APPLIED, IGNORED))
    forgotten = WebhookDelivery.received_at < at - timedelta(days=2 * days)
    return session.execute(delete(WebhookDelivery).where(or_(done, forgotten))).rowcount or 0


def counts(session: Session) -> dict[str, int]:
    """Deliveries by state (for the status page and tests)."""
    found = dict(session.execute(select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)).all())
    return {state: found.get(state, 0) for state in STATES}
