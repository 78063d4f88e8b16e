"""Sync and delivery jobs on Redis (RQ), when `[queue] url` is set.

Every `partnerscope worker` fires the schedules and consumes the queue, so more workers mean more
consumers. A tick becomes a `sync` job, a stored webhook delivery an `apply` job; the database
keeps the guarantees, whichever worker takes a job: the run record's unique (source, tick) runs a
tick once, the source's lock keeps two syncs of it apart, and deliveries are claimed in the
database before they are applied. So a job that is lost (Redis restarted, say) loses nothing: the
next tick syncs, and the worker's `apply` job every `SWEEP` seconds takes deliveries that no
job announced, and retries whose backoff has passed.

Jobs run in the consuming worker's process (RQ's `SimpleWorker`) with that worker's own
configuration and database, which it registers with `serve_jobs` before it consumes.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, get_current_job
from sqlalchemy.orm import Session, sessionmaker

from service.config import Config, QueueConfig
from service.config_tables import ConfigError

log = logging.getLogger(__name__)
QUEUE = "partnerscope"
PENDING = "partnerscope:apply-pending"  # set while an apply job waits in the queue: one is enough
SWEEP = 30.0  # seconds between the worker's own apply jobs
SYNC_TIMEOUT = 6 * 3600  # seconds a sync job may run (a first sync of a large site is long)


@dataclass
class Runtime:
    """What the jobs of this process run with: the consuming worker's own configuration."""

    sessions: sessionmaker[Session]
    config: Config
    stop: threading.Event


_runtime: list[Runtime] = []  # the one registered by `serve_jobs` in this process


def connect(queue: QueueConfig) -> Redis:
    """A Redis connection for the queue; a wrong URL or a Redis that is down is one sentence."""
    redis = Redis.from_url(queue.connection_url(), socket_connect_timeout=5, socket_timeout=30)
    try:
        redis.ping()
    except RedisError as exc:
        raise ConfigError(f"[queue] url {queue.url}: Redis does not answer ({type(exc).__name__}).") from None
    return redis


class JobQueue:
    """Puts jobs on the queue: a tick's sync, or an apply of stored deliveries."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.queue = Queue(QUEUE, connection=redis)

    def sync(self, source: str, tick: datetime) -> bool:
        """Queue the tick's sync, unless another worker queued this tick first; whether it did."""
        digest = hashlib.sha256(source.encode()).hexdigest()[:16]
        job_id = f"sync-{digest}-{tick:%Y%m%dT%H%M%S}"
        if not self.redis.set(f"partnerscope:queued:{job_id}", "1", nx=True, ex=86400):
            return False
        self.queue.enqueue(sync_job, source, tick.isoformat(), job_id=job_id, job_timeout=SYNC_TIMEOUT,
                           result_ttl=3600, failure_ttl=86400)
        return True

    def apply(self) -> None:
        """An apply job, unless one is already waiting (it will take this delivery too)."""
        if self.redis.set(PENDING, "1", nx=True, ex=300):
            self.queue.enqueue(apply_job, job_timeout=3600, result_ttl=60, failure_ttl=86400)


class QueuedApplier:
    """The web app's applier when a queue is configured: a stored delivery is announced as a job
    (and a Redis that is down only delays it: the worker's sweep finds it in the database)."""

    def __init__(self, queue: QueueConfig) -> None:
        self.config = queue
        self._jobs: JobQueue | None = None

    def wake(self) -> None:
        try:
            if self._jobs is None:
                self._jobs = JobQueue(Redis.from_url(self.config.connection_url(), socket_connect_timeout=2,
                                                     socket_timeout=5))
            self._jobs.apply()
        except (RedisError, ConfigError) as exc:
            log.warning("queue.unavailable: delivery stored, its job not queued (%s); the worker's sweep applies it",
                        type(exc).__name__)

    def start(self) -> None:
        """Nothing runs here: the workers apply."""

    def stop(self, timeout: float = 0) -> None:
        """Nothing runs here."""


def serve_jobs(runtime: Runtime) -> None:
    _runtime[:] = [runtime]


def _current() -> Runtime:
    if not _runtime:
        raise RuntimeError("a Partnerscope job ran outside `partnerscope worker`; start workers with that command")
    return _runtime[0]


def sync_job(source: str, tick: str) -> str:
    from service.jobs.ticks import run_tick

    runtime = _current()
    configured = {s.name: s for s in runtime.config.sources}
    if source not in configured:
        log.warning("sync.unknown_source: a job named source '%s', which this worker's configuration lacks", source)
        return "unknown source"
    return run_tick(runtime.sessions, runtime.config, configured[source], datetime.fromisoformat(tick), runtime.stop)


def apply_job() -> int:
    from service.jobs.deliveries import DeliveryApplier

    runtime = _current()
    job = get_current_job()
    if job is not None:  # from here on a new delivery queues a new job: this one may miss it
        job.connection.delete(PENDING)
    return DeliveryApplier(runtime.sessions, runtime.config).drain()


class Consumer(SimpleWorker):
    """RQ's in-process worker whose SIGTERM also sets our stop event, so a sync in hand ends
    after its page instead of running to its end."""

    stop_event: threading.Event | None = None

    def subscribe(self) -> None:
        """RQ's command channel, read every second: RQ reads it every 60 s, and with redis-py 8
        stopping it waits out that read, so a SIGTERM took up to a minute to end the worker."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(sleep_time=1, daemon=True,
                                                       exception_handler=self._pubsub_exception_handler)

    def request_stop(self, signum: Any, frame: Any) -> None:
        if self.stop_event is not None:
            self.stop_event.set()
        super().request_stop(signum, frame)
