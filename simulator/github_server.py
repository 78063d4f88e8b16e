"""A fake GitHub (REST v3 and the GraphQL it needs) over the GitHub demo scenario, for end-to-end tests and benchmarks.

It answers what Partnerscope's connector (`connectors.github`: the issues listing by update
time, the repository's issue events, GraphQL `nodes` for comments and reviews, deployments with
statuses, releases, organisation members) and GrimoireLab Perceval's github backend (per issue
comments and reactions, per pull request the pull itself, reviews, commits, requested reviewers
and review comments, users and their organisations, `/rate_limit`) ask, in GitHub's shapes, at
the root (github.com) and under `/api/v3` (Enterprise Server; GraphQL at `/api/graphql`).
Perceval's `--enterprise-url http://127.0.0.1:PORT` makes it ask `http://127.0.0.1:PORT/api/v3/...`.

Knobs: the token (`token X` or `Bearer X`), `latency_ms` and `faults` (`simulator.faults`;
injected 429s carry GitHub's secondary-limit body), the primary limit `rate_limit=(requests,
seconds)` per resource (default GitHub's 5000 an hour; `None` with `enterprise_no_rate_limit`
sends no rate-limit headers at all), a `secondary_limit=(requests, seconds)` answered with 403 and
Retry-After, `events_page_limit` (GitHub's 422 for deep pages of the repository's events),
`full_database_id=False` (an older Enterprise Server's GraphQL without `fullDatabaseId`) and a
`clock` (epoch seconds) shared by the budgets and the `X-RateLimit-Reset` header, so a test can
run a client on the same fake clock. Control endpoints, without a token and not counted:
GET /_stats, POST /_stats/reset, POST /_touch {"keys": ["acme/webshop#3"]} or {"count": n}.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from werkzeug.serving import BaseWSGIServer

from simulator.faults import FaultInjector, FaultPlan, RateBudget
from simulator.github_api import JSON_TYPE, GitHubApp, error_body
from simulator.github_scenario import GitHubScenario, generate
from simulator.github_store import GitHubStore
from simulator.serving import FakeTracker, bind, url_of

__all__ = ["GitHubServer", "FaultPlan"]
GITHUB_LIMIT = (5000, 3600.0)


class GitHubServer(FakeTracker):
    """The fake GitHub on 127.0.0.1: `with GitHubServer(tickets=150) as github: ... github.url, github.stats`.

    The scenario is `simulator.github_scenario.generate(tickets, seed=seed, **scenario)` unless
    one is given (it is changed by `touch`, so give each server its own copy or generate anew).
    """

    def __init__(
        self, *, tickets: int = 300, seed: int = 7, data: GitHubScenario | None = None,
        scenario: dict[str, Any] | None = None, port: int = 0, token: str = "fake-github-token",
        latency_ms: float = 0, faults: FaultPlan | None = None,
        rate_limit: tuple[int, float] | None = GITHUB_LIMIT, secondary_limit: tuple[int, float] | None = None,
        enterprise_no_rate_limit: bool = False, events_page_limit: int | None = None,
        full_database_id: bool = True, clock: Callable[[], float] = time.time, quiet: bool = True,
    ) -> None:
        if not token:
            raise ValueError("the fake GitHub needs a token to accept")
        self.tickets, self.seed, self.port, self.quiet, self.token = tickets, seed, port, quiet, token
        self._data, self._scenario = data, scenario or {}
        self.latency, self.faults, self.clock = latency_ms / 1000, faults, clock
        self.rate_limit = None if enterprise_no_rate_limit else rate_limit
        self.secondary_limit, self.events_page_limit = secondary_limit, events_page_limit
        self.full_database_id = full_database_id
        super().__init__()
        self.budgets: dict[str, RateBudget] | None = None
        self.store: GitHubStore | None = None
        self.url = ""

    @property
    def api_url(self) -> str:
        """The REST root as GitHub Enterprise Server has it (`{url}/api/v3`); `url` itself serves the same."""
        return f"{self.url}/api/v3"

    def _prepare(self) -> BaseWSGIServer:
        """Bind first (the data's URLs need the port), then build the store and the app behind it."""
        self.stopping.clear()
        server = bind(_unready, self.port, quiet=self.quiet)
        self.url = url_of(server)
        data = self._data if self._data is not None else generate(self.tickets, seed=self.seed, **self._scenario)
        self.store = GitHubStore(data, self.url)
        if self.rate_limit is not None:
            self.budgets = {name: RateBudget(*self.rate_limit, clock=self.clock) for name in ("core", "graphql")}
        secondary = RateBudget(*self.secondary_limit, clock=self.clock) if self.secondary_limit else None
        app = GitHubApp(self.store, token=self.token, stats=self._stats, budgets=self.budgets, secondary=secondary,
                        clock=self.clock, full_database_id=self.full_database_id,
                        events_page_limit=self.events_page_limit)
        server.app = FaultInjector(app, route=app.route, stats=self._stats, plan=self.faults, latency=self.latency,
                                   error_body=error_body, error_type=JSON_TYPE, stopping=self.stopping)
        return server

    def touch(self, keys: Sequence[str] | None = None, count: int | None = None, at: int | None = None) -> list[str]:
        """Comment on and label some tickets, moving their `updated_at` past all others; see `GitHubStore.touch`."""
        if self.store is None:
            raise RuntimeError("start the server before touching its tickets")
        return self.store.touch(keys=keys, count=count, at=at)


def _unready(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The app until the real one is in place; serving only starts after that, so nobody sees it."""
    start_response("503 Service Unavailable", [("Content-Type", JSON_TYPE), ("Retry-After", "1")])
    return [error_body(503, "Starting up.")]
