"""On PostgreSQL, the delivery applier of `partnerscope serve` (and `run`) runs in a process of
its own: under `serve` one, started by gunicorn's master for all its workers (`service.web.server`).

As a thread beside the threads that acknowledge deliveries, the applier's Python work (parsing,
attributing, summing) held the interpreter's one lock while every acknowledgement waited its
turn for it: under the `webhooks` benchmark's 200 deliveries a second the acknowledgements' 99th
percentile stood at about 470 ms on PostgreSQL. In a process of its own the applier has the
second core, and the operating system, not the interpreter, shares time between the two.
PostgreSQL locks rows, so the two processes write side by side.

SQLite keeps the thread (`DeliveryApplier.start`): one writer at a time is all it allows, and
the process's `WriteGate`, which lets acknowledgements go before the applier's batches, only
works within one process.

The server (each of its workers) wakes the applier through a shared event whenever it stores a
delivery; the applier also looks at the queue once a second. It stops when the server stops, and
on Linux also when the server dies without stopping it (SIGKILL): a leftover applier would hold
claims that a restarted server then waits out.
"""
from __future__ import annotations

import logging
import multiprocessing
import signal
from typing import Any

from service.config import Config

log = logging.getLogger(__name__)


class ApplierProcess:
    """The `DeliveryApplier` run in a child process; `wake()`, `start()` and `stop()` as the thread's."""

    def __init__(self, config: Config) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no engine or thread of ours inherited
        self._wake = context.Event()
        self._stop = context.Event()
        self._process = context.Process(target=_main, args=(config, self._wake, self._stop),
                                        name="partnerscope-deliveries", daemon=True)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._process.start()

    def stop(self, timeout: float = 20.0) -> None:
        """Let the batch in hand finish (its transaction commits or rolls back), then end."""
        if self._process.pid is None:
            return
        self._stop.set()
        self._wake.set()
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5)


def _main(config: Config, wake: Any, stop: Any) -> None:
    from service.jobs.deliveries import DeliveryApplier
    from service.lifetime import end_with_parent
    from service.logs import configure_logging
    from service.store.db import make_engine, session_factory

    configure_logging()  # a fresh interpreter: the server's log format, read from the inherited environment
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None or not end_with_parent(parent.pid):
        # the daemon flag still ends us when the server exits; a killed server leaves us behind
        log.warning("webhook.applier: cannot ask to end with the server; stop it by hand if the server is killed")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal reaches the server, which stops us
    engine = make_engine(config.database_url)
    try:
        DeliveryApplier(session_factory(engine), config, events=(wake, stop)).run()
    finally:
        engine.dispose()
