"""One writer at a time on a SQLite database within a process, in turns that keep both the
acknowledgements of webhook deliveries and the applier of them moving.

SQLite has one write lock per database. The threads of `partnerscope serve` that store a
delivery before acknowledging it and the applier thread that applies a batch of them all need
it. Left to SQLite, a writer that finds the lock taken sleeps in its busy handler (1, 2, 5, 10 …
up to 100 ms between tries) and tries again: it wakes up to 100 ms after the lock was freed, and
the applier, which goes from one transaction straight to the next, can take the lock again before
a sleeping acknowledgement tries. Under the `webhooks` benchmark's load that polling lengthened
the tail of the acknowledgement latency (with the gate, p99 fell from 278 and 1,740 ms to 196 and
437 ms in two A/B runs on a shared machine).

`WriteGate` queues this process's writers in Python instead: a writer waiting for the gate is
woken when it is freed, and the acknowledgements (`acknowledge()`) that are waiting when the
applier asks for the gate (`apply()`) go first; then the applier goes, before any that came
after it. So an acknowledgement waits for at most one batch, and a server too busy to keep up
cannot starve the applier (a first version let acknowledgements go first for up to half a
second each time; on a saturated machine the applier fell 17 s behind). Writers in other
processes (a sync running beside the server) still meet at SQLite's lock and its busy timeout.

PostgreSQL locks rows, not the database: there the gate lets everyone through at once.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine


class WriteGate:
    """Serialises this process's writers to one SQLite database; a batch goes after the
    acknowledgements that asked before it, and before those that ask after it."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._changed = threading.Condition()
        self._held = False
        self._asked = 0  # acknowledgements that have asked for the gate, ever
        self._entered = 0  # … and have had it
        self._batch_after: int | None = None  # a batch waits for this many acknowledgements to have entered

    @classmethod
    def for_engine(cls, engine: Engine) -> WriteGate:
        """A gate that serialises writers on SQLite and lets them all through on PostgreSQL."""
        return cls(enabled=engine.dialect.name == "sqlite")

    @contextmanager
    def acknowledge(self) -> Iterator[None]:
        """Hold the gate for a short write an answer waits for (storing a delivery)."""
        if not self.enabled:
            yield
            return
        with self._changed:
            self._asked += 1
            self._changed.wait_for(lambda: not self._held and not self._batch_due())
            self._entered += 1
            self._held = True
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def apply(self) -> Iterator[None]:
        """Hold the gate for background work (applying a batch), after the acknowledgements waiting."""
        if not self.enabled:
            yield
            return
        with self._changed:
            self._batch_after = self._asked  # the acknowledgements that asked before it go first
            self._changed.wait_for(lambda: not self._held and self._batch_due())
            self._batch_after = None
            self._held = True
        try:
            yield
        finally:
            self._release()

    def _batch_due(self) -> bool:
        """Whether a batch is waiting and every acknowledgement that asked before it has entered."""
        return self._batch_after is not None and self._entered >= self._batch_after

    def _release(self) -> None:
        with self._changed:
            self._held = False
            self._changed.notify_all()
