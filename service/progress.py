"""Progress for long commands: a bar on a terminal, plain log lines otherwise."""
from __future__ import annotations

import logging
import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from service.logs import is_json

log = logging.getLogger("partnerscope")


class Reporter:
    """Counts work done of a total (when the tracker tells it) and shows rate-limit waits as such."""

    def __init__(self, label: str, *, interactive: bool | None = None, log_every: float = 5.0) -> None:
        self.label = label
        # JSON log lines and a bar drawn between them would make neither readable
        self.interactive = sys.stderr.isatty() and not is_json() if interactive is None else interactive
        self.log_every = log_every
        self._last_log = 0.0
        self._bar: Progress | None = None
        self._task: int | None = None

    def __enter__(self) -> Reporter:
        if self.interactive:
            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=False,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=None)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar:
            self._bar.stop()

    def progress(self, done: int, total: int | None) -> None:
        """Record `done` of `total` items (total None when unknown)."""
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total, description=self.label)
            return
        now = time.monotonic()
        if now - self._last_log >= self.log_every or (total is not None and done >= total):
            self._last_log = now
            log.info("%s: %d%s", self.label, done, f" of {total}" if total else "")

    def waiting(self, seconds: float, reason: str) -> None:
        """Say that the run is waiting (rate limit, backoff) rather than stuck."""
        message = f"{self.label}: {reason}, waiting {seconds:.0f} s"
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=message)
        else:
            log.info(message)
