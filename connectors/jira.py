"""Fetch Jira issues incrementally, page by page, each page complete (every change and comment).

Talks to Jira Cloud (REST v3, `search/jql` with page tokens) and Server/Data Center (REST v2,
`search` with startAt/total) through the `jira` library's authenticated session. The library is
built with `max_retries=0` so that `connectors.retry` is the only retry policy, and its
high-level search helpers are bypassed for `_get_json`: they first probe `/field` (and, on
Cloud, need a serverInfo call), which would cost requests on every run.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Callable, Iterator, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jira import JIRA

from connectors.errors import FatalError, RetriableError, SkippableError
from connectors.jira_complete import BULK_CHANGELOG_ISSUES, CompletesHistories, NotFound, changelog_truncated
from connectors.jira_context import JiraContext
from connectors.jira_http import CountingAdapter, JiraRequests
from connectors.jira_lookup import explain_keys, has_unknown_custom_field, learn_rank_field
from connectors.jira_parse import KindOf, parse_issue
from connectors.jira_waiting import Resume, Waiting, oldest_update, read_again, read_reconciled
from connectors.records import ParsedTicket
from connectors.retry import OnWait, RetryPolicy, Sleep

log = logging.getLogger(__name__)

DEPLOYMENTS = ("cloud", "server")
SEARCH_FIELDS = (
    "summary,issuetype,status,project,reporter,creator,assignee,created,updated,"
    "resolution,resolutiondate,labels,priority,comment,description"
)
# A JQL time without a known zone is read in the account's zone, which is at most 14 h from UTC.
_WIDEST_UTC_OFFSET = timedelta(hours=14)
_ORDER_BY = re.compile(r"\s*\bORDER\s+BY\b[^\"']*$", re.IGNORECASE)
_ISSUE_IN_PATH = re.compile(r"/issue/[^/]+")
_UNSET = object()


@dataclass(slots=True)
class JiraPage:
    """One page of complete tickets and the bookmark (max `updated` so far) to commit with it;
    `resume` says where a run that dies after this page picks up (None: nothing waits)."""

    tickets: list[ParsedTicket]
    bookmark: datetime | None
    total: int | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (issue key, reason)
    resume: Resume | None = None


def incremental_jql(jql: str, since: datetime | date | None, zone: tzinfo = timezone.utc) -> str:
    """`(<jql>) AND updated >= "<since>" ORDER BY updated ASC`, with `since` on the account's clock.

    JQL reads times in the searching user's time zone at minute resolution, so the bound is
    converted to that zone and truncated to the minute (which only widens the window).
    https://support.atlassian.com/jira-software-cloud/docs/jql-fields/#Updated
    """
    return f"{jql_filter(jql, since, zone)} ORDER BY updated ASC".lstrip()


def jql_filter(jql: str, since: datetime | date | None, zone: tzinfo = timezone.utc) -> str:
    """The configured JQL (its own ORDER BY dropped) AND the `updated` bound; no ordering."""
    base = _ORDER_BY.sub("", jql).strip()
    clauses = [f"({base})"] if base else []
    if isinstance(since, datetime):
        clauses.append(f'updated >= "{since.astimezone(zone):%Y-%m-%d %H:%M}"')
    elif isinstance(since, date):
        clauses.append(f'updated >= "{since:%Y-%m-%d}"')
    return " AND ".join(clauses)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _below_waiting(high: datetime | None, waiting: Waiting, yielded: datetime | None) -> datetime | None:
    """The bookmark a page may commit: the search's progress, held just below the oldest waiting
    issue, and never behind what an earlier page committed."""
    mark, oldest = high, waiting.oldest()
    if mark is not None and oldest is not None and oldest <= mark:
        mark = oldest - timedelta(microseconds=1)
    if mark is None:
        return yielded
    return mark if yielded is None else max(yielded, mark)


class JiraConnector(JiraRequests, CompletesHistories):
    """One configured Jira source: yields complete pages of tickets updated since a bookmark."""

    def __init__(
        self, source_name: str, url: str, deployment: str, jql: str, *,
        email: str | None, token: str, token_env: str, start: date | datetime | None,
        page_size: int = 100, overlap: timedelta = timedelta(minutes=5), sleep: Sleep = time.sleep,
        on_wait: OnWait | None = None, on_progress: Callable[[int, int | None], None] | None = None,
        kind_of: KindOf | None = None, timeout: float = 30, policy: RetryPolicy = RetryPolicy(),
        context: JiraContext | None = None,
    ) -> None:
        if deployment not in DEPLOYMENTS:
            raise FatalError(f"Jira source '{source_name}' has deployment '{deployment}'; use 'cloud' or 'server'.")
        if not token:
            raise FatalError(f"Jira source '{source_name}' has no token; set {token_env or 'its token variable'}.")
        if deployment == "cloud" and not email:
            raise FatalError(f"Jira source '{source_name}' is on Cloud and needs the account email for its API token.")
        self.source, self.url, self.deployment, self.jql = source_name, url.rstrip("/"), deployment, jql
        self.token_env, self.start, self.page_size, self.overlap = token_env, start, page_size, overlap
        self.sleep, self.on_wait, self.on_progress, self.kind_of = sleep, on_wait, on_progress, kind_of
        self.policy = policy
        # What the run knows beyond one issue (user ids, the rank field); the service passes one
        # loaded with what earlier runs learnt, and stores what this one learns.
        self.context = context or JiraContext()
        if not self.context.users.deployment_known:  # this source's deployment says which ids changelogs hold
            self.context.users.cloud, self.context.users.deployment_known = deployment == "cloud", True
        self._fields_read = False
        self._token = token  # only to scrub it from quoted server messages
        self._zone: tzinfo | None | object = _UNSET  # the account's time zone, asked once per run
        self.cloud = deployment == "cloud"
        self.requests = 0
        self.requests_by_endpoint: dict[str, int] = {}
        auth: dict[str, Any] = {"basic_auth": (email, token)} if self.cloud else {"token_auth": token}
        jira_log = logging.getLogger("jira")
        level = jira_log.level
        self._client = JIRA(
            self.url, options={"rest_api_version": "3" if self.cloud else "2"},
            get_server_info=False, max_retries=0, timeout=timeout, **auth,
        )
        jira_log.setLevel(level)  # the library resets its logger's level; keep the application's choice
        adapter = CountingAdapter(self._count)
        self._client._session.mount("https://", adapter)
        self._client._session.mount("http://", adapter)

    def _count(self, endpoint: str) -> None:
        self.requests += 1
        self.requests_by_endpoint[endpoint] = self.requests_by_endpoint.get(endpoint, 0) + 1

    # -- paging -------------------------------------------------------------------------------

    def pages(self, bookmark: datetime | None, resume: Resume | None = None,
              reconcile: Sequence[str] = ()) -> Iterator[JiraPage]:
        """Complete pages of tickets updated since `bookmark` (less the overlap), oldest first.

        On Cloud, issues whose embedded changelog was cut short wait, across search pages, for
        one bulk changelog request for up to 1000 of them: a few long-lived issues in every page
        would otherwise cost a request per page. While some wait, the bookmark stays just below
        the oldest of them, and each page carries a `Resume` to commit with it. Given back the
        last one committed, a run that follows one that died reads the waiting issues by id and
        searches on from where that run had got, not from the bookmark (`connectors.jira_waiting`).

        On Cloud, `reconcile` names issues changed lately (by id): they are read first through
        `reconcileIssues`, which makes the search consistent for them, so a change the search has
        not indexed yet is not missed. That first page never moves the bookmark.
        """
        floor = _utc(bookmark) if bookmark is not None else None
        again = None
        if resume is not None and self.cloud:
            again = read_again(self._search, jql_filter(self.jql, None), resume, self.page_size, self.source)
        high = floor
        if resume is not None and again is not None and resume.after is not None:
            high = _utc(resume.after) if floor is None else max(floor, _utc(resume.after))
        since, zone = self._bound(high)
        total = self._approximate_count(jql_filter(self.jql, since, zone)) if self.cloud else None
        yielded, committed = floor, resume
        done = 0
        waiting = Waiting()
        waiting.add(raw for raw in again or [] if raw.get("id") is not None)
        recent = read_reconciled(self._search, jql_filter(self.jql, None), reconcile, self.source) \
            if self.cloud and reconcile else []
        if recent:
            late = [raw for raw in recent if raw.get("id") is not None and changelog_truncated(raw)]
            waiting.add(late)
            cut = {id(raw) for raw in late}
            tickets, skipped = self._parse(self._complete([raw for raw in recent if id(raw) not in cut]))
            yield JiraPage(tickets, None, total, skipped, committed)
        for issues, page_total in self._search(incremental_jql(self.jql, since, zone)):
            total = page_total if page_total is not None else total
            done += len(issues)
            late: list[dict[str, Any]] = []
            if self.cloud:
                late = [raw for raw in issues if raw.get("id") is not None and changelog_truncated(raw)]
                waiting.add(late)
                cut = {id(raw) for raw in late}
                issues = [raw for raw in issues if id(raw) not in cut]
            tickets, skipped = self._parse(self._complete(issues))
            if tickets:  # the search's progress: not the waiting issues, which may come from a read by id
                newest = max(parsed.ticket.updated for parsed in tickets)
                high = newest if high is None else max(high, newest)
            if len(waiting) >= BULK_CHANGELOG_ISSUES:
                more, more_skipped = self._parse(self._complete(waiting.take()))
                tickets, skipped = tickets + more, skipped + more_skipped
            total = max(total, done) if total is not None else None  # Cloud's count is approximate
            if tickets or late:
                yielded = _below_waiting(high, waiting, yielded)
                committed = Resume(high, waiting.ids()) if waiting else None
                yield JiraPage(tickets, yielded, total, skipped, committed)
            if self.on_progress is not None:
                self.on_progress(done, total)
        tickets, skipped = self._parse(self._complete(waiting.take())) if waiting else ([], [])
        if tickets:  # the search is over: every ticket is within it
            newest = max(parsed.ticket.updated for parsed in tickets)
            high = newest if high is None else max(high, newest)
        if tickets or committed is not None:  # the last page says nothing waits any more
            yielded = _below_waiting(high, waiting, yielded)
            yield JiraPage(tickets, yielded, total, skipped, None)

    def _bound(self, bookmark: datetime | None) -> tuple[date | datetime | None, tzinfo]:
        """The lower `updated` bound and the zone to write it in: the bookmark less the overlap, else `start`."""
        since: date | datetime | None = self.start
        if bookmark is not None:
            since = _utc(bookmark) - self.overlap
        elif isinstance(self.start, datetime):
            since = _utc(self.start)
        if not isinstance(since, datetime):
            return since, timezone.utc  # a date is read as midnight in the account's zone: no lookup needed
        zone = self._account_zone()
        if zone is None:
            return since - _WIDEST_UTC_OFFSET, timezone.utc
        return since, zone

    def _account_zone(self) -> tzinfo | None:
        """The account's time zone, asked of Jira at most once per run."""
        if self._zone is _UNSET:
            self._zone = self._time_zone()
        return self._zone  # type: ignore[return-value]

    def _time_zone(self) -> tzinfo | None:
        """The searching account's time zone (JQL reads times in it), from `myself`."""
        me = self._request("GET", "myself")
        name = me.get("timeZone") if isinstance(me, dict) else None
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            log.warning("Jira source '%s': time zone %r is unknown here; widening the window by 14 h.", self.source, name)
            return None

    def _approximate_count(self, jql: str) -> int | None:
        try:
            data = self._request("POST", "search/approximate-count", {"jql": jql})
        except NotFound:
            return None
        count = data.get("count") if isinstance(data, dict) else None
        return count if isinstance(count, int) else None

    def _search(self, jql: str, reconcile: Sequence[int] = ()) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        params: dict[str, Any] = {"jql": jql, "maxResults": self.page_size, "fields": SEARCH_FIELDS, "expand": "changelog"}
        if self.cloud:
            # https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get
            # and, to name issues in `reconcileIssues`, its POST twin (the same body, as JSON).
            method = "POST" if reconcile else "GET"
            if reconcile:
                params = {**params, "fields": SEARCH_FIELDS.split(","), "reconcileIssues": list(reconcile)}
            seen: set[str] = set()
            while True:
                data = self._request(method, "search/jql", params)
                yield self._issues(data), None
                token = data.get("nextPageToken")
                if data.get("isLast") or not token:
                    return
                self._first_time(seen, token, "page token")
                params = {**params, "nextPageToken": token}
        yield from self._server_search(params)

    def _first_time(self, seen: set[str], token: str, what: str) -> None:
        """A page token seen before means the tracker is going round in circles: stop, don't spin."""
        if token in seen:
            raise RetriableError(f"Jira source '{self.source}' sent {what} {token!r} twice; stopped to avoid a loop.")
        seen.add(token)

    def _server_search(self, params: dict[str, Any]) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        """Server/DC: `startAt` paging, restarted from the newest `updated` seen after every page.

        Offsets alone shift when an issue is updated during the run (it moves to the end, and the
        issue behind it slides into the page already read, never to be seen again). Restarting the
        query from the last page's newest minute keeps every issue in view; issues seen already
        (same id and `updated`) are dropped, and a page that cannot move the minute on (more
        issues in one minute than a page holds) pages on by offset within that minute.
        https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/search-searchUsingSearchRequest
        """
        jql, start_at, total = params["jql"], 0, None
        seen: dict[str, object] = {}
        while True:
            data = self._request("GET", "search", {**params, "jql": jql, "startAt": start_at})
            issues = self._issues(data)
            if total is None and isinstance(data.get("total"), int):
                total = data["total"]  # the first query's total is the run's; later ones count less
            query_total = data.get("total") if isinstance(data.get("total"), int) else None
            fresh = [raw for raw in issues if seen.get(str(raw.get("id"))) != (raw.get("fields") or {}).get("updated")]
            for raw in fresh:
                seen[str(raw.get("id"))] = (raw.get("fields") or {}).get("updated")
            yield fresh, total
            if not issues or (start_at + len(issues) >= query_total if query_total is not None
                              else len(issues) < self.page_size):
                return
            newest = oldest_update(issues, newest=True)
            following = self._restart_jql(newest) if newest is not None else jql
            if following != jql:
                jql, start_at = following, 0
            else:
                start_at += len(issues)

    def _restart_jql(self, newest: datetime) -> str:
        """The search again from `newest` (minute resolution, in the account's zone)."""
        zone = self._account_zone()
        if zone is None:
            return incremental_jql(self.jql, newest - _WIDEST_UTC_OFFSET, timezone.utc)
        return incremental_jql(self.jql, newest, zone)

    def _issues(self, data: Any) -> list[dict[str, Any]]:
        if not isinstance(data, dict) or not isinstance(data.get("issues"), list):
            raise FatalError(
                f"Jira source '{self.source}' answered the search without an 'issues' list; check the url and deployment."
            )
        return [dict(issue) for issue in data["issues"] if isinstance(issue, dict)]

    def _parse(self, issues: list[dict[str, Any]]) -> tuple[list[ParsedTicket], list[tuple[str, str]]]:
        if not self._fields_read and has_unknown_custom_field(issues, self.context):
            # Only a site whose changelogs name a custom field other than "Rank" needs the list.
            learn_rank_field(lambda method, path, params: self._request(method, path, params), self.context, self.source)
            self._fields_read = True
        if not self.cloud:
            explain_keys(lambda method, path, params: self._request(method, path, params), self.context, issues,
                         NotFound)
        tickets, skipped = [], []
        for raw in issues:
            try:
                tickets.append(parse_issue(raw, self.source, kind_of=self.kind_of, base_url=self.url,
                                           context=self.context))
            except SkippableError as exc:
                key = str(raw.get("key") or raw.get("id") or "?")
                log.warning("Jira source '%s': skipped issue %s: %s", self.source, key, exc)
                skipped.append((key, str(exc)))
        return tickets, skipped
