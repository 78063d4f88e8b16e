"""The demo scenario as Jira Cloud search results: Acme (client) and Nordlys (partner), SHOP and PAY.

`generate()` returns issues as `GET /rest/api/3/search/jql?expand=changelog&fields=summary,…`
returns them (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get),
sorted by `fields.updated`, but with the *complete* changelog and comments embedded
(`maxResults == total`). Jira Cloud embeds only a first page of each; `truncate()` gives that
view, for a fake server that must make its clients fetch the rest (bulk changelog, comments).

Everything comes from one `random.Random(seed)` and the scenario clock, never from the wall
clock, so the same arguments always give byte-identical JSON. Tickets are created in time
order over the period; each one's whole life is played at once and the parts after the end of
the period are cut, so late tickets are still open. `iter_issues()` yields in `updated` order
while holding only the tickets updated later than the one being created, not all of them; in
`created` order it holds none.

`shift=False` gives the control scenario: the same people, workflow and sizes, but each kind of
act keeps one partner share all period (`simulator.cast`), so there is no change to detect.
"""
from __future__ import annotations

import base64
import heapq
import json
from datetime import date, datetime, timezone
from itertools import islice
from pathlib import Path
from random import Random
from typing import Any, Iterable, Iterator

from simulator import text
from simulator.cast import Cast, working
from simulator.lifecycle import DEFECTS, Life
from simulator.people import add_months, move_date, scenario_config, scenario_toml
from simulator.render import Renderer

__all__ = ["generate", "iter_issues", "search_pages", "write_export", "truncate", "scenario_config", "scenario_toml"]

PROJECTS = (("SHOP", "Acme Webshop", "10000"), ("PAY", "Acme Payments", "10001"))
PROJECT_WEIGHTS = (6, 4)
TYPE_NAMES = ("Bug", "Story", "Task", "Improvement", "Incident")
TYPE_WEIGHTS = (32, 24, 14, 18, 12)
FIRST_ISSUE_ID = 10000
DEFAULT_BASE_URL = "https://acme.atlassian.net"


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


def iter_issues(
    tickets: int = 2000,
    *,
    seed: int = 7,
    start: date = date(2025, 1, 1),
    months: int = 18,
    base_url: str = DEFAULT_BASE_URL,
    long_history_rate: float = 0.02,
    shift: bool = True,
    order: str = "updated",
) -> Iterator[dict[str, Any]]:
    """The scenario's issues one by one, in `fields.updated` order (ties by id); see `generate`.

    `order="created"` yields the same issues in creation (id) order, each as soon as it is played,
    for a caller that stores them whatever the order (the demo build): then only the creation
    times are held for all tickets. In `updated` order an issue must wait until every ticket
    created before its last update has been played: that holds the tickets still in flight, at
    most about 4% of them all in the default scenario.
    """
    if tickets < 0 or months < 1 or not 0.0 <= long_history_rate <= 1.0:
        raise ValueError("tickets must be >= 0, months >= 1 and long_history_rate between 0 and 1")
    if order not in ("updated", "created"):
        raise ValueError(f"order must be 'updated' or 'created', not {order!r}")
    rng = Random(seed)
    first, end = _epoch(start), _epoch(add_months(start, months))
    cast = Cast(first, end, _epoch(move_date(start, months)), shift=shift)
    renderer = Renderer(base_url, end)
    created = []
    for _ in range(tickets):
        t = first + rng.randrange(end - first)
        snapped = working(t, rng)  # people file tickets in working hours
        created.append(snapped if snapped < end else t)
    created.sort()

    numbers = {key: 0 for key, _, _ in PROJECTS}
    pending: list[tuple[int, int, dict[str, Any]]] = []  # (updated, id, issue)
    for index, t in enumerate(created):
        # Whatever was last updated by now can go: every later ticket is created (so updated) later.
        while pending and pending[0][0] <= t:
            yield heapq.heappop(pending)[2]
        project = rng.choices(PROJECTS, weights=PROJECT_WEIGHTS)[0]
        type_name = rng.choices(TYPE_NAMES, weights=TYPE_WEIGHTS)[0]
        numbers[project[0]] += 1
        life = Life(rng, cast, type_name, t, long=rng.random() < long_history_rate)
        if type_name in DEFECTS:
            summary = text.bug_summary(rng, project[0], type_name == "Incident")
        else:
            summary = text.scope_summary(rng, project[0], type_name)
        blocks = text.description(rng, type_name, summary)
        life.run()
        issue_id = FIRST_ISSUE_ID + index
        issue, updated = renderer.issue(life, issue_id, f"{project[0]}-{numbers[project[0]]}", project, summary, blocks)
        if order == "created":
            yield issue
        else:
            heapq.heappush(pending, (updated, issue_id, issue))
    while pending:
        yield heapq.heappop(pending)[2]


