"""Builders for GitHub REST/GraphQL shapes and a connector wired to fakes (no sleeping, no network)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from typing import Any

import responses
from responses import matchers

from connectors.github import GitHubConnector
from tests.connectors.jira_fakes import Waits

DATA = Path(__file__).resolve().parent.parent / "data" / "github"
API = "https://api.github.com:443"  # PyGithub names the port
GRAPHQL = f"{API}/graphql"
REPO = "acme/widgets"
TOKEN = "ghp_SECRET0123456789abcdef"  # must never show up in a message or a log line
TOKEN_ENV = "GITHUB_TOKEN"
NOW = 1_722_427_200.0  # 2024-07-31 12:00:00 UTC, the fake clock


def load(name: str) -> Any:
    """A JSON fixture from tests/data/github/ (a fresh copy each time)."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def user(login: str, kind: str = "User") -> dict[str, Any]:
    return {"login": login, "id": sum(map(ord, login)), "type": kind, "site_admin": False}


def issue(
    number: int, updated: str, *, pull: bool = False, comments: int = 0, created: str = "2024-01-02T08:00:00Z",
    repo: str = REPO, title: str | None = None, body: str | None = None,
) -> dict[str, Any]:
    """An item of `GET /repos/{owner}/{repo}/issues` (a pull request when `pull`)."""
    item: dict[str, Any] = {
        "url": f"{API}/repos/{repo}/issues/{number}",
        "repository_url": f"{API}/repos/{repo}",
        "html_url": f"https://github.com/{repo}/{'pull' if pull else 'issues'}/{number}",
        "id": 3_000_000 + number,
        "node_id": f"{'PR' if pull else 'I'}_node{number}",
        "number": number,
        "title": title or f"Ticket {number}",
        "user": user("c-lind"),
        "labels": [],
        "state": "open",
        "assignee": None,
        "assignees": [],
        "comments": comments,
        "created_at": created,
        "updated_at": updated,
        "closed_at": None,
        "body": body,
        "state_reason": None,
    }
    if pull:
        item["pull_request"] = {"url": f"{API}/repos/{repo}/pulls/{number}", "merged_at": None}
    return item


def pull_object(
    number: int, updated: str, *, merged_by: str | None = None, merged_at: str | None = None, state: str = "closed",
    branch: str = "feature/PAY-7-timeout", repo: str = REPO, body: str | None = "Fixes #3",
) -> dict[str, Any]:
    """A pull request as `GET /repos/{owner}/{repo}/pulls` answers it (no `pull_request` key)."""
    owner = repo.split("/")[0]
    merged = merged_by is not None or merged_at is not None
    return {
        "url": f"{API}/repos/{repo}/pulls/{number}", "id": 1_800_000_000 + number,
        "node_id": f"PR_kwDOAcme{number}", "html_url": f"https://github.com/{repo}/pull/{number}",
        "diff_url": f"https://github.com/{repo}/pull/{number}.diff",
        "issue_url": f"{API}/repos/{repo}/issues/{number}", "number": number, "state": state, "locked": False,
        "title": f"Pull request {number}", "user": user("p-berg"), "body": body, "labels": [], "milestone": None,
        "active_lock_reason": None, "created_at": "2024-01-02T08:00:00Z", "updated_at": updated,
        "closed_at": merged_at if state == "closed" else None, "merged_at": merged_at,
        "merge_commit_sha": "9c1f5d7e2b4a6c8e0f1a3b5d7c9e1f3a5b7d9c1e", "assignee": None, "assignees": [],
        "requested_reviewers": [user("c-lind")], "requested_teams": [],
        "head": {"label": f"{owner}:{branch}", "ref": branch, "sha": "0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b",
                 "user": user(owner, "Organization"), "repo": {"full_name": repo}},
        "base": {"label": f"{owner}:main", "ref": "main", "sha": "1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d",
                 "user": user(owner, "Organization"), "repo": {"full_name": repo}},
        "author_association": "MEMBER", "auto_merge": None, "draft": False, "merged": merged,
        "mergeable": None, "rebaseable": None, "mergeable_state": "unknown",
        "merged_by": user(merged_by) if merged_by else None, "comments": 0, "review_comments": 0,
        "maintainer_can_modify": False, "commits": 1, "additions": 3, "deletions": 1, "changed_files": 1,
    }


def event(event_id: int, number: int, kind: str, at: str, actor: str = "p-berg", **extra: Any) -> dict[str, Any]:
    """An item of `GET /repos/{owner}/{repo}/issues/events` (with its embedded issue)."""
    return {"id": event_id, "actor": user(actor), "event": kind, "commit_id": None, "created_at": at,
            "issue": {"number": number, "title": f"Ticket {number}"}, **extra}


