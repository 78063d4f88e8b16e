"""The one retry policy every connector uses: wait out rate limits and transient failures, boundedly.

A call signals "try again" by raising `RetriableError` (with `wait` set to the server's
Retry-After when it gave one); anything else passes straight through. Every wait goes through
an injected `sleep` and is announced through `on_wait(seconds, reason)`, so tests never sleep
and the command line can say "rate limited, waiting 30 s" instead of looking stuck.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, TypeVar

from connectors.errors import RetriableError

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], None]
OnWait = Callable[[float, str], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """At most `attempts` tries; waits of 1, 2, 4, 8, 16 s, or Retry-After capped at `max_retry_after`."""

    attempts: int = 6
    first_delay: float = 1.0
    max_delay: float = 16.0
    max_retry_after: float = 120.0

    def delay(self, failures: int, retry_after: float | None) -> float:
        """How long to wait after the `failures`-th failure in a row."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return min(self.first_delay * 2 ** (failures - 1), self.max_delay)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - (now or datetime.now(timezone.utc))).total_seconds(), 0.0)


def call_with_retries(
    call: Callable[[], T], *, what: str, policy: RetryPolicy, sleep: Sleep, on_wait: OnWait | None = None
) -> T:
    """Run `call`, retrying on RetriableError per `policy`; after the last attempt re-raise it, saying how often it failed."""
    failures = 0
    while True:
        try:
            return call()
        except RetriableError as exc:
            failures += 1
            if failures >= policy.attempts:
                raise RetriableError(f"{what} failed {failures} times in a row; last: {exc}", wait=exc.wait) from None
            seconds = policy.delay(failures, exc.wait)
            reason = f"{exc}" if exc.wait is not None else f"{exc}; retry {failures} of {policy.attempts - 1}"
            log.info("%s: %s, waiting %.0f s", what, reason, seconds)
            if on_wait is not None:
                on_wait(seconds, reason)
            sleep(seconds)