def generate(
    tickets: int = 2000,
    *,
    seed: int = 7,
    start: date = date(2025, 1, 1),
    months: int = 18,
    base_url: str = DEFAULT_BASE_URL,
    long_history_rate: float = 0.02,
    shift: bool = True,
) -> list[dict[str, Any]]:
    """The scenario's Jira Cloud issues with full changelogs and comments, sorted by `fields.updated`.

    `tickets` issues created over `months` months from `start`, in projects SHOP and PAY; about
    `long_history_rate` of them carry more than 100 changelog histories. With `shift` (the
    default) the partner takes over halfway, without it the shares stay steady. Same arguments,
    same JSON.
    """
    return list(iter_issues(tickets, seed=seed, start=start, months=months, base_url=base_url,
                            long_history_rate=long_history_rate, shift=shift))


def truncate(issue: dict[str, Any], max_histories: int = 40, max_comments: int = 20) -> dict[str, Any]:
    """The issue as a Jira Cloud search embeds it: the first page of histories and comments only.

    `total` keeps the real count and `maxResults` says how many are embedded, which is how a
    client notices it must fetch the rest (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-changelog-bulkfetch-post).
    The input is not modified.
    """
    changelog, fields = issue["changelog"], issue["fields"]
    comment = fields["comment"]
    histories, comments = changelog["histories"], comment["comments"]
    return {
        **issue,
        "changelog": {**changelog, "maxResults": max(max_histories, 0) if len(histories) > max_histories else len(histories),
                      "total": len(histories), "histories": histories[:max_histories]},
        "fields": {**fields, "comment": {
            **comment, "maxResults": max(max_comments, 0) if len(comments) > max_comments else len(comments),
            "total": len(comments), "comments": comments[:max_comments]}},
    }


def _page_token(offset: int) -> str:
    # Opaque to clients, like Cloud's; deterministic so that exports are byte-identical.
    return base64.urlsafe_b64encode(f"demo-offset:{offset}".encode()).decode().rstrip("=")


def search_pages(issues: Iterable[dict[str, Any]], page_size: int = 100) -> Iterator[dict[str, Any]]:
    """The issues as `search/jql` response pages: `issues`, `nextPageToken` (all but the last), `isLast`.

    No issues still make one page, as Jira answers an empty search with one empty page.
    """
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    remaining = iter(issues)
    page = list(islice(remaining, page_size))
    offset = 0
    while True:
        following = list(islice(remaining, page_size))
        offset += len(page)
        if not following:
            yield {"issues": page, "isLast": True}
            return
        yield {"issues": page, "nextPageToken": _page_token(offset), "isLast": False}
        page = following


def write_export(
    directory: str | Path,
    tickets: int = 2000,
    *,
    seed: int = 7,
    page_size: int = 100,
    **options: Any,
) -> list[Path]:
    """Write the scenario as `page-0001.json`, … into `directory`, for `partnerscope import jira FILE...`.

    Older `page-*.json` files left in `directory` by a larger export are removed, so that the
    directory holds exactly this scenario. `options` are `generate`'s keyword arguments.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    issues = iter_issues(tickets, seed=seed, **options)
    for number, page in enumerate(search_pages(issues, page_size), 1):
        path = target / f"page-{number:04d}.json"
        path.write_text(json.dumps(page, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        written.append(path)
    keep = set(written)
    for stale in sorted(target.glob("page-*.json")):
        if stale not in keep:
            stale.unlink()
    return written
