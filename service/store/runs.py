"""The record of each sync run: written when it starts (outcome `running`), so a run that is
killed still shows, and finished in a transaction of its own whether the run succeeded or not.

A scheduled run carries its tick, the time the schedule fired, and (source, tick) is unique: of
several workers firing the same tick, the first to write its record runs it and the others are
told `TickTaken`. A tick that finds its source busy is recorded as `skipped`."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.store.db import transaction
from service.store.models import SyncRun
from service.terminal import printable

TRIGGERS = ("manual", "schedule", "startup")
OUTCOMES = ("running", "ok", "failed", "interrupted", "skipped")
ERROR_MAX = 1000  # characters of an error sentence kept
STOPPED = "stopped before it finished; what was committed is kept"


class TickTaken(Exception):
    """Another process has already run (or skipped) this tick of the source's schedule."""


@dataclass
class Counts:
    """What a run fetched so far; the run's record takes them when it ends. `stopped`: the run
    ended early on request (SIGTERM) after committing its last page."""

    tickets: int = 0
    events: int = 0
    requests: int = 0
    waits: int = 0
    stopped: bool = False


@contextmanager
def recorded(factory: sessionmaker[Session], source: str, trigger: str,
             tick: datetime | None = None) -> Iterator[Counts]:
    """Record a run of `source`'s sync around the block; the block fills in its counts. Raises
    `TickTaken`, before the block runs, when another process holds the record of `tick`."""
    run_id = _start(factory, source, trigger, "running", tick)
    counts = Counts()
    outcome, error = "ok", None
    try:
        yield counts
        if counts.stopped:
            outcome, error = "interrupted", STOPPED
    except KeyboardInterrupt:
        outcome, error = "interrupted", STOPPED
        raise
    except BaseException as exc:
        # One line, any control character (a NUL PostgreSQL would refuse) written as an escape.
        outcome, error = "failed", printable(f"{type(exc).__name__}: {exc}")[:ERROR_MAX]
        raise
    finally:
        with transaction(factory) as session:
            session.execute(update(SyncRun).where(SyncRun.id == run_id).values(
                ended=_now(), outcome=outcome, error=error, tickets=counts.tickets, events=counts.events,
                requests=counts.requests, waits=counts.waits))


def busy_sentence(factory: sessionmaker[Session], source: str) -> str:
    """What a sync that finds `source` busy says: that nothing started, and when the busy run began."""
    with factory() as session:
        started = session.scalar(select(SyncRun.started).where(SyncRun.source == source, SyncRun.outcome == "running")
                                 .order_by(SyncRun.started.desc()).limit(1))
    since = f" (its run started {started:%Y-%m-%d %H:%M:%S} UTC)" if started else ""
    return (f"source '{source}' is being synced by another process{since}, so this sync did not start; "
            "nothing was changed. Run it again once that sync has ended.")


def close_abandoned(factory: sessionmaker[Session], source: str) -> None:
    """Runs of `source` still marked `running` while its lock is free were left by a process that
    ended without finishing them (killed, or its machine lost): they are interrupted."""
    with transaction(factory) as session:
        session.execute(update(SyncRun).where(SyncRun.source == source, SyncRun.outcome == "running").values(
            outcome="interrupted", ended=_now(),
            error="the process running it ended before it finished; what it committed is kept"))


def record_skipped(factory: sessionmaker[Session], source: str, trigger: str, tick: datetime | None,
                   reason: str) -> bool:
    """Record that a tick found its source busy; False when another process recorded the tick first."""
    try:
        _start(factory, source, trigger, "skipped", tick, error=reason)
    except TickTaken:
        return False
    return True


def _start(factory: sessionmaker[Session], source: str, trigger: str, outcome: str, tick: datetime | None,
           error: str | None = None) -> int:
    if trigger not in TRIGGERS:
        raise ValueError(f"a run's trigger is one of {', '.join(TRIGGERS)}, not {trigger!r}.")
    now = _now()
    try:
        with transaction(factory) as session:
            run = SyncRun(source=source, trigger=trigger, started=now, ended=None if outcome == "running" else now,
                          outcome=outcome, tickets=0, events=0, requests=0, waits=0, tick=tick,
                          error=printable(error)[:ERROR_MAX] if error else None)
            session.add(run)
            session.flush()
            return run.id
    except IntegrityError:
        if tick is None:
            raise
        raise TickTaken(f"the {tick.isoformat()} tick of '{source}' was taken by another process") from None


def prune_runs(session: Session, before: datetime) -> int:
    """Delete the records of runs that ended before `before`; returns how many."""
    return session.execute(delete(SyncRun).where(SyncRun.ended < before)).rowcount or 0


def runs(session: Session, source: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The newest runs first, as `partnerscope runs --format json` gives them."""
    query = select(SyncRun).order_by(SyncRun.started.desc(), SyncRun.id.desc()).limit(limit)
    if source:
        query = query.where(SyncRun.source == source)
    return [{"source": r.source, "trigger": r.trigger, "started": r.started.isoformat(),
             "ended": r.ended.isoformat() if r.ended else None, "outcome": r.outcome, "tickets": r.tickets,
             "events": r.events, "requests": r.requests, "waits": r.waits, "error": r.error,
             "tick": r.tick.isoformat() if r.tick else None}
            for r in session.scalars(query)]


def _now() -> datetime:
    return datetime.now(timezone.utc)


def totals(session: Session) -> list[tuple[str, str, int, int, int]]:
    """(source, outcome, runs, requests, waits) over every recorded run, for `/metrics`: one
    grouped query, however many runs there are."""
    query = select(SyncRun.source, SyncRun.outcome, func.count(), func.coalesce(func.sum(SyncRun.requests), 0),
                   func.coalesce(func.sum(SyncRun.waits), 0)).group_by(SyncRun.source, SyncRun.outcome)
    return [(source, outcome, int(n), int(requests), int(waits))
            for source, outcome, n, requests, waits in session.execute(query)]
