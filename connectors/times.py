"""Tracker timestamps as aware UTC datetimes, with one error shape for every connector."""
from __future__ import annotations

from datetime import datetime, timezone

from connectors.errors import SkippableError


def iso_datetime(value: str, what: str) -> datetime:
    """An ISO 8601 time with an offset (`…Z`, `…+01:00`, Jira's `…+0000`) in UTC; SkippableError
    naming `what` otherwise. A time without an offset is refused: guessing its zone shifts acts."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise SkippableError(f"{what} {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise SkippableError(f"{what} {value!r} has no time zone offset")
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+01:00 is before the first instant there is
        raise SkippableError(f"{what} {value!r} is out of range") from None
