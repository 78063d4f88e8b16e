"""`partnerscope worker`: fires the sources' schedules, applies webhook deliveries (retries
included) and prunes; with `[queue] url` it also consumes the queue that the schedules, and the
web processes' deliveries, feed (`service.jobs.queue`).

It stops on SIGTERM or SIGINT: no tick fires after that, a sync in hand ends once its page has
committed, and the process exits with status 0 within `GRACE` seconds.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.orm import Session, sessionmaker

from service.config import Config
from service.config_sources import SourceConfig
from service.jobs.deliveries import DeliveryApplier
from service.jobs.schedules import Schedules
from service.jobs.stopping import GRACE
from service.jobs.ticks import run_tick
from service.store.db import transaction
from service.store.deliveries import prune as prune_deliveries
from service.store.runs import prune_runs

log = logging.getLogger(__name__)
PRUNE_EVERY = 3600.0  # seconds
RUNS_KEPT = timedelta(days=90)


class Worker:
    """One worker process's schedules, applier or queue consumer, and housekeeping."""

    def __init__(self, sessions: sessionmaker[Session], config: Config, stop: threading.Event,
                 redis: Any = None) -> None:
        self.sessions, self.config, self.stop, self.redis = sessions, config, stop, redis
        self.jobs: Any = None
        if redis is not None:
            from service.jobs.queue import JobQueue

            self.jobs = JobQueue(redis)
        self.schedules = Schedules(config.sources, self.fire)
        self.schedules.add(self.prune, PRUNE_EVERY, "prune")
        if self.jobs is not None:
            from service.jobs.queue import SWEEP

            self.schedules.add(self.sweep, SWEEP, "deliveries")
        self._running = 0
        self._idle = threading.Condition()

    def fire(self, source: SourceConfig, tick: datetime) -> None:
        """A tick of `source`'s schedule: queued for any worker, or run here."""
        if self.stop.is_set():
            return
        if self.jobs is not None:
            try:
                if not self.jobs.sync(source.name, tick):
                    log.info("sync.tick_taken: source '%s' tick %s: another worker queued it", source.name,
                             tick.isoformat())
            except RedisError as exc:
                log.error("queue.unavailable: source '%s' tick %s was not queued (%s); the next tick syncs",
                          source.name, tick.isoformat(), type(exc).__name__)
            return
        with self._idle:
            self._running += 1
        try:
            run_tick(self.sessions, self.config, source, tick, self.stop)
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def sweep(self) -> None:
        """Queue an apply job now and then: deliveries whose job was lost, and retries now due."""
        try:
            self.jobs.apply()
        except RedisError as exc:
            log.error("queue.unavailable: no apply job queued (%s)", type(exc).__name__)

    def prune(self) -> None:
        with transaction(self.sessions) as session:
            deliveries = prune_deliveries(session, self.config.webhook_retention_days)
            runs = prune_runs(session, datetime.now(timezone.utc) - RUNS_KEPT)
        if deliveries or runs:
            log.info("worker.pruned: %d webhook deliveries, %d sync runs", deliveries, runs)

    def run(self) -> None:
        """Work until `stop` is set (or, consuming the queue, until RQ is told to stop)."""
        scheduled = [s.name for s in self.config.sources if s.scheduled]
        log.info("worker.started: %d scheduled sources (%s), %s", len(scheduled), ", ".join(scheduled) or "none",
                 "consuming the queue" if self.jobs is not None else "in-process")
        if self.jobs is not None:
            self._consume()
        else:
            applier = DeliveryApplier(self.sessions, self.config, prunes=False)
            applier.start()
            self.schedules.start()
            try:
                self.stop.wait()
            finally:
                self.schedules.stop(wait=False)
                self._wait_for_ticks(time.monotonic() + GRACE - 2)
                applier.stop(timeout=2)
        log.info("worker.stopped")

    def _consume(self) -> None:
        from service.jobs.queue import QUEUE, Consumer, Runtime, serve_jobs

        serve_jobs(Runtime(self.sessions, self.config, self.stop))
        consumer = Consumer([QUEUE], connection=self.redis)
        consumer.stop_event = self.stop
        self.schedules.start()
        try:
            consumer.work(logging_level=logging.getLevelName(logging.getLogger().level))
        finally:
            self.stop.set()
            self.schedules.stop(wait=False)

    def _wait_for_ticks(self, deadline: float) -> None:
        with self._idle:
            while self._running and (left := deadline - time.monotonic()) > 0:
                self._idle.wait(left)
            if self._running:  # a sync stuck in a request: its open transaction rolls back as we exit
                log.error("worker.abandoned: %d syncs did not end in time; what they committed is kept", self._running)
                logging.shutdown()
                os._exit(0)
