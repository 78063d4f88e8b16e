"""The fake GitHub's WSGI app: routing, token authentication, rate limits, ETags and the GraphQL endpoint.

Around each REST handler (`simulator.github_endpoints`):
- authentication: `Authorization: token X` or `Bearer X`; otherwise 401 with GitHub's body;
- a secondary limit (optional `RateBudget`): 403 with `Retry-After` when a burst exceeds it;
- conditional GETs: an `If-None-Match` naming the current ETag gets 304, free of charge;
- the primary limit: a `RateBudget` per resource (`core`, `graphql`); spent, REST answers 403
  "API rate limit exceeded" and GraphQL a RATE_LIMITED error, with `X-RateLimit-Remaining: 0`
  until the reset; every answer carries `X-RateLimit-Limit/Remaining/Reset/Used/Resource`,
  except with `enterprise_no_rate_limit` (GitHub Enterprise Server with rate limiting off),
  which sends none and answers `/rate_limit` with 404.
Paths are served both at the root (api.github.com) and under `/api/v3` (Enterprise Server);
GraphQL at `/graphql` and `/api/graphql`. Control endpoints (`/_stats`, `/_stats/reset`,
`/_touch`) need no token and are not counted.
https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import math
from typing import Any, Callable, Iterable

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from simulator.faults import RateBudget, Stats
from simulator.github_endpoints import DOCS, Endpoints, Refusal, Reply
from simulator.github_graphql import Executor, GraphQLError, parse
from simulator.github_store import GitHubStore

JSON_TYPE = "application/json; charset=utf-8"
_MATCH = "fakegithub.match"
_R = "/repos/{owner}/{repo}"

#: (method, template, handler, extra arguments); the template is what the stats count by.
ROUTES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("GET", _R, "repository", {}),
    ("GET", f"{_R}/issues", "issues", {}),
    ("GET", f"{_R}/issues/comments", "repo_comments", {}),
    ("GET", f"{_R}/issues/events", "repo_events", {}),
    ("GET", f"{_R}/issues/comments/{{comment_id}}/reactions", "comment_reactions", {}),
    ("GET", f"{_R}/issues/{{number}}", "issue", {}),
    ("GET", f"{_R}/issues/{{number}}/comments", "issue_list", {"kind": "comments"}),
    ("GET", f"{_R}/issues/{{number}}/events", "issue_list", {"kind": "events"}),
    ("GET", f"{_R}/issues/{{number}}/reactions", "issue_list", {"kind": "reactions"}),
    ("GET", f"{_R}/issues/{{number}}/timeline", "timeline", {}),
    ("GET", f"{_R}/pulls", "pulls", {}),
    ("GET", f"{_R}/pulls/comments/{{comment_id}}/reactions", "review_comment_reactions", {}),
    ("GET", f"{_R}/pulls/{{number}}", "pull", {}),
    ("GET", f"{_R}/pulls/{{number}}/reviews", "pull_list", {"kind": "reviews"}),
    ("GET", f"{_R}/pulls/{{number}}/commits", "pull_list", {"kind": "commits"}),
    ("GET", f"{_R}/pulls/{{number}}/comments", "pull_list", {"kind": "review_comments"}),
    ("GET", f"{_R}/pulls/{{number}}/requested_reviewers", "requested_reviewers", {}),
    ("GET", f"{_R}/deployments", "deployments", {}),
    ("GET", f"{_R}/deployments/{{id}}/statuses", "statuses", {}),
    ("GET", f"{_R}/releases", "releases", {}),
    ("GET", "/orgs/{org}", "org", {}),
    ("GET", "/orgs/{org}/repos", "org_repos", {}),
    ("GET", "/orgs/{org}/members", "org_members", {}),
    ("GET", "/users/{login}", "user", {}),
    ("GET", "/users/{login}/orgs", "user_orgs", {}),
    ("GET", "/rate_limit", "rate_limit", {}),
    ("POST", "/graphql", "graphql", {}),
)
_INTS = {"{number}": "<int:number>", "{id}": "<int:id>", "{comment_id}": "<int:comment_id>"}


def _rule_path(template: str) -> str:
    for name, converter in _INTS.items():
        template = template.replace(name, converter)
    return template.replace("{", "<").replace("}", ">")


def _url_map() -> Map:
    rules = []
    for method, template, handler, extra in ROUTES:
        paths = [template]
        if template.startswith(_R):  # Link headers name repositories by id, as GitHub's do
            paths.append("/repositories/{repo_id}" + template[len(_R):])
        for path, prefix in itertools.product(paths, ("", "/api/v3")):
            full = ("/api" if prefix else "") + path if handler == "graphql" else prefix + path
            rules.append(Rule(_rule_path(full).replace("<repo_id>", "<int:repo_id>"), methods=[method],
                              endpoint=(template, handler, tuple(extra.items()))))
    rules += [Rule("/_stats", endpoint=(None, "stats", ()), methods=["GET"]),
              Rule("/_stats/reset", endpoint=(None, "stats_reset", ()), methods=["POST"]),
              Rule("/_touch", endpoint=(None, "touch", ()), methods=["POST"])]
    return Map(rules, strict_slashes=False, merge_slashes=False)


def error_body(status: int, message: str) -> bytes:
    """GitHub's error body; injected 429s read as its secondary rate limit, 5xx as its server errors."""
    if status in (403, 429):
        return _error_json(status, "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                                   "try again.", f"{DOCS}/overview/rate-limits-for-the-rest-api"
                                                 "#about-secondary-rate-limits")
    if status >= 500:
        return _error_json(status, "Server Error" if status == 500 else message, DOCS)
    return _error_json(status, message, DOCS)


