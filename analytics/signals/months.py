"""Calendar months as the signals' time axis: keys, ranges and the recent window."""
from __future__ import annotations

from datetime import date


def month_of(at: date) -> str:
    """'YYYY-MM' of a day, or of an act (its own calendar day, as stored: UTC)."""
    return f"{at.year:04d}-{at.month:02d}"


def _index(month: str) -> int:
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included."""
    return [_month(i) for i in range(_index(first), _index(last) + 1)]


def shift_month(month: str, months: int) -> str:
    return _month(_index(month) + months)


def recent_window(last: str, months: int, first: str) -> tuple[str, str]:
    """The `months` months ending with `last`, not reaching before `first`."""
    start = shift_month(last, -(months - 1))
    return (max(start, first), last)
