"""The sources' schedules: each `schedule` (cron, UTC) or `every` becomes an APScheduler job
that fires `fire(source, tick)`, and the worker adds its housekeeping beside them.

A tick is the time the schedule fired, the same in every process: cron times are whole
minutes, and `every` counts from a fixed instant (`EPOCH`), not from when the process started.
So several workers firing one tick name it alike, and the run record's unique (source, tick)
lets only one of them run it (`service.store.runs`). A job starts within `GRACE` of its time or
not at all, so the tick it works out from the clock is the one that fired.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from service.config_sources import SourceConfig

log = logging.getLogger(__name__)
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
GRACE = 30.0  # seconds a tick may start late; a shorter period halves it


def trigger_of(source: SourceConfig) -> BaseTrigger:
    """The APScheduler trigger of a source's `schedule` or `every` (which the config has checked)."""
    if source.schedule is not None:
        return CronTrigger.from_crontab(source.schedule, timezone=timezone.utc)
    if source.every is None:
        raise ValueError(f"source '{source.name}' has no schedule")
    return IntervalTrigger(seconds=source.every, start_date=EPOCH, timezone=timezone.utc)


def grace(source: SourceConfig) -> float:
    """How late a tick of `source` may start: `GRACE`, or half the period when that is shorter."""
    return min(GRACE, (source.every if source.every is not None else 60) / 2)


def tick_of(trigger: BaseTrigger, now: datetime, late: float) -> datetime:
    """The fire time of the tick running at `now`: the first at or after `now - late`."""
    fire = trigger.get_next_fire_time(None, now - timedelta(seconds=late))
    if fire is None:  # a trigger that never fires again has no tick now
        raise ValueError("the schedule has no fire time near now")
    return fire.astimezone(timezone.utc)


class Schedules:
    """The scheduled sources' jobs in a background scheduler thread; `start()`, then `stop()`."""

    def __init__(self, sources: tuple[SourceConfig, ...], fire: Callable[[SourceConfig, datetime], None]) -> None:
        self.scheduler = BackgroundScheduler(timezone=timezone.utc, job_defaults={"coalesce": True})
        self.sources = [s for s in sources if s.scheduled]
        for source in self.sources:
            trigger = trigger_of(source)
            late = grace(source)
            # max_instances above 1: a tick that comes while the last one still runs must reach
            # `fire`, which finds the source busy and records the tick as skipped.
            self.scheduler.add_job(self._fire, trigger, args=(fire, source, trigger, late), id=f"sync:{source.name}",
                                   name=f"sync {source.name}", misfire_grace_time=max(1, int(late)), max_instances=4)

    def add(self, job: Callable[[], None], every: float, name: str) -> None:
        """A housekeeping job every `every` seconds (pruning, say)."""
        self.scheduler.add_job(job, IntervalTrigger(seconds=every, timezone=timezone.utc), id=name, name=name,
                               max_instances=1)

    @staticmethod
    def _fire(fire: Callable[[SourceConfig, datetime], None], source: SourceConfig, trigger: BaseTrigger,
              late: float) -> None:
        fire(source, tick_of(trigger, datetime.now(timezone.utc), late))

    def start(self) -> None:
        self.scheduler.start()
        for job in self.scheduler.get_jobs():
            log.info("schedule.added: %s, next at %s", job.name, job.next_run_time.isoformat())

    def stop(self, wait: bool = True) -> None:
        """Fire nothing more; with `wait`, let the jobs running now end (they watch the stop event)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
