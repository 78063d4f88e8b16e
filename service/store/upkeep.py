"""What the data-quality page adds to the report's own data quality: ticket types no kind maps,
and how far each source has synced (its failed deliveries are `deliveries.listing`'s)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.config import Config
from service.store.models import SyncState
from service.store.sql import TICKETS

LISTED = 50


@dataclass(frozen=True)
class SourceState:
    name: str
    kind: str
    bookmark: datetime | None  # acts up to here are in; None: never synced
    last_sync: datetime | None


def unmapped_types(session: Session) -> list[tuple[str, int]]:
    """Ticket types (type names) that no kind maps, counted as 'other', most tickets first."""
    t = TICKETS.c
    return [(name or "(none)", n) for name, n in session.execute(
        select(t.type_name, func.count()).where(t.kind == "other", t.deleted_at.is_(None))
        .group_by(t.type_name).order_by(func.count().desc(), t.type_name).limit(LISTED))]


def source_states(session: Session, config: Config) -> list[SourceState]:
    """Every configured source with how far its sync has got, and any other source with stored state."""
    stored = {s.source: s for s in session.scalars(select(SyncState))}
    states = [SourceState(s.name, s.kind, stored[s.name].bookmark if s.name in stored else None,
                          stored[s.name].updated_at if s.name in stored else None) for s in config.sources]
    configured = {s.name for s in config.sources}
    states += [SourceState(name, "no longer configured", s.bookmark, s.updated_at)
               for name, s in sorted(stored.items()) if name not in configured]
    return states
