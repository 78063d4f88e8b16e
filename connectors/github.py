"""Fetch GitHub issues and pull requests incrementally, page by page, each page complete.

Per repository and run (https://docs.github.com/en/rest/issues):
- issues and pull requests updated since the bookmark, oldest first (`/issues?since=&sort=updated`),
  paged by moving `since` to the last item's time rather than by page number: a page-number
  walk skips an item whenever an earlier one is updated meanwhile, and GitHub refuses deep pages;
- the repository's issue events (`/issues/events`, newest first, no `since`: read back to the
  bookmark), fetched after the first page of issues and topped up when a later page holds an
  issue updated after that read, so that every page's events are complete;
- per page, one GraphQL query for the comments of commented issues and the reviews and branch
  of pull requests (`connectors.github_graphql`);
- deployments with their statuses (one GraphQL query per 100 deployments, `connectors.github_graphql`)
  and releases, each deployment and release a pseudo-ticket of its own (`owner/repo@d<id>`, `@rel<id>`).
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Collection, Iterator

from connectors.errors import FatalError, RetriableError, SkippableError
from connectors.github_http import ETags, GitHubHTTP, NotFound, PaginationLimit, Refused, server_time
from connectors.github_graphql import NO_DETAILS, GraphQLDetails
from connectors.github_activity import parse_repository_activity, split_activity
from connectors.github_parse import (
    EVENT_FIELDS, EVENT_TYPES, RELEASE_FIELDS, REPOSITORY_FIELDS, KindOf, parse_datetime, parse_issue,
)
from connectors.records import ParsedTicket
from connectors.retry import OnWait, RetryPolicy, Sleep

log = logging.getLogger(__name__)

# A primary-limit reset can be up to an hour away; GitHub's own Retry-After is honoured as sent.
DEFAULT_POLICY = RetryPolicy(max_retry_after=3660.0)
_REPO_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
Skip = tuple[str, str]  # (ticket key, reason)


@dataclass(slots=True)
class GitHubPage:
    """One page of complete tickets and the bookmark to commit with it.

    `bookmark` is None when committing this page must not move the source's bookmark: with
    several repositories, one repository's progress says nothing about those still to come.
    """

    tickets: list[ParsedTicket]
    bookmark: datetime | None
    total: int | None = None
    skipped: list[Skip] = field(default_factory=list)
    repository: str | None = None


@dataclass(slots=True)
class _Events:
    """A repository's issue events read so far, by issue number, and how far back they are complete."""

    by_number: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    read_at: datetime | None = None  # server time of the latest read: later events are not in here
    complete_from: datetime | None = None  # set when GitHub refused to page back to the bookmark

    def add(self, number: int, event: dict[str, Any]) -> None:
        if event.get("event") in EVENT_TYPES:  # subscribed, mentioned, … need no memory
            self.by_number.setdefault(number, {})[str(event.get("id"))] = event

    def of(self, number: int) -> list[dict[str, Any]]:
        return list(self.by_number.get(number, {}).values())


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _capped(mark: datetime | None, started: datetime, floor: datetime | None) -> datetime | None:
    """`mark`, but not past the run's start (nor below the bookmark the run began from)."""
    if mark is None:
        return None
    capped = min(mark, started)
    return max(capped, floor) if floor is not None else capped


