"""Fetch Jira issues incrementally, page by page, each page complete (every change and comment).

Talks to Jira Cloud (REST v3, `search/jql` with page tokens) and Server/Data Center (REST v2,
`search` with startAt/total) through the `jira` library's authenticated session. The library is
built with `max_retries=0` so that `connectors.retry` is the only retry policy, and its
high-level search helpers are bypassed for `_get_json`: they first probe `/field` (and, on
Cloud, need a serverInfo call), which would cost requests on every run.
"""
from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from jira import JIRA
from jira.exceptions import JIRAError
from jira.resilientsession import raise_on_error
from requests import exceptions as http_errors
from requests.adapters import HTTPAdapter

from connectors.errors import FatalError, RetriableError, SkippableError
from connectors.jira_context import JiraContext
from connectors.jira_lookup import explain_keys, has_unknown_custom_field, learn_rank_field
from connectors.jira_parse import KindOf, comments_of, histories_of, parse_datetime, parse_issue
from connectors.records import ParsedTicket
from connectors.retry import OnWait, RetryPolicy, Sleep, call_with_retries, parse_retry_after

log = logging.getLogger(__name__)

DEPLOYMENTS = ("cloud", "server")
SEARCH_FIELDS = (
    "summary,issuetype,status,project,reporter,creator,assignee,created,updated,"
    "resolution,resolutiondate,labels,priority,comment,description"
)
BULK_CHANGELOG_ISSUES = 1000  # issues per request, documented limit of changelog/bulkfetch
BULK_CHANGELOG_PAGE = 10000  # histories per answer, the documented maximum of its maxResults
COMMENT_PAGE = 100
# A JQL time without a known zone is read in the account's zone, which is at most 14 h from UTC.
_WIDEST_UTC_OFFSET = timedelta(hours=14)
_ORDER_BY = re.compile(r"\s*\bORDER\s+BY\b[^\"']*$", re.IGNORECASE)
_ISSUE_IN_PATH = re.compile(r"/issue/[^/]+")
_UNSET = object()


@dataclass(slots=True)
class JiraPage:
    """One page of complete tickets and the bookmark (max `updated` so far) to commit with it."""

    tickets: list[ParsedTicket]
    bookmark: datetime
    total: int | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (issue key, reason)


class _NotFound(FatalError):
    """HTTP 404: fatal for search, but for one issue's comments it means the issue is gone."""


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


def _endpoint(method: str, url: str) -> str:
    path = urlsplit(url).path
    path = path[path.find("/rest/"):] if "/rest/" in path else path
    return f"{method} {_ISSUE_IN_PATH.sub('/issue/{id}', path)}"


class _CountingAdapter(HTTPAdapter):
    """Counts every request the session really sends, retries included."""

    def __init__(self, count: Callable[[str], None]) -> None:
        super().__init__()
        self._count = count

    def send(self, request, *args, **kwargs):  # type: ignore[override]
        self._count(_endpoint(request.method or "GET", request.url or ""))
        return super().send(request, *args, **kwargs)


def _merge_by_id(known: list[Any], fetched: list[Any]) -> list[Any]:
    merged = {str(item.get("id")): item for item in known + fetched if isinstance(item, dict)}
    return list(merged.values())


def _changelog_truncated(raw: dict[str, Any]) -> bool:
    changelog = raw.get("changelog")
    if not isinstance(changelog, dict) or not isinstance(changelog.get("total"), int):
        return False
    limit = changelog.get("maxResults")
    return changelog["total"] > len(histories_of(raw)) or (isinstance(limit, int) and limit < changelog["total"])


def _oldest_update(issues: list[dict[str, Any]], newest: bool = False) -> datetime | None:
    """The earliest (or, with `newest`, the latest) `updated` among raw issues; None when none is readable."""
    times = []
    for raw in issues:
        try:
            times.append(parse_datetime((raw.get("fields") or {}).get("updated"), "updated"))
        except SkippableError:
            continue
    return (max(times) if newest else min(times)) if times else None


def _comments_truncated(raw: dict[str, Any]) -> bool:
    comment = raw["fields"].get("comment") if isinstance(raw.get("fields"), dict) else None
    if not isinstance(comment, dict) or not isinstance(comment.get("total"), int):
        return False
    return comment["total"] > len(comments_of(raw["fields"]))


