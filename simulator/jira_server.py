"""A fake Jira (Cloud and Server/DC REST) over the demo scenario, for end-to-end tests and the benchmark.

It answers the requests Partnerscope's connector and GrimoireLab Perceval's jira backend send,
in the documented response shapes:

  Cloud   GET  /rest/api/3/search/jql              nextPageToken paging, embedded changelog and comments
                                                     cut to a first page (`total` says how many exist)
          POST /rest/api/3/search/approximate-count
          POST /rest/api/3/changelog/bulkfetch
          GET  /rest/api/{2,3}/issue/{id}/changelog paged
  Both    GET  /rest/api/{2,3}/issue/{id}           full changelog with expand=changelog
          GET  /rest/api/{2,3}/issue/{id}/comment   startAt/maxResults/total
          GET  /rest/api/{2,3}/myself, serverInfo, field
  Server  GET  /rest/api/2/search                  startAt/maxResults/total (what Perceval uses)

`deployment="any"` (the default) serves all of them, so one server can be synced by Partnerscope
(Cloud or Server mode) and by Perceval; "cloud" answers the v2 search with 410 Gone as Cloud does
since 2025, and "server" answers the Cloud-only endpoints with 404.
Control endpoints, without authentication and not counted: GET /_stats, POST /_stats/reset,
POST /_touch {"keys": [...]} or {"count": n}.
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/
https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

from werkzeug.serving import BaseWSGIServer

from simulator.faults import FaultInjector, FaultPlan, RateBudget
from simulator.jira_api import DEPLOYMENTS, JiraApp
from simulator.jira_params import JSON_TYPE, error_body
from simulator.jira_site import Credentials
from simulator.jira_store import IssueStore
from simulator.serving import FakeTracker, bind, url_of

__all__ = ["JiraServer", "FaultPlan", "Credentials"]


class JiraServer(FakeTracker):
    """The fake Jira on 127.0.0.1: `with JiraServer(tickets=200) as jira: ... jira.url, jira.stats`.

    Issues come from `simulator.scenario.generate(tickets, seed=seed, **scenario)` unless given.
    Credentials: Basic `email:token` or `Bearer token`. Knobs: `latency_ms` per request, `faults`
    (a FaultPlan), `rate_limit=(requests, seconds)` or a RateBudget (on a test clock, say), how much
    Cloud's search embeds (`embedded_histories`, `embedded_comments`) and Server's
    (`server_histories`, `server_comments`; None = all), `deployment`, the account's `time_zone`
    (JQL times are read in it), `allow_unbounded` (Cloud's search/jql refuses a JQL without a restriction).
    """

    def __init__(
        self, *, tickets: int = 300, seed: int = 7, issues: Sequence[dict[str, Any]] | None = None,
        scenario: dict[str, Any] | None = None, port: int = 0, email: str = "partnerscope@acme.example",
        token: str = "fake-jira-token", time_zone: str = "UTC", deployment: str = "any",
        latency_ms: float = 0, faults: FaultPlan | None = None, rate_limit: RateBudget | tuple[int, float] | None = None,
        embedded_histories: int = 40, embedded_comments: int = 20, server_histories: int | None = None,
        server_comments: int | None = None, allow_unbounded: bool = False, quiet: bool = True,
    ) -> None:
        if deployment not in DEPLOYMENTS:
            raise ValueError(f"deployment must be one of {', '.join(DEPLOYMENTS)}")
        self.zone = ZoneInfo(time_zone)  # an unknown zone fails here, not on the first search
        self.tickets, self.seed, self.port, self.quiet = tickets, seed, port, quiet
        self._issues, self._scenario = issues, scenario or {}
        self.credentials = Credentials(email, token)
        self.deployment, self.time_zone, self.allow_unbounded = deployment, time_zone, allow_unbounded
        self.embedded = (embedded_histories, embedded_comments)
        self.server_embedded = (server_histories, server_comments)
        self.latency, self.faults = latency_ms / 1000, faults
        self.budget = RateBudget(*rate_limit) if isinstance(rate_limit, tuple) else rate_limit
        super().__init__()
        self.store: IssueStore | None = None
        self._server: BaseWSGIServer | None = None
        self.url = ""

    def _prepare(self) -> BaseWSGIServer:
        """Bind first (the issues' links need the port), then build the issues and the app behind it."""
        from simulator.scenario import generate

        self.stopping.clear()
        server = self._server = bind(_unready, self.port, quiet=self.quiet)
        self.url = url_of(server)
        issues = self._issues if self._issues is not None else generate(self.tickets, seed=self.seed, **self._scenario)
        self.store = IssueStore(issues, self.url, self.zone)
        app = JiraApp(
            self.store, self.credentials, deployment=self.deployment, time_zone=self.time_zone,
            embedded_histories=self.embedded[0], embedded_comments=self.embedded[1],
            server_histories=self.server_embedded[0], server_comments=self.server_embedded[1],
            allow_unbounded=self.allow_unbounded, stats=self._stats,
        )
        server.app = FaultInjector(
            app, route=app.route, stats=self._stats, plan=self.faults, latency=self.latency, budget=self.budget,
            error_body=error_body, error_type=JSON_TYPE, limit_headers=_limit_headers, stopping=self.stopping,
        )
        return server

    def touch(self, keys: Sequence[str] | None = None, count: int | None = None,
              at: datetime | None = None) -> list[str]:
        """Update some issues (a label added, `updated` moved past all others); see `IssueStore.touch`."""
        if self.store is None:
            raise RuntimeError("start the server before touching its issues")
        return self.store.touch(keys=keys, count=count, at=at)


def _unready(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The app until the real one is in place; serving only starts after that, so nobody sees it."""
    start_response("503 Service Unavailable", [("Content-Type", JSON_TYPE), ("Retry-After", "1")])
    return [error_body(503, "Starting up.")]


def _limit_headers(budget: RateBudget) -> list[tuple[str, str]]:
    """Jira Cloud's rate-limit headers (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/)."""
    reset = datetime.now(timezone.utc) + timedelta(seconds=budget.reset_in())
    return [("X-RateLimit-Limit", str(budget.limit)), ("X-RateLimit-Remaining", str(budget.remaining)),
            ("X-RateLimit-Reset", reset.strftime("%Y-%m-%dT%H:%M:%SZ"))]
