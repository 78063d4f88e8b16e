"""Jira Cloud issues waiting for their bulk changelog, and where a killed run resumes.

A Cloud search embeds at most a page of each issue's changelog. The issues cut short wait
across search pages for one bulk changelog request for up to 1,000 of them
(`connectors.jira_complete`): a few long-lived issues in every page would otherwise cost a
request per page. Meanwhile no page can say "every issue updated up to here is stored", so the
bookmark stays just below the oldest waiting issue, and on a large site that is most of the run
ago. Each page therefore also carries a `Resume`: how far the search has got (every issue it
returned that was updated at or before `after` is stored, or waiting) and which issues wait.
The sync commits it with the page. A run that dies is picked up from there: the waiting issues
are searched again by id, then the search goes on from `after` less the overlap. A waiting issue
changed meanwhile comes again from both; an issue that left the configured JQL from neither.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator

from connectors.errors import SkippableError
from connectors.jira_parse import parse_datetime


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a run that dies picks up: the search's progress and the issues still waiting (ids).

    `after` is None while no page of the search has stored a ticket yet (the search then starts
    where the run did)."""

    after: datetime | None
    waiting: tuple[str, ...]


def oldest_update(issues: Iterable[dict[str, Any]], newest: bool = False) -> datetime | None:
    """The earliest (or, with `newest`, the latest) `updated` among raw issues; None when none is readable."""
    times = []
    for raw in issues:
        try:
            times.append(parse_datetime((raw.get("fields") or {}).get("updated"), "updated"))
        except SkippableError:
            continue
    return (max(times) if newest else min(times)) if times else None


class Waiting:
    """Raw issues whose changelog the search cut short, one copy per issue id: the latest seen."""

    def __init__(self) -> None:
        self._raws: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._raws)

    def add(self, raws: Iterable[dict[str, Any]]) -> None:
        # An issue changed during the run comes again later in the search (and a resumed run
        # reads it by id as well); only its newest copy is completed and stored.
        for raw in raws:
            self._raws.pop(str(raw["id"]), None)
            self._raws[str(raw["id"])] = raw

    def take(self) -> list[dict[str, Any]]:
        """Every waiting issue, in the order last seen; none waits afterwards."""
        raws, self._raws = list(self._raws.values()), {}
        return raws

    def oldest(self) -> datetime | None:
        return oldest_update(self._raws.values())

    def ids(self) -> tuple[str, ...]:
        return tuple(self._raws)


def by_id_queries(jql_filter: str, ids: Iterable[str], size: int) -> Iterator[str]:
    """Searches for the given issues, `size` ids each, within the configured filter.

    Ids come from the database; only numeric ones are put into the query."""
    numeric = [issue_id for issue_id in ids if issue_id.isascii() and issue_id.isdigit()]
    for first in range(0, len(numeric), size):
        clause = f"id in ({', '.join(numeric[first:first + size])})"
        yield f"{jql_filter} AND {clause} ORDER BY updated ASC" if jql_filter else f"{clause} ORDER BY updated ASC"
