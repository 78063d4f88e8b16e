"""The record of each sync run: written when it starts (outcome `running`), so a run that is
killed still shows, and finished in a transaction of its own whether the run succeeded or not."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from service.store.db import transaction
from service.store.models import SyncRun
from service.terminal import printable

TRIGGERS = ("manual", "schedule", "startup")
ERROR_MAX = 1000  # characters of an error sentence kept


@dataclass
class Counts:
    """What a run fetched so far; the run's record takes them when it ends."""

    tickets: int = 0
    events: int = 0
    requests: int = 0


@contextmanager
def recorded(factory: sessionmaker[Session], source: str, trigger: str) -> Iterator[Counts]:
    """Record a run of `source`'s sync around the block; the block fills in its counts."""
    if trigger not in TRIGGERS:
        raise ValueError(f"a run's trigger is one of {', '.join(TRIGGERS)}, not {trigger!r}.")
    with transaction(factory) as session:
        run = SyncRun(source=source, trigger=trigger, started=_now(), outcome="running", tickets=0, events=0,
                      requests=0)
        session.add(run)
        session.flush()
        run_id = run.id
    counts = Counts()
    outcome, error = "ok", None
    try:
        yield counts
    except KeyboardInterrupt:
        outcome, error = "interrupted", "stopped before it finished; what was committed is kept"
        raise
    except BaseException as exc:
        # One line, any control character (a NUL PostgreSQL would refuse) written as an escape.
        outcome, error = "failed", printable(f"{type(exc).__name__}: {exc}")[:ERROR_MAX]
        raise
    finally:
        with transaction(factory) as session:
            session.execute(update(SyncRun).where(SyncRun.id == run_id).values(
                ended=_now(), outcome=outcome, error=error, tickets=counts.tickets, events=counts.events,
                requests=counts.requests))


def runs(session: Session, source: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest runs first, as `partnerscope runs --format json` gives them."""
    query = select(SyncRun).order_by(SyncRun.started.desc(), SyncRun.id.desc()).limit(limit)
    if source:
        query = query.where(SyncRun.source == source)
    return [{"source": r.source, "trigger": r.trigger, "started": r.started.isoformat(),
             "ended": r.ended.isoformat() if r.ended else None, "outcome": r.outcome, "tickets": r.tickets,
             "events": r.events, "requests": r.requests, "error": r.error} for r in session.scalars(query)]


def _now() -> datetime:
    return datetime.now(timezone.utc)
