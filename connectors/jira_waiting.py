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

Issues changed lately are read by id too, before the search (`read_reconciled`): Cloud's search
is eventually consistent, and only `reconcileIssues` makes it consistent for the ids it names.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Iterator, Sequence

from connectors.errors import SkippableError
from connectors.jira_http import Refused
from connectors.jira_parse import parse_datetime

log = logging.getLogger("connectors.jira")


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
        """The earliest `updated` among the waiting issues: the bookmark stays below it."""
        return oldest_update(self._raws.values())

    def ids(self) -> tuple[str, ...]:
        """The waiting issues' ids, for the resume point."""
        return tuple(self._raws)


Search = Callable[..., Iterator[tuple[list[dict[str, Any]], Any]]]
RECONCILE_IDS = 50  # issue ids one Cloud search reads consistently (`reconcileIssues`)


def read_again(search: Search, jql_filter: str, resume: Resume, size: int, source: str) -> list[dict[str, Any]] | None:
    """The issues a run that died left waiting, searched by id (`size` a query) within the configured filter.

    None when that cannot be done: Jira refuses the search (an issue deleted since makes
    `id in (…)` a 400), or an id is not a number (it cannot have come from Jira). The run then
    searches from the bookmark, which stayed below every waiting issue, so none is lost."""
    ids = list(resume.waiting)
    why = None if all(i.isascii() and i.isdigit() for i in ids) else "an issue id there is not a number"
    found: list[dict[str, Any]] = []
    try:
        for first in range(0, len(ids) if why is None else 0, size):
            clause = f"id in ({', '.join(ids[first:first + size])}) ORDER BY updated ASC"
            for issues, _ in search(f"{jql_filter} AND {clause}" if jql_filter else clause):
                found += issues
    except Refused as exc:
        why = str(exc)
    if why is not None:
        log.warning("Jira source '%s': could not read by id the issues the last run left waiting, so searching "
                    "again from the bookmark: %s", source, why)
        return None
    return found


def read_reconciled(search: Search, jql_filter: str, ids: Sequence[str], source: str) -> list[dict[str, Any]]:
    """The issues `ids` name, within the configured filter, read consistently: `reconcileIssues`
    takes up to `RECONCILE_IDS` a search. An id that is not a number is left out; a search Jira
    refuses (an issue deleted since) is logged, and the run's own search still reads the window."""
    numbers = [i for i in dict.fromkeys(ids) if i.isascii() and i.isdigit()]
    found: list[dict[str, Any]] = []
    for first in range(0, len(numbers), RECONCILE_IDS):
        chunk = numbers[first:first + RECONCILE_IDS]
        clause = f"id in ({', '.join(chunk)}) ORDER BY updated ASC"
        try:
            for issues, _ in search(f"{jql_filter} AND {clause}" if jql_filter else clause, [int(i) for i in chunk]):
                found += issues
        except Refused as exc:
            log.warning("Jira source '%s': could not read %d recently changed issues consistently: %s",
                        source, len(chunk), exc)
    return found
