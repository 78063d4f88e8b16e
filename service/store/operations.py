"""What the service keeps of its own work, beside the trackers' data (`service.store.models`):
how far each source has synced and its runs, the webhook deliveries as they came, settings, and
who may log in."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.store.base import Base, UTCDateTime


class SyncState(Base):
    """Per source: how far the sync has got, committed with its page. The bookmark moves forward
    only: every ticket updated up to it is stored. While Jira Cloud issues wait for their bulk
    changelog it stays below them; `resume_after` and `waiting` then say more precisely where a
    killed run picks up (see `connectors.jira_waiting`). Both are NULL when nothing waits."""

    __tablename__ = "sync_state"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    bookmark: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resume_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waiting: Mapped[list[str] | None] = mapped_column(JSON)  # issue ids
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the last sweep's start


class SyncRun(Base):
    """One run of a source's sync: what started it, when, how it ended and what it fetched."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_source_started", "source", "started"),
                      Index("uq_sync_runs_source_tick", "source", "tick", unique=True))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(20))  # manual | schedule | startup
    started: Mapped[datetime] = mapped_column(UTCDateTime())
    ended: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(20))  # running | ok | failed | interrupted | skipped
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    events: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    waits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # rate-limit and retry waits
    error: Mapped[str | None] = mapped_column(Text)
    tick: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the schedule's fire time it served


class WebhookDelivery(Base):
    """One verified webhook delivery, stored raw before anything else is done with it.

    (source, delivery_id) is the tracker's delivery id (`X-GitHub-Delivery`,
    `X-Atlassian-Webhook-Identifier`, else a digest of the body), so a redelivery is acknowledged
    and applied no second time. `state`: received -> applying -> applied | ignored | failed.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("source", "delivery_id", name="uq_webhook_deliveries_source_delivery"),
        Index("ix_webhook_deliveries_state_id", "state", "id"),
        Index("ix_webhook_deliveries_received_at", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    tracker: Mapped[str] = mapped_column(String(20))
    delivery_id: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # a failed delivery's next try


class Setting(Base):
    """Small values the database keeps for every process: a maintenance step still owed, say."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    """Someone who may log in to the dashboard: a viewer reads, an admin may also change identities
    and replay deliveries. Only the password's hash is kept (`service.store.users`)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A personal API token, sent as `Authorization: Bearer <token>`; kept as its SHA-256 only."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
