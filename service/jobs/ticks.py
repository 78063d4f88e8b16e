"""One scheduled tick of a source's sync, however it reached this process (the worker's own
schedule, or a job from the queue): run it, or say why it did not run."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

from sqlalchemy.orm import Session, sessionmaker

from service.config import Config
from service.config_sources import SourceConfig
from service.jobs.sync import RECONCILE_WINDOW, sweep_due, sync_source
from service.store.locks import SourceBusy
from service.store.runs import TickTaken, record_skipped

log = logging.getLogger(__name__)


def run_tick(sessions: sessionmaker[Session], config: Config, source: SourceConfig, tick: datetime,
             stop: threading.Event) -> str:
    """Sync `source` for the schedule's `tick`; returns the outcome: ok, interrupted, failed,
    skipped (the source was busy) or taken (another process had the tick)."""
    at = tick.isoformat()
    with sessions() as session:
        sweep = sweep_due(session, source, datetime.now(timezone.utc))
    try:
        result = sync_source(sessions, config, source, trigger="schedule", tick=tick, stop=stop,
                             reread=RECONCILE_WINDOW if sweep else None)
    except SourceBusy:
        if record_skipped(sessions, source.name, "schedule", tick, "the source was still being synced by an earlier run"):
            log.info("sync.skipped: source '%s' tick %s: an earlier sync of it is still running", source.name, at)
            return "skipped"
        log.info("sync.tick_taken: source '%s' tick %s: another worker had it", source.name, at)
        return "taken"
    except TickTaken:
        log.info("sync.tick_taken: source '%s' tick %s: another worker runs it", source.name, at)
        return "taken"
    except Exception as exc:  # recorded with its run; the schedule goes on
        log.error("sync.failed: source '%s' tick %s: %s: %s", source.name, at, type(exc).__name__,
                  str(exc).splitlines()[0] if str(exc) else "no detail")
        return "failed"
    outcome = "interrupted" if result.stopped else "ok"
    log.info("sync.%s: source '%s' tick %s: %d tickets, %d events, %d requests, %d pages%s", outcome, source.name, at,
             result.tickets, result.events, result.requests, result.pages,
             ", the last two days read again (reconcile_every)" if sweep else "")
    return outcome