def author(login: str, kind: str = "User") -> dict[str, Any]:
    return {"__typename": kind, "login": login}


def comment_nodes(*ids: int, at: str = "2024-01-03T10:00:00Z", more: str | None = None) -> dict[str, Any]:
    return {"pageInfo": {"hasNextPage": more is not None, "endCursor": more},
            "nodes": [{"fullDatabaseId": str(i), "createdAt": at, "author": author("p-berg")} for i in ids]}


def review_nodes(*ids: int, state: str = "APPROVED", at: str = "2024-01-04T10:00:00Z", more: str | None = None) -> dict[str, Any]:
    return {"pageInfo": {"hasNextPage": more is not None, "endCursor": more},
            "nodes": [{"fullDatabaseId": str(i), "state": state, "submittedAt": at, "author": author("c-lind")} for i in ids]}


def issue_node(number: int, comments: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"__typename": "Issue", "id": f"I_node{number}", "comments": comments or comment_nodes()}


def pull_node(number: int, *, branch: str = "main", comments: dict[str, Any] | None = None,
              reviews: dict[str, Any] | None = None, merged_at: str | None = None,
              merged_by: str | None = None) -> dict[str, Any]:
    return {"__typename": "PullRequest", "id": f"PR_node{number}", "headRefName": branch,
            "merged": merged_at is not None, "mergedAt": merged_at, "mergedBy": author(merged_by) if merged_by else None,
            "comments": comments or comment_nodes(), "reviews": reviews or review_nodes()}


def status_node(state: str, at: str, creator: str = "p-berg", kind: str = "User",
                environment: str | None = "production") -> dict[str, Any]:
    """A `DeploymentStatus` node as the deployments query asks for it (no databaseId: GraphQL has none)."""
    return {"state": state, "createdAt": at, "environment": environment, "creator": author(creator, kind)}


def deployment_node(
    deployment_id: int, created: str, *statuses: dict[str, Any], environment: str = "production",
    ref: str | None = "v1.0.0", creator: str = "p-berg", kind: str = "User", more: str | None = None,
) -> dict[str, Any]:
    """A `Deployment` node with its first page of statuses (`more`: the cursor of a next one)."""
    return {"id": f"DE_node{deployment_id}", "databaseId": deployment_id, "createdAt": created,
            "updatedAt": max([created, *(s["createdAt"] for s in statuses)]), "environment": environment,
            "commitOid": "5e1f0c2a9b7d4e3f8a6c1b0d2e4f6a8c0b1d3e5f", "ref": {"name": ref} if ref else None,
            "creator": author(creator, kind),
            "statuses": {"pageInfo": {"hasNextPage": more is not None, "endCursor": more}, "nodes": list(statuses)}}


def deployments_answer(*nodes: dict[str, Any], more: str | None = None) -> dict[str, Any]:
    """The answer to the deployments query: one page of deployments (`more`: the cursor of a next one)."""
    return {"data": {"repository": {"deployments": {
        "pageInfo": {"hasNextPage": more is not None, "endCursor": more}, "nodes": list(nodes)}}}}


def asks(**variables: Any) -> list[Any]:
    """A matcher for a GraphQL request whose variables include these."""
    return [matchers.json_params_matcher({"variables": variables}, strict_match=False)]


def asks_deployments(repo: str = REPO, **variables: Any) -> list[Any]:
    """A matcher for the deployments query of `repo` (and any other variables given)."""
    owner, name = repo.split("/")
    return asks(owner=owner, name=name, **variables)


def asks_nodes(request: Any) -> tuple[bool, str]:
    """A matcher for a `nodes(ids:)` query, whatever the ids."""
    return "ids" in json.loads(request.body).get("variables", {}), "not a nodes(ids:) query"


def graphql_url(base: str = API) -> str:
    return f"{base.removesuffix('/v3')}/graphql"


def repository(full_name: str = REPO, created: str = "2023-01-01T00:00:00Z") -> dict[str, Any]:
    return {"id": 44, "full_name": full_name, "html_url": f"https://github.com/{full_name}", "created_at": created}


def link(url: str, **params: Any) -> dict[str, str]:
    """A Link header naming the next page."""
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return {"Link": f'<{url}?{query}>; rel="next", <{url}?page=99>; rel="last"'}