def _error_json(status: int, message: str, docs: str, errors: list[dict[str, Any]] | None = None) -> bytes:
    body: dict[str, Any] = {"message": message, "documentation_url": docs, "status": str(status)}
    if errors:
        body["errors"] = errors
    return json.dumps(body).encode()


class GitHubApp:
    """The WSGI app over a `GitHubStore`; `budgets` maps resource ("core", "graphql") to a RateBudget, or None."""

    def __init__(
        self, store: GitHubStore, *, token: str, stats: Stats, budgets: dict[str, RateBudget] | None,
        secondary: RateBudget | None, clock: Callable[[], float], full_database_id: bool = True,
        events_page_limit: int | None = None,
    ) -> None:
        self.store, self.token, self.stats, self.budgets = store, token, stats, budgets
        self.secondary, self.clock, self.full_database_id = secondary, clock, full_database_id
        self.url_map = _url_map()
        self.endpoints = Endpoints(store, self._link_base, events_page_limit)
        self._ids = itertools.count(1)

    # -- routing ------------------------------------------------------------------------------

    def route(self, environ: dict[str, Any]) -> str | None:
        """The endpoint template the stats count this request under; None for control endpoints."""
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            endpoint, args = self.url_map.bind_to_environ(environ).match()
        except (MethodNotAllowed, NotFound, HTTPException):
            environ[_MATCH] = (None, "not_found", (), {})
            return f"{method} {environ.get('PATH_INFO', '')}"
        template, handler, extra = endpoint
        environ[_MATCH] = (template, handler, extra, args)
        return None if template is None else f"{method} {template}"

    @staticmethod
    def _link_base(request: Request) -> str:
        prefix = "/api/v3" if request.path.startswith("/api/v3/") else ""
        return request.host_url.rstrip("/") + prefix

    # -- one request --------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if _MATCH not in environ:
            self.route(environ)
        template, handler, extra, args = environ[_MATCH]
        request = Request(environ)
        if template is None and handler != "not_found":
            response = self._control(handler, request)
        else:
            response = self._api(template, handler, dict(extra), dict(args), request)
        return response(environ, start_response)

    def _api(self, template: str | None, handler: str, extra: dict[str, Any], args: dict[str, Any],
             request: Request) -> Response:
        resource = "graphql" if handler == "graphql" else "core"
        headers = [("X-GitHub-Media-Type", "github.v3; format=json"), ("X-GitHub-Api-Version-Selected", "2022-11-28"),
                   ("X-GitHub-Request-Id", f"FAKE:{next(self._ids):08X}")]
        try:
            self._authenticate(request)
            if handler == "not_found":
                raise Refusal(404, "Not Found")
            if self.secondary is not None:
                wait = self.secondary.take()
                if wait is not None:
                    self.stats.rate_limited()
                    raise Refusal(403, "secondary", [("Retry-After", str(max(math.ceil(wait), 1)))])
            if handler == "rate_limit":
                return self._rate_limit(headers)
            conditional = request.method == "GET" and request.headers.get("If-None-Match")
            reply = self._reply(handler, extra, args, request) if conditional else None
            if conditional and reply is not None and reply.status == 200 and _matches(conditional, _etag(reply.body)):
                headers += self._limit_headers(resource) + [("ETag", _etag(reply.body))]
                return Response(status=304, headers=headers)  # no body, no cost
            if not self._spend(resource):
                self.stats.rate_limited()
                headers += self._limit_headers(resource)
                if resource == "graphql":
                    body = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]}
                    return Response(json.dumps(body), status=200, content_type=JSON_TYPE, headers=headers)
                raise Refusal(403, "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for "
                                   "help, please include the request ID.",
                              docs=f"{DOCS}/overview/rate-limits-for-the-rest-api#about-primary-rate-limits")
            if reply is None:
                reply = self._reply(handler, extra, args, request)
            headers += self._limit_headers(resource)
        except Refusal as refusal:
            headers += refusal.headers
            if refusal.status != 401 and not any(name == "X-RateLimit-Limit" for name, _ in headers):
                headers += self._limit_headers(resource)
            body = error_body(403, "") if refusal.message == "secondary" else \
                _error_json(refusal.status, refusal.message, refusal.docs, refusal.errors)
            return Response(body, status=refusal.status, content_type=JSON_TYPE, headers=headers)
        if reply.link:
            headers.append(("Link", reply.link))
        if request.method == "GET" and reply.status == 200:
            headers += [("ETag", _etag(reply.body)), ("Cache-Control", "private, max-age=60, s-maxage=60"),
                        ("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")]
        return Response(reply.body, status=reply.status, content_type=JSON_TYPE, headers=headers + reply.headers)

    def _reply(self, handler: str, extra: dict[str, Any], args: dict[str, Any], request: Request) -> Reply:
        if handler == "graphql":
            return self._graphql(request)
        method = getattr(self.endpoints, handler)
        if "owner" in args or "repo_id" in args:
            index = self.endpoints.repo_of(args)  # takes owner/repo (or repo_id) out of args
            return method(request, index, **args, **extra)
        return method(request, **args, **extra)

    def _authenticate(self, request: Request) -> None:
        """https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api"""
        header = request.headers.get("Authorization", "").strip()
        if not header:
            raise Refusal(401, "Requires authentication", docs=f"{DOCS}/overview/authenticating-to-the-rest-api")
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not hmac.compare_digest(value.strip().encode(),
                                                                              self.token.encode()):
            raise Refusal(401, "Bad credentials", docs=DOCS)

    # -- rate limits ----------------------------------------------------------------------------

    def _spend(self, resource: str) -> bool:
        if self.budgets is None:
            return True
        return self.budgets[resource].take() is None

    def _limit_headers(self, resource: str) -> list[tuple[str, str]]:
        if self.budgets is None:
            return []
        budget = self.budgets[resource]
        remaining = budget.remaining
        return [("X-RateLimit-Limit", str(budget.limit)), ("X-RateLimit-Remaining", str(remaining)),
                ("X-RateLimit-Reset", str(math.ceil(self.clock() + budget.reset_in()))),
                ("X-RateLimit-Used", str(budget.limit - remaining)), ("X-RateLimit-Resource", resource)]

    def _rate_limit(self, headers: list[tuple[str, str]]) -> Response:
        """https://docs.github.com/en/rest/rate-limit/rate-limit (asking costs nothing)."""
        if self.budgets is None:
            return Response(_error_json(404, "Rate limiting is not enabled.", DOCS), status=404,
                            content_type=JSON_TYPE, headers=headers)
        resources = {}
        for name, budget in self.budgets.items():
            remaining = budget.remaining
            resources[name] = {"limit": budget.limit, "used": budget.limit - remaining, "remaining": remaining,
                               "reset": math.ceil(self.clock() + budget.reset_in())}
        body = {"resources": resources, "rate": resources["core"]}
        return Response(json.dumps(body), status=200, content_type=JSON_TYPE,
                        headers=headers + self._limit_headers("core"))

    # -- GraphQL ----------------------------------------------------------------------------------

    def _graphql(self, request: Request) -> Reply:
        """https://docs.github.com/en/graphql/guides/forming-calls-with-graphql"""
        try:
            payload = json.loads(request.get_data() or b"")
        except ValueError:
            raise Refusal(400, "Problems parsing JSON", docs=f"{DOCS}/graphql") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise Refusal(400, "A query attribute must be specified and must be a string.", docs=f"{DOCS}/graphql")

        def find(global_id: str) -> tuple[str, dict[str, Any]] | None:
            found = self.store.nodes.get(global_id)
            if found is None:
                deployment = self.store.deployment_nodes.get(global_id)
                return None if deployment is None else ("Deployment", deployment)
            ticket = found[1]
            return ("PullRequest" if ticket["pull"] else "Issue"), ticket

        def repository(owner: str, name: str) -> tuple[str, dict[str, Any]] | None:
            index = self.store.repo(owner, name)
            if index is None:
                return None
            return "Repository", {"repo": index.data.repo, "deployments": index.data.deployments}

        executor = Executor(find, self.full_database_id, repository)
        try:
            with self.store.lock:
                data = executor.run(parse(payload["query"], payload.get("variables") or {}))
        except GraphQLError as exc:
            return Reply(json.dumps({"errors": [{"message": str(exc), "locations": [{"line": 1, "column": 1}]}]})
                         .encode())
        answer: dict[str, Any] = {"data": data}
        if executor.errors:
            answer["errors"] = executor.errors
        return Reply(json.dumps(answer, separators=(",", ":")).encode())

    # -- control --------------------------------------------------------------------------------

    def _control(self, handler: str, request: Request) -> Response:
        if handler == "stats":
            body = self.stats.snapshot()
        elif handler == "stats_reset":
            self.stats.reset()
            body = self.stats.snapshot()
        else:
            try:
                payload = json.loads(request.get_data() or b"{}")
            except ValueError:
                payload = None
            keys = payload.get("keys") if isinstance(payload, dict) else None
            count = payload.get("count") if isinstance(payload, dict) else None
            if not (isinstance(keys, list) and keys) and not (isinstance(count, int) and count > 0):
                return Response(_error_json(400, 'Send {"keys": ["owner/repo#1", ...]} or {"count": n}.', DOCS),
                                status=400, content_type=JSON_TYPE)
            try:
                body = {"touched": self.store.touch(keys=keys if isinstance(keys, list) else None, count=count)}
            except KeyError as exc:
                return Response(_error_json(404, f"No issue {exc.args[0]}", DOCS), status=404,
                                content_type=JSON_TYPE)
        return Response(json.dumps(body), status=200, content_type=JSON_TYPE)


def _etag(body: bytes) -> str:
    return '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'


def _matches(header: str, etag: str) -> bool:
    wanted = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in wanted or "*" in wanted
