"""SIGTERM (and, where asked, SIGINT) as a request to stop: an event the jobs look at between
pages and batches, so what is in hand commits and the process then exits with status 0."""
from __future__ import annotations

import logging
import signal
import threading
from contextlib import contextmanager
from typing import Any, Iterator

log = logging.getLogger(__name__)
GRACE = 20.0  # seconds a stopping process gives its jobs before it gives up on them


@contextmanager
def stop_on_signals(stop: threading.Event, *, interrupt: bool = False) -> Iterator[threading.Event]:
    """Set `stop` on SIGTERM (and SIGINT when `interrupt`) within the block; the old handlers
    come back after it. Outside the main thread signals cannot be caught, and nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    names = [signal.SIGTERM] + ([signal.SIGINT] if interrupt else [])

    def handler(signum: int, _frame: Any) -> None:
        if not stop.is_set():
            log.info("process.stopping: %s received; finishing the work in hand", signal.Signals(signum).name)
        stop.set()

    previous = {number: signal.signal(number, handler) for number in names}
    try:
        yield stop
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