def graphql_ids(call: Any) -> list[str]:
    """The node ids a recorded GraphQL request asked for."""
    return json.loads(call.request.body)["variables"]["ids"]


def add_quiet_activity(http: responses.RequestsMock, repo: str = REPO, base: str = API) -> None:
    """No deployments (one GraphQL query) and no releases."""
    http.post(graphql_url(base), json=deployments_answer(), match=asks_deployments(repo))
    http.get(f"{base}/repos/{repo}/releases", json=[])


def connector(waits: Waits, repos: list[str] | None = None, **overrides: Any) -> GitHubConnector:
    """A connector for `acme-github` whose waits and progress land in `waits`."""
    options: dict[str, Any] = dict(
        repos=[REPO] if repos is None else repos, token=TOKEN, token_env=TOKEN_ENV, sleep=waits.sleep,
        on_wait=waits.on_wait, on_progress=waits.on_progress, clock=lambda: NOW,
    )
    options.update(overrides)
    return GitHubConnector("acme-github", **options)


class FakeRepository:
    """A small GitHub for one repository: the issues listing honours since/sort/page, events page newest first.

    Next-page links point at `/repositories/{id}/...` as GitHub's do; GraphQL answers `nodes(ids:)` and,
    given `deployments` (nodes, newest first), the deployments query page by page.
    """

    def __init__(self, issues: list[dict[str, Any]], events: list[dict[str, Any]], nodes: dict[str, dict[str, Any]],
                 base: str = API, repo: str = REPO, deployments: list[dict[str, Any]] | None = None) -> None:
        self.issues, self.events, self.nodes, self.base, self.repo = issues, events, nodes, base, repo
        self.deployments = deployments
        self.issue_queries: list[dict[str, str]] = []
        self.deployment_queries: list[dict[str, Any]] = []

    def install(self, http: responses.RequestsMock, *, issue_links: bool = False, event_links: bool = True,
                graphql: bool = True) -> None:
        """Register the endpoints a test expects to be asked (every registered one must be)."""
        if self.deployments is not None:
            http.add_callback("POST", graphql_url(self.base), callback=self._deployment_page,
                              match=asks_deployments(self.repo))
        paths = [(f"/repos/{self.repo}/issues", self._issue_page), (f"/repos/{self.repo}/issues/events", self._event_page)]
        paths += [("/repositories/44/issues", self._issue_page)] if issue_links else []
        paths += [("/repositories/44/issues/events", self._event_page)] if event_links else []
        for path, callback in paths:
            http.add_callback("GET", re.compile(re.escape(f"{self.base}{path}") + r"(\?.*)?$"), callback=callback)
        if graphql:
            http.add_callback("POST", graphql_url(self.base), callback=self._graphql, match=[asks_nodes])

    @staticmethod
    def _query(request: Any) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(request.url).query))

    def _page(self, items: list[dict[str, Any]], query: dict[str, str], path: str) -> tuple[int, dict[str, str], str]:
        size, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        chunk = items[(page - 1) * size: page * size]
        headers = {"Date": "Wed, 31 Jul 2024 12:00:00 GMT"}
        if page * size < len(items):
            headers.update(link(f"{self.base}/repositories/44/{path}", **{**query, "page": str(page + 1)}))
        return 200, headers, json.dumps(chunk)

    def _issue_page(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = self._query(request)
        self.issue_queries.append(query)
        assert (query.get("state"), query.get("sort"), query.get("direction")) == ("all", "updated", "asc")
        since = query.get("since", "")
        chosen = sorted((i for i in self.issues if i["updated_at"] >= since), key=lambda i: (i["updated_at"], i["number"]))
        return self._page(chosen, query, "issues")

    def _event_page(self, request: Any) -> tuple[int, dict[str, str], str]:
        newest_first = sorted(self.events, key=lambda e: (e["created_at"], e["id"]), reverse=True)
        return self._page(newest_first, self._query(request), "issues/events")

    def _deployment_page(self, request: Any) -> tuple[int, dict[str, str], str]:
        variables = json.loads(request.body)["variables"]
        self.deployment_queries.append(variables)
        start = int(variables["after"] or 0)
        end = start + variables["first"]
        chosen = (self.deployments or [])[start:end]
        more = str(end) if end < len(self.deployments or []) else None
        return 200, {}, json.dumps(deployments_answer(*chosen, more=more))

    def _graphql(self, request: Any) -> tuple[int, dict[str, str], str]:
        ids = json.loads(request.body)["variables"]["ids"]
        return 200, {}, json.dumps({"data": {"nodes": [self.nodes.get(node_id) for node_id in ids]}})