def _iso(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(raw: dict[str, Any], *names: str) -> datetime | None:
    """The latest of the named times of an item, None when it has none readable."""
    found = []
    for name in names:
        try:
            found.append(parse_datetime(raw.get(name), name))
        except SkippableError:
            pass
    return max(found) if found else None


class GitHubConnector:
    """One configured GitHub source (repositories and/or an organisation): pages of tickets updated since a bookmark."""

    def __init__(
        self, source_name: str, *, repos: list[str] | None = None, org: str | None = None, token: str,
        token_env: str, base_url: str | None = None, start: date | datetime | None = None, per_page: int = 100,
        overlap: timedelta = timedelta(minutes=5), sleep: Sleep = time.sleep, on_wait: OnWait | None = None,
        on_progress: Callable[[int, int | None], None] | None = None, kind_of: KindOf | None = None,
        timeout: float = 30, policy: RetryPolicy = DEFAULT_POLICY, clock: Callable[[], float] = time.time,
        min_remaining: int = 10, etags: ETags | None = None, jira_projects: Collection[str] | None = None,
        graphql_batch: int = 100,
    ) -> None:
        if not token:
            raise FatalError(f"GitHub source '{source_name}' has no token; set {token_env or 'its token variable'}.")
        repos = [name.strip().strip("/") for name in repos or []]
        bad = [name for name in repos if not _REPO_NAME.fullmatch(name)]
        if bad:
            raise FatalError(f"GitHub source '{source_name}' names repository '{bad[0]}'; write repositories as 'owner/repo'.")
        if not repos and not (org and org.strip()):
            raise FatalError(f"GitHub source '{source_name}' names no repositories and no organisation.")
        if not 1 <= per_page <= 100 or not 1 <= graphql_batch <= 100:
            raise FatalError(f"GitHub source '{source_name}': per_page and graphql_batch must be between 1 and 100.")
        self.source, self.repos, self.org = source_name, repos, org.strip() if org else None
        self.start, self.per_page, self.overlap, self.graphql_batch = start, per_page, overlap, graphql_batch
        self.on_progress, self.kind_of, self.jira_projects, self.clock = on_progress, kind_of, jira_projects, clock
        self.http = GitHubHTTP(
            source_name, token=token, token_env=token_env, base_url=base_url, timeout=timeout, sleep=sleep,
            on_wait=on_wait, clock=clock, policy=policy, min_remaining=min_remaining, etags=etags,
        )
        self.details = GraphQLDetails(self.http, source_name, graphql_batch)

    @property
    def requests(self) -> int:
        """Requests sent so far (retries and 304 answers included)."""
        return self.http.requests

    @property
    def requests_by_endpoint(self) -> dict[str, int]:
        """Requests sent so far per endpoint template ("GET /repos/{owner}/{repo}/issues": 3)."""
        return self.http.requests_by_endpoint

    @property
    def etags(self) -> ETags:
        """ETags (and bodies) of first pages; keep it between runs to get free 304 answers."""
        return self.http.etags

    def org_members(self, org: str) -> list[str]:
        """Logins of a GitHub organisation's members (as far as the token may see them).

        https://docs.github.com/en/rest/orgs/members#list-organization-members
        """
        logins: list[str] = []
        for reply in self.http.listing("GET /orgs/{org}/members", f"/orgs/{org}/members", {"per_page": 100},
                                       conditional=False):
            logins.extend(str(m["login"]) for m in reply.data or () if isinstance(m, dict) and m.get("login"))
        return logins

    # -- paging -------------------------------------------------------------------------------

    def pages(self, bookmark: datetime | None) -> Iterator[GitHubPage]:
        """Complete pages of tickets updated since `bookmark` (less the overlap), repository by repository.

        No page's bookmark passes the moment this run started: a repository read early in the run
        (and every repository's deployments and releases, read first) may change while later
        ones are read, and the next run must look again from before that.
        """
        started = datetime.fromtimestamp(self.clock(), timezone.utc)
        since = self._since(bookmark)
        floor = _utc(bookmark) if bookmark is not None else (since if self.start is not None else None)
        repositories = self._repositories()
        high, done = floor, 0
        for position, repository in enumerate(repositories):
            name = repository["full_name"]
            last = position == len(repositories) - 1
            activity, skipped = self._activity(repository, since)
            if activity is not None or skipped:
                mark = _capped(high if last else floor, started, floor)
                yield GitHubPage(split_activity(activity) if activity else [], mark,
                                 None, skipped, name)
            for tickets, skipped, count in self._issue_pages(name, since):
                done += count
                if last and tickets:
                    newest = max(parsed.ticket.updated for parsed in tickets)
                    high = newest if high is None else max(high, newest)  # never backwards
                if tickets or skipped:
                    yield GitHubPage(tickets, _capped(high if last else floor, started, floor), None, skipped, name)
                if self.on_progress is not None:
                    self.on_progress(done, None)

    def _since(self, bookmark: datetime | None) -> datetime | None:
        if bookmark is not None:
            return _utc(bookmark) - self.overlap
        if isinstance(self.start, datetime):
            return _utc(self.start)
        if isinstance(self.start, date):
            return datetime(self.start.year, self.start.month, self.start.day, tzinfo=timezone.utc)
        return None

    def _repositories(self) -> list[dict[str, Any]]:
        """The configured repositories (GET each: checks access, gives the canonical name) and the organisation's."""
        found: dict[str, dict[str, Any]] = {}
        for name in self.repos:
            try:
                data = self.http.get("GET /repos/{owner}/{repo}", f"/repos/{name}", conditional=True,
                                     fields=REPOSITORY_FIELDS).data
            except NotFound:
                raise FatalError(f"GitHub source '{self.source}': repository {name} does not exist or the token "
                                 f"in {self.http.token_env} cannot see it.") from None
            self._check_repository(data, name)
            found.setdefault(data["full_name"].lower(), data)
        if self.org:
            try:
                for reply in self.http.listing("GET /orgs/{org}/repos", f"/orgs/{self.org}/repos",
                                               {"per_page": self.per_page, "type": "all"}, fields=REPOSITORY_FIELDS):
                    for data in self._list(reply.data, "organisation repositories"):
                        self._check_repository(data, self.org)
                        found.setdefault(data["full_name"].lower(), data)
            except NotFound:
                raise FatalError(f"GitHub source '{self.source}': organisation {self.org} does not exist or the "
                                 f"token in {self.http.token_env} cannot see it.") from None
        return list(found.values())

    def _check_repository(self, data: Any, name: str) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("full_name"), str):
            raise FatalError(f"GitHub source '{self.source}' got no repository object for {name}; check base_url.")

    def _list(self, data: Any, what: str) -> list[dict[str, Any]]:
        if not isinstance(data, list):
            raise FatalError(f"GitHub source '{self.source}' got {what} that are not a JSON array; check base_url.")
        return [item for item in data if isinstance(item, dict)]

    # -- issues and pull requests -------------------------------------------------------------

    def _issue_pages(self, name: str, since: datetime | None) -> Iterator[tuple[list[ParsedTicket], list[Skip], int]]:
        events: _Events | None = None
        for issues in self._updated_issues(name, since):
            if events is None:
                events = _Events()
                self._read_events(name, since, events)
            elif events.read_at is not None and any(
                (_time(raw, "updated_at") or events.read_at) >= events.read_at - self.overlap for raw in issues
            ):
                self._read_events(name, events.read_at - self.overlap, events)  # changed after the last read
            if events.complete_from is not None:
                self._events_one_by_one(name, issues, events)
            extras = self.details.of(issues, name)
            tickets, skipped = [], []
            for raw in issues:
                number = raw.get("number")
                found = extras.get(str(raw.get("node_id")), NO_DETAILS)
                try:
                    tickets.append(parse_issue(
                        raw, self.source, repo=name, comments=found.comments, reviews=found.reviews, pull=found.pull,
                        events=events.of(number) if isinstance(number, int) else [],
                        kind_of=self.kind_of, jira_projects=self.jira_projects,
                    ))
                except SkippableError as exc:
                    key = f"{name}#{number}"
                    log.warning("GitHub source '%s': skipped %s: %s", self.source, key, exc)
                    skipped.append((key, str(exc)))
            yield tickets, skipped, len(issues)

    def _updated_issues(self, name: str, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        """Issues and pull requests updated since `since`, oldest first, each (number, updated_at) once.

        https://docs.github.com/en/rest/issues/issues#list-repository-issues
        Each request restarts at the last item's time less a second (so equal times are never
        lost, whether `since` is inclusive or not); only when a whole page shares that second is
        the Link header followed instead.
        """
        endpoint, path = "GET /repos/{owner}/{repo}/issues", f"/repos/{name}/issues"
        params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc", "per_page": self.per_page}
        seen: dict[Any, Any] = {}
        visited: set[str] = set()
        bound, following = since, None
        while True:
            if following is None:
                reply = self.http.get(endpoint, path, {**params, **({"since": _iso(bound)} if bound else {})})
            else:
                reply = self.http.get(endpoint, following)
            items = self._list(reply.data, "issues")
            fresh = [raw for raw in items if seen.get(raw.get("number"), object()) != raw.get("updated_at")]
            seen.update((raw.get("number"), raw.get("updated_at")) for raw in fresh)
            if fresh:
                yield fresh
            if not reply.next_url or not items:
                return
            last = _time(items[-1], "updated_at")
            if last is not None and (bound is None or last - timedelta(seconds=1) > bound):
                bound, following = last - timedelta(seconds=1), None
                continue
            if reply.next_url in visited:
                raise RetriableError(f"GitHub source '{self.source}' sent the page link {reply.next_url} twice; "
                                     "stopped to avoid a loop.")
            visited.add(reply.next_url)
            following = reply.next_url

    def _read_events(self, name: str, cutoff: datetime | None, events: _Events) -> None:
        """The repository's issue events back to `cutoff` (all of them when None), newest first.

        https://docs.github.com/en/rest/issues/events#list-issue-events-for-a-repository
        """
        oldest: datetime | None = None
        first = True
        try:
            for reply in self.http.listing("GET /repos/{owner}/{repo}/issues/events", f"/repos/{name}/issues/events",
                                           {"per_page": self.per_page}, fields=EVENT_FIELDS):
                if first:
                    events.read_at = server_time(reply.headers) or datetime.fromtimestamp(self.clock(), timezone.utc)
                    first = False
                items = self._list(reply.data, "issue events")
                for raw in items:
                    at = _time(raw, "created_at")
                    oldest = at if oldest is None or (at is not None and at < oldest) else oldest
                    issue = raw.get("issue")
                    if isinstance(issue, dict) and isinstance(issue.get("number"), int):
                        events.add(issue["number"], raw)
                if not items or (cutoff is not None and oldest is not None and oldest < cutoff):
                    return
        except PaginationLimit as exc:
            log.warning("GitHub source '%s': %s; older events are read issue by issue.", self.source, exc)
            floor = oldest or events.read_at or datetime.fromtimestamp(self.clock(), timezone.utc)
            events.complete_from = floor if events.complete_from is None else min(events.complete_from, floor)

    def _events_one_by_one(self, name: str, issues: list[dict[str, Any]], events: _Events) -> None:
        """Events of issues older than what the repository listing reached (it refused deeper pages)."""
        for raw in issues:
            created, number = _time(raw, "created_at"), raw.get("number")
            if not isinstance(number, int) or created is None or created >= events.complete_from:
                continue
            for reply in self.http.listing("GET /repos/{owner}/{repo}/issues/{number}/events",
                                           f"/repos/{name}/issues/{number}/events", {"per_page": self.per_page},
                                           fields=EVENT_FIELDS, conditional=False):
                for item in self._list(reply.data, "issue events"):
                    events.add(number, item)

    # -- deployments and releases -------------------------------------------------------------

    def _activity(self, repository: dict[str, Any], since: datetime | None) -> tuple[ParsedTicket | None, list[Skip]]:
        """The repository's deployments (with statuses) and releases since `since`, as one pseudo-ticket.

        https://docs.github.com/en/graphql/reference/objects#deployment ,
        https://docs.github.com/en/rest/releases/releases
        Both are read newest first and stop at the page that reaches back past `since`.
        """
        name = repository["full_name"]
        try:
            deployments, statuses = self._recent_deployments(name, since)
            releases = self._recent("GET /repos/{owner}/{repo}/releases", f"/repos/{name}/releases",
                                    since, ("created_at", "published_at"), RELEASE_FIELDS, "releases")
        except (NotFound, Refused) as exc:
            # A token without the deployments permission can still read the issues.
            log.warning("GitHub source '%s': skipped deployments and releases of %s: %s", self.source, name, exc)
            return None, [(f"{name}@deployments", str(exc))]
        try:
            return parse_repository_activity(repository, self.source, deployments=deployments,
                                             statuses=statuses, releases=releases), []
        except SkippableError as exc:
            log.warning("GitHub source '%s': skipped deployments and releases of %s: %s", self.source, name, exc)
            return None, [(f"{name}@deployments", str(exc))]

    def _recent_deployments(
        self, name: str, since: datetime | None,
    ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
        """Deployments changed since `since` (created, updated or given a status), with all their statuses.

        Pages come newest first (by creation) with every deployment's statuses, so a status added
        later to an older deployment is seen as long as that deployment is on a page read. Reading
        stops after the first page holding a deployment with nothing at or after `since`; a
        status added later still to a deployment beyond that page is not seen. GitHub's own late
        statuses (`inactive`, when a newer deployment to the environment succeeds) go to the
        deployment just before the new one, which is changed itself and so keeps the reading on.
        """
        kept: list[dict[str, Any]] = []
        statuses: dict[str, list[dict[str, Any]]] = {}
        for page in self.details.deployments(name, self.per_page):
            done = False
            for deployment, its in page:
                times = [_time(deployment, "created_at", "updated_at"), *(_time(s, "created_at") for s in its)]
                changed = max((at for at in times if at is not None), default=None)
                if since is None or changed is None or changed >= since:
                    kept.append(deployment)
                    statuses[str(deployment.get("id"))] = its
                else:
                    done = True
            if done:
                break
        return kept, statuses

    def _recent(
        self, endpoint: str, path: str, since: datetime | None, times: tuple[str, ...], fields: tuple[str, ...], what: str,
    ) -> list[dict[str, Any]]:
        """Items of a newest-first listing changed since `since` (created_at orders it; the latest of `times` filters)."""
        kept: list[dict[str, Any]] = []
        for reply in self.http.listing(endpoint, path, {"per_page": self.per_page}, fields=fields):
            items = self._list(reply.data, what)
            kept += [item for item in items if since is None or (_time(item, *times) or since) >= since]
            created = [at for at in (_time(item, "created_at") for item in items) if at is not None]
            if not items or (since is not None and created and min(created) < since):
                break
        return kept
