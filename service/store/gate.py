"""One writer at a time on a SQLite database within a process, acknowledgements of webhook
deliveries first.

SQLite has one write lock per database. The threads of `partnerscope serve` that store a
delivery before acknowledging it and the applier thread that applies a batch of them all need
it. Left to SQLite, a writer that finds the lock taken sleeps in its busy handler (1, 2, 5, 10 …
up to 100 ms between tries) and tries again: it wakes up to 100 ms after the lock was freed, and
the applier, which goes from one transaction straight to the next, can take the lock again before
a sleeping acknowledgement tries. Under the `webhooks` benchmark's load that polling made up the
tail of the acknowledgement latency.

`WriteGate` queues this process's writers in Python instead: a writer waiting for the gate is
woken when it is freed, and acknowledgements (`acknowledge()`) go before the applier
(`apply()`), which waits while any acknowledgement waits, for at most `patience` seconds: then
it is overdue, and new acknowledgements wait for its batch, so a steady stream of them cannot
stall the applier for good. When the server cannot keep up, it is the applier that falls
behind, not the answers: a tracker that gets no answer in time delivers again, adding load,
while a late batch only makes the dashboard later. (Taking turns instead, the acknowledgements
waiting when a batch asks and then the batch, measured worse: see the history of this file.)
Writers in other processes (a sync running beside the server) still meet at SQLite's lock and
its busy timeout.

PostgreSQL locks rows, not the database: there the gate lets everyone through at once.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine

PATIENCE = 0.5  # seconds the applier gives way to waiting acknowledgements before it only waits its turn


class WriteGate:
    """Serialises this process's writers to one SQLite database; acknowledgements first."""

    def __init__(self, enabled: bool = True, patience: float = PATIENCE) -> None:
        self.enabled, self.patience = enabled, patience
        self._changed = threading.Condition()
        self._held = False
        self._acknowledging = 0  # acknowledgements waiting for the gate
        self._overdue = False  # a batch has waited its patience out: it goes next

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
            self._acknowledging += 1
            try:
                self._changed.wait_for(lambda: not self._held and not self._overdue)
            finally:
                self._acknowledging -= 1
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
        until = time.monotonic() + self.patience
        with self._changed:
            while self._held or (self._acknowledging and not self._overdue):
                left = until - time.monotonic()
                if left <= 0 and not self._overdue:
                    self._overdue = True
                    continue
                self._changed.wait(left if left > 0 else None)
            self._overdue = False
            self._held = True
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        with self._changed:
            self._held = False
            self._changed.notify_all()