class JiraConnector:
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
        adapter = _CountingAdapter(self._count)
        self._client._session.mount("https://", adapter)
        self._client._session.mount("http://", adapter)

    def _count(self, endpoint: str) -> None:
        self.requests += 1
        self.requests_by_endpoint[endpoint] = self.requests_by_endpoint.get(endpoint, 0) + 1

    # -- HTTP ---------------------------------------------------------------------------------

    def _request(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """One API call (path under /rest/api/{2|3}/) with our retry policy; errors translated to the connector tree."""
        what = f"Jira source '{self.source}' {method} {_ISSUE_IN_PATH.sub('/issue/{id}', '/' + path)}"

        def once() -> Any:
            try:
                return self._get_json(path, params, method == "POST")
            except JIRAError as exc:
                # JIRAError's text can carry request headers: never chain or quote it.
                raise self._translate(exc, what) from None
            except http_errors.Timeout:
                raise RetriableError("timed out") from None
            except http_errors.ConnectionError:
                raise RetriableError("connection failed") from None
            except (http_errors.ChunkedEncodingError, http_errors.ContentDecodingError):
                raise RetriableError("the answer was cut off") from None  # a passing network failure
            except ValueError:
                raise FatalError(f"{what} answered with a body that is not JSON; check the url.") from None
            except http_errors.RequestException as exc:
                raise FatalError(f"{what} failed ({type(exc).__name__}); check the url.") from None

        return call_with_retries(once, what=what, policy=self.policy, sleep=self.sleep, on_wait=self.on_wait)

    def _get_json(self, path: str, params: dict[str, Any] | None, post: bool) -> Any:
        """The library's authenticated session and error mapping, with orjson for decoding:
        a page of 100 issues with their changelogs is about a megabyte of JSON."""
        client = self._client
        url = client._get_url(path)
        session = client._session
        response = session.post(url, data=json.dumps(params)) if post else session.get(url, params=params)
        raise_on_error(response)
        if not response.content:
            return {}
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            # orjson refuses half a UTF-16 pair (an emoji cut by Jira's own truncation); the standard
            # parser keeps it, and the store turns it into U+FFFD. Anything else is not JSON still.
            return json.loads(response.content)

    def _translate(self, exc: JIRAError, what: str) -> Exception:
        status = exc.status_code
        if status in (401, 403):
            return FatalError(
                f"Jira source '{self.source}' refused the credentials (HTTP {status}); check the token in {self.token_env}."
            )
        if status in (429, 503):
            headers = exc.response.headers if exc.response is not None else {}
            reason = "rate limited" if status == 429 else "Jira unavailable"
            return RetriableError(f"{reason} (HTTP {status})", wait=parse_retry_after(headers.get("Retry-After")))
        if status is None or status >= 500:
            return RetriableError(f"server error (HTTP {status})")
        if status == 404:
            return _NotFound(f"{what} found nothing (HTTP 404); check the url and the deployment.")
        # Jira's own message (a JQL syntax error, say) is what the user needs; scrub the token all the same.
        text = (exc.text or "no message").replace(self._token, "***")[:300]
        return FatalError(f"{what} was refused (HTTP {status}): {text}")

    # -- paging -------------------------------------------------------------------------------

    def pages(self, bookmark: datetime | None) -> Iterator[JiraPage]:
        """Complete pages of tickets updated since `bookmark` (less the overlap), oldest first.

        On Cloud, issues whose embedded changelog was cut short wait, across search pages, for
        one bulk changelog request for up to 1000 of them: a few long-lived issues in every page
        would otherwise cost a request per page. While some wait, the bookmark stays just below
        the oldest of them, so a crash in between refetches them and loses nothing.
        """
        since, zone = self._bound(bookmark)
        total = self._approximate_count(jql_filter(self.jql, since, zone)) if self.cloud else None
        high = _utc(bookmark) if bookmark is not None else None
        yielded = high
        done = 0
        waiting: list[dict[str, Any]] = []
        for issues, page_total in self._search(incremental_jql(self.jql, since, zone)):
            total = page_total if page_total is not None else total
            done += len(issues)
            if self.cloud:
                late = {id(raw) for raw in issues if raw.get("id") is not None and _changelog_truncated(raw)}
                waiting.extend(raw for raw in issues if id(raw) in late)
                issues = [raw for raw in issues if id(raw) not in late]
            tickets, skipped = self._parse(self._complete(issues))
            if len(waiting) >= BULK_CHANGELOG_ISSUES:
                more, more_skipped = self._parse(self._complete(waiting))
                tickets, skipped, waiting = tickets + more, skipped + more_skipped, []
            total = max(total, done) if total is not None else None  # Cloud's count is approximate
            if tickets:
                newest = max(parsed.ticket.updated for parsed in tickets)
                high = newest if high is None else max(high, newest)
                mark = high
                oldest_waiting = _oldest_update(waiting)
                if oldest_waiting is not None and oldest_waiting <= mark:
                    mark = oldest_waiting - timedelta(microseconds=1)
                yielded = mark if yielded is None else max(yielded, mark)  # never backwards
                yield JiraPage(tickets, yielded, total, skipped)
            if self.on_progress is not None:
                self.on_progress(done, total)
        if waiting:
            tickets, skipped = self._parse(self._complete(waiting))
            if tickets:
                newest = max(parsed.ticket.updated for parsed in tickets)
                high = newest if high is None else max(high, newest)
                yielded = high if yielded is None else max(yielded, high)
                yield JiraPage(tickets, yielded, total, skipped)

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
        except _NotFound:
            return None
        count = data.get("count") if isinstance(data, dict) else None
        return count if isinstance(count, int) else None

    def _search(self, jql: str) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        params: dict[str, Any] = {"jql": jql, "maxResults": self.page_size, "fields": SEARCH_FIELDS, "expand": "changelog"}
        if self.cloud:
            # https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get
            seen: set[str] = set()
            while True:
                data = self._request("GET", "search/jql", params)
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
            newest = _oldest_update(issues, newest=True)
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
                         _NotFound)
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

    # -- completing truncated pages -----------------------------------------------------------

    def _complete(self, issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Fetch the changelog entries and comments the search response left out."""
        truncated = [raw for raw in issues if raw.get("id") is not None and _changelog_truncated(raw)]
        gone: set[str] = set()
        if truncated and self.cloud:
            self._bulk_changelogs(truncated)
        elif truncated:
            for raw in truncated:
                try:
                    self._server_changelog(raw)
                except _NotFound:
                    gone.add(str(raw["id"]))
        for raw in issues:
            if raw.get("id") is not None and str(raw["id"]) not in gone and _comments_truncated(raw):
                try:
                    self._all_comments(raw)
                except _NotFound:
                    gone.add(str(raw["id"]))
        for issue_id in gone:
            log.warning("Jira source '%s': issue %s vanished while being fetched; skipped.", self.source, issue_id)
        return [raw for raw in issues if str(raw.get("id")) not in gone]

    def _bulk_changelogs(self, truncated: list[dict[str, Any]]) -> None:
        """Cloud: every history of all truncated issues of a page, in as few requests as possible.

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-changelog-bulkfetch-post
        """
        by_id = {str(raw["id"]): raw for raw in truncated}
        fetched: dict[str, list[Any]] = {}
        ids = list(by_id)
        for first in range(0, len(ids), BULK_CHANGELOG_ISSUES):
            body: dict[str, Any] = {"issueIdsOrKeys": ids[first:first + BULK_CHANGELOG_ISSUES],
                                    "maxResults": BULK_CHANGELOG_PAGE}
            seen: set[str] = set()
            while True:
                data = self._request("POST", "changelog/bulkfetch", body) or {}
                for entry in data.get("issueChangeLogs") or []:
                    if isinstance(entry, dict):
                        fetched.setdefault(str(entry.get("issueId")), []).extend(entry.get("changeHistories") or [])
                token = data.get("nextPageToken")
                if not token:
                    break
                self._first_time(seen, token, "changelog page token")
                body = {**body, "nextPageToken": token}
        for issue_id, raw in by_id.items():
            self._set_changelog(raw, fetched.get(issue_id, []))

    def _server_changelog(self, raw: dict[str, Any]) -> None:
        """Server/DC: the issue's own changelog. The paged `/issue/{key}/changelog` is Cloud-only.

        https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-getIssue
        """
        data = self._request("GET", f"issue/{raw['id']}", {"expand": "changelog", "fields": "updated"})
        self._set_changelog(raw, histories_of(data) if isinstance(data, dict) else [])

    def _set_changelog(self, raw: dict[str, Any], fetched: list[Any]) -> None:
        declared = raw["changelog"].get("total", 0)
        histories = _merge_by_id(histories_of(raw), fetched)
        if len(histories) < declared:
            # Kept in `total`, so the ticket is stored flagged incomplete rather than taken as whole.
            log.warning("Jira source '%s': issue %s has %d of %d changelog entries.",
                        self.source, raw.get("key"), len(histories), declared)
        total = max(len(histories), declared) if isinstance(declared, int) else len(histories)
        raw["changelog"] = {"startAt": 0, "maxResults": len(histories), "total": total, "histories": histories}

    def _all_comments(self, raw: dict[str, Any]) -> None:
        """Comments beyond the embedded first page.

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-get
        """
        fields = raw["fields"] = dict(raw["fields"])
        comments = comments_of(fields)
        total = fields["comment"]["total"]
        start_at = len(comments)
        while start_at < total:
            data = self._request("GET", f"issue/{raw['id']}/comment", {"startAt": start_at, "maxResults": COMMENT_PAGE})
            page = data.get("comments") if isinstance(data, dict) else None
            if not isinstance(page, list) or not page:
                break
            comments = _merge_by_id(comments, page)
            start_at += len(page)
            total = data["total"] if isinstance(data.get("total"), int) else total
        # A shortfall stays visible in `total`: the ticket is then stored flagged incomplete.
        fields["comment"] = {"startAt": 0, "maxResults": len(comments), "total": max(total, len(comments)),
                             "comments": comments}
