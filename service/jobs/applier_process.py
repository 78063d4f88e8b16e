"""On PostgreSQL, the delivery applier of `partnerscope serve` runs in a process of its own.

As a thread beside the threads that acknowledge deliveries, the applier's Python work (parsing,
attributing, summing) held the interpreter's one lock while every acknowledgement waited its
turn for it: under the `webhooks` benchmark's 200 deliveries a second the acknowledgements' 99th
percentile stood at about 470 ms on PostgreSQL. In a process of its own the applier has the
second core, and the operating system, not the interpreter, shares time between the two.
PostgreSQL locks rows, so the two processes write side by side.

SQLite keeps the thread (`DeliveryApplier.start`): one writer at a time is all it allows, and
the process's `WriteGate`, which lets acknowledgements go before the applier's batches, only
works within one process.

The server wakes the applier through a shared event whenever it stores a delivery; the applier
also looks at the queue once a second. It stops when the server stops, and on Linux also when
the server dies without stopping it (SIGKILL): a leftover applier would hold claims that a
restarted server then waits out.
"""
from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from typing import Any

from service.config import Config

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


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
    from service.logs import configure_logging
    from service.store.db import make_engine, session_factory

    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal reaches the server, which stops us
    configure_logging()  # a fresh interpreter: the server's log format, read from the inherited environment
    engine = make_engine(config.database_url)
    try:
        DeliveryApplier(session_factory(engine), config, events=(wake, stop)).run()
    finally:
        engine.dispose()


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # no prctl here: the daemon flag still ends us with a clean exit
        log.warning("webhook.applier: cannot ask to end with the server; stop it by hand if the server is killed")
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # the server died before we asked
        sys.exit(0)
