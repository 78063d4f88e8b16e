"""The fake GitHub's REST endpoints: parameters, filters, orders and page-number paging with Link headers.

Each handler returns a `Reply` of ready JSON bytes; `simulator.github_api` adds authentication,
rate limits, ETags and counting around them. Paging as on GitHub: `per_page` (default 30, at
most 100) and `page`, with a Link header naming `next`, `last`, `first` and `prev` pages under
`/repositories/{id}/…` for a repository's listings, keeping the other query parameters.
https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Sequence
from urllib.parse import urlencode

from werkzeug.wrappers import Request

from simulator.github_shapes import user as user_object
from simulator.github_store import GitHubStore, RepoIndex, position_of

DOCS = "https://docs.github.com/rest"


@dataclass
class Reply:
    """A JSON answer: body bytes, status, Link header and any other headers."""

    body: bytes
    status: int = 200
    link: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


class Refusal(Exception):
    """An error answer in GitHub's shape: `{"message", "documentation_url", "status"}`."""

    def __init__(self, status: int, message: str, headers: Sequence[tuple[str, str]] = (), docs: str = DOCS,
                 errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.docs, self.errors = status, message, list(headers), docs, errors


def since_param(request: Request, name: str = "since") -> int | None:
    """An ISO 8601 time parameter as epoch seconds (a date alone is midnight UTC)."""
    value = request.args.get(name)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise Refusal(422, "Validation Failed", errors=[{"resource": "Search", "field": name, "code": "invalid"}]) \
            from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return math.ceil(moment.timestamp())


def _int(request: Request, name: str, default: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return default
    return value if value >= 1 else default


def page(request: Request, items: Sequence[Any], link_path: str, render: Callable[[Any], bytes] = lambda b: b,
         limit: int | None = None) -> Reply:
    """One page of `items` (rendered to JSON pieces) with GitHub's Link header."""
    per_page = min(_int(request, "per_page", 30), 100)
    number = _int(request, "page", 1)
    if limit is not None and number > limit:
        raise Refusal(422, "In order to keep the API fast for everyone, pagination is limited for this resource. "
                           "Check the rel=last link relation in the Link response header to see how far back you "
                           "can traverse.", docs=f"{DOCS}/issues/events#list-issue-events-for-a-repository")
    # Beyond `limit` GitHub answers 422, yet its Link headers still lead there (clients that follow
    # `next`, octokit's among them, meet the 422); see octokit/octokit.net#1417.
    last = max(math.ceil(len(items) / per_page), 1)
    chosen = items[(number - 1) * per_page:number * per_page]
    body = b"[" + b",".join(render(item) for item in chosen) + b"]"
    kept: dict[str, str] = {}
    for name, value in request.args.items(multi=True):
        if name != "page":
            kept.setdefault(name, value)  # Perceval sends its parameters again with each Link URL

    def url(n: int) -> str:
        return f"{link_path}?{urlencode([*kept.items(), ('page', n)])}"

    rels = []
    if number > 1:
        rels.append(f'<{url(min(number - 1, last))}>; rel="prev"')
    if number < last:
        rels += [f'<{url(number + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
    if number > 1:
        rels.append(f'<{url(1)}>; rel="first"')
    return Reply(body, link=", ".join(rels) or None)


class Endpoints:
    """The REST handlers over one store; `link_base(request)` gives scheme, host and API prefix for Link URLs."""

    def __init__(self, store: GitHubStore, link_base: Callable[[Request], str], events_page_limit: int | None) -> None:
        self.store, self.link_base, self.events_page_limit = store, link_base, events_page_limit

    # -- helpers --------------------------------------------------------------------------------

    def repo_of(self, args: dict[str, Any]) -> RepoIndex:
        """The repository a route names (owner and name, or the numeric id of Link URLs); 404 when unknown."""
        if "repo_id" in args:
            index = self.store.by_id.get(args.pop("repo_id"))
        else:
            index = self.store.repo(args.pop("owner"), args.pop("repo"))
        if index is None:
            raise Refusal(404, "Not Found", docs=f"{DOCS}/repos/repos#get-a-repository")
        return index

    def ticket(self, index: RepoIndex, number: int, pull: bool = False) -> dict[str, Any]:
        """The issue (or, with `pull`, only a pull request) numbered `number`; 404 when there is none."""
        ticket = index.by_number.get(number)
        if ticket is None or (pull and not ticket["pull"]):
            raise Refusal(404, "Not Found", docs=f"{DOCS}/{'pulls/pulls' if pull else 'issues/issues'}")
        return ticket

    def repo_link(self, request: Request, index: RepoIndex, rest: str) -> str:
        """A Link URL under `/repositories/{id}`, as GitHub writes them, with the request's host and prefix."""
        return f"{self.link_base(request)}/repositories/{index.data.repo.repo_id}{rest}"

    # -- repositories ---------------------------------------------------------------------------

    def repository(self, request: Request, index: RepoIndex) -> Reply:
        """https://docs.github.com/en/rest/repos/repos#get-a-repository"""
        return Reply(self.store.repository(index))

    def org_repos(self, request: Request, org: str) -> Reply:
        """https://docs.github.com/en/rest/repos/repos#list-organization-repositories"""
        found = [i for i in self.store.repos.values() if i.data.repo.owner.lower() == org.lower()]
        if not found and self.store.org(org) is None:
            raise Refusal(404, "Not Found", docs=f"{DOCS}/repos/repos#list-organization-repositories")
        return page(request, sorted(found, key=lambda i: i.data.repo.repo_id),
                    f"{self.link_base(request)}/orgs/{org}/repos", self.store.repository)

    # -- issues ---------------------------------------------------------------------------------

    def issues(self, request: Request, index: RepoIndex) -> Reply:
        """https://docs.github.com/en/rest/issues/issues#list-repository-issues"""
        args = request.args
        state, sort = args.get("state", "open"), args.get("sort", "created")
        if state not in ("open", "closed", "all") or sort not in ("created", "updated", "comments"):
            raise Refusal(422, "Validation Failed", errors=[{"resource": "Issue", "field": "state/sort",
                                                             "code": "invalid"}])
        ascending = args.get("direction", "desc") == "asc"
        since = since_param(request)
        if sort == "updated":
            order = index.by_updated
            if since is not None and ascending:
                order = order[position_of(order, since):]
            tickets = [index.by_number[number] for _, number in order]
        else:
            tickets = sorted(index.data.tickets, key=lambda t: (t["comment_count"], t["number"])) \
                if sort == "comments" else list(index.data.tickets)
        if not ascending:
            tickets.reverse()
        labels = [name for name in args.get("labels", "").split(",") if name]
        creator, assignee = args.get("creator"), args.get("assignee")
        kept = [t for t in tickets if (state == "all" or t["state"] == state)
                and (since is None or t["updated"] >= since) and all(name in t["labels"] for name in labels)
                and (creator is None or t["author"] == creator)
                and (assignee is None or assignee in t["assignees"] or (assignee == "none" and not t["assignees"])
                     or (assignee == "*" and t["assignees"]))]
        return page(request, kept, self.repo_link(request, index, "/issues"), lambda t: self.store.issue(index, t))

    def issue(self, request: Request, index: RepoIndex, number: int) -> Reply:
        """https://docs.github.com/en/rest/issues/issues#get-an-issue (pull requests too, as on GitHub)."""
        return Reply(self.store.issue(index, self.ticket(index, number)))

    def issue_list(self, request: Request, index: RepoIndex, number: int, kind: str) -> Reply:
        """An issue's comments (`since` filters by update), events or reactions, oldest first."""
        ticket = self.ticket(index, number)
        pieces = self.store.pieces(index, ticket, kind)
        since = since_param(request) if kind == "comments" else None
        if since is not None:
            pieces = [p for p, c in zip(pieces, ticket["comments"]) if c["t"] + c["edited"] >= since]
        return page(request, pieces, self.repo_link(request, index, f"/issues/{number}/{kind}"))

    def timeline(self, request: Request, index: RepoIndex, number: int) -> Reply:
        """https://docs.github.com/en/rest/issues/timeline : events, comments ("commented") and reviews ("reviewed")."""
        store, ticket = self.store, self.ticket(index, number)
        items = [(e["t"], 0, p) for e, p in zip(ticket["events"], store.pieces(index, ticket, "events"))]
        for kind, name, actor_key in (("comments", "commented", "author"), ("reviews", "reviewed", "author")):
            for record, piece in zip(ticket[kind], store.pieces(index, ticket, kind)):
                actor = store.serialize({"event": name, "actor": _user_or_none(record[actor_key])})
                items.append((record["t"], 1, actor[:-1] + b"," + piece[1:]))
        items.sort(key=lambda x: (x[0], x[1]))
        return page(request, [p for *_, p in items], self.repo_link(request, index, f"/issues/{number}/timeline"))

    def repo_events(self, request: Request, index: RepoIndex) -> Reply:
        """https://docs.github.com/en/rest/issues/events#list-issue-events-for-a-repository (newest first)."""
        return page(request, index.events, self.repo_link(request, index, "/issues/events"),
                    lambda e: self.store.repo_event(index, e[2], e[3]), limit=self.events_page_limit)

    def repo_comments(self, request: Request, index: RepoIndex) -> Reply:
        """https://docs.github.com/en/rest/issues/comments#list-issue-comments-for-a-repository"""
        args, since = request.args, since_param(request)
        entries = [(index.by_number[n]["comments"][p], n, p) for _, _, n, p in index.comments]
        if since is not None:
            entries = [e for e in entries if e[0]["t"] + e[0]["edited"] >= since]
        if "sort" in args:
            field_of = (lambda c: c["t"] + c["edited"]) if args["sort"] == "updated" else (lambda c: c["t"])
            entries.sort(key=lambda e: (field_of(e[0]), e[0]["id"]), reverse=args.get("direction", "desc") != "asc")
        return page(request, entries, self.repo_link(request, index, "/issues/comments"),
                    lambda e: self.store.pieces(index, index.by_number[e[1]], "comments")[e[2]])

    def comment_reactions(self, request: Request, index: RepoIndex, comment_id: int) -> Reply:
        """https://docs.github.com/en/rest/reactions/reactions#list-reactions-for-an-issue-comment"""
        found = index.comment_at.get(comment_id)
        if found is None:
            raise Refusal(404, "Not Found", docs=f"{DOCS}/reactions/reactions")
        ticket = index.by_number[found[0]]
        return page(request, self.store.comment_reactions(index, ticket, found[1]),
                    self.repo_link(request, index, f"/issues/comments/{comment_id}/reactions"))

    # -- pull requests --------------------------------------------------------------------------

    def pulls(self, request: Request, index: RepoIndex) -> Reply:
        """https://docs.github.com/en/rest/pulls/pulls#list-pull-requests"""
        args = request.args
        state, sort = args.get("state", "open"), args.get("sort", "created")
        direction = args.get("direction", "desc" if sort == "created" else "asc")
        tickets = [t for t in index.data.tickets if t["pull"] and (state == "all" or t["state"] == state)]
        if sort == "updated":
            tickets.sort(key=lambda t: (t["updated"], t["number"]))
        if direction == "desc":
            tickets.reverse()
        return page(request, tickets, self.repo_link(request, index, "/pulls"),
                    lambda t: self.store.pull(index, t, listed=True))

    def pull(self, request: Request, index: RepoIndex, number: int) -> Reply:
        """https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request"""
        return Reply(self.store.pull(index, self.ticket(index, number, pull=True)))

    def pull_list(self, request: Request, index: RepoIndex, number: int, kind: str) -> Reply:
        """A pull request's reviews, commits or review comments (`kind` names the store's list)."""
        ticket = self.ticket(index, number, pull=True)
        path = {"review_comments": "comments"}.get(kind, kind)
        return page(request, self.store.pieces(index, ticket, kind),
                    self.repo_link(request, index, f"/pulls/{number}/{path}"))

    def requested_reviewers(self, request: Request, index: RepoIndex, number: int) -> Reply:
        """https://docs.github.com/en/rest/pulls/review-requests#get-all-requested-reviewers-for-a-pull-request"""
        ticket = self.ticket(index, number, pull=True)
        users = [_user_or_none(login) for login in ticket["requested"]]
        return Reply(self.store.serialize({"users": users, "teams": []}))

    def review_comment_reactions(self, request: Request, index: RepoIndex, comment_id: int) -> Reply:
        """Reactions to a review comment: the scenario has none, so an empty list for a known comment."""
        found = any(c["id"] == comment_id for t in index.data.tickets for c in t["review_comments"])
        if not found:
            raise Refusal(404, "Not Found", docs=f"{DOCS}/reactions/reactions")
        return Reply(b"[]")

    # -- deployments and releases ---------------------------------------------------------------

    def deployments(self, request: Request, index: RepoIndex) -> Reply:
        """https://docs.github.com/en/rest/deployments/deployments#list-deployments (newest first)."""
        args = request.args
        items = [piece for record, piece in self.store.deployments(index)
                 if all(args.get(name) in (None, record.get(name)) for name in ("environment", "ref", "sha"))]
        return page(request, items, self.repo_link(request, index, "/deployments"))

    def statuses(self, request: Request, index: RepoIndex, id: int) -> Reply:
        """https://docs.github.com/en/rest/deployments/statuses#list-deployment-statuses (newest first)."""
        found = next((record for record, _ in self.store.deployments(index) if record["id"] == id), None)
        if found is None:
            raise Refusal(404, "Not Found", docs=f"{DOCS}/deployments/statuses")
        return page(request, self.store.statuses(index, found),
                    self.repo_link(request, index, f"/deployments/{id}/statuses"))

    def releases(self, request: Request, index: RepoIndex) -> Reply:
        """https://docs.github.com/en/rest/releases/releases#list-releases (newest first)."""
        return page(request, self.store.releases(index), self.repo_link(request, index, "/releases"))

    # -- users and organisations ----------------------------------------------------------------

    def user(self, request: Request, login: str) -> Reply:
        """https://docs.github.com/en/rest/users/users#get-a-user"""
        found = self.store.user(login)
        if found is None:
            raise Refusal(404, "Not Found", docs=f"{DOCS}/users/users#get-a-user")
        return Reply(found)

    def user_orgs(self, request: Request, login: str) -> Reply:
        """https://docs.github.com/en/rest/orgs/orgs#list-organizations-for-a-user"""
        if self.store.user(login) is None:
            raise Refusal(404, "Not Found", docs=f"{DOCS}/orgs/orgs#list-organizations-for-a-user")
        return Reply(self.store.user_orgs(login))

    def org(self, request: Request, org: str) -> Reply:
        """https://docs.github.com/en/rest/orgs/orgs#get-an-organization"""
        found = self.store.org(org)
        if found is None:
            raise Refusal(404, "Not Found", docs=f"{DOCS}/orgs/orgs#get-an-organization")
        return Reply(found)

    def org_members(self, request: Request, org: str) -> Reply:
        """https://docs.github.com/en/rest/orgs/members#list-organization-members"""
        if self.store.org(org) is None:
            raise Refusal(404, "Not Found", docs=f"{DOCS}/orgs/members#list-organization-members")
        return page(request, self.store.org_members(org), f"{self.link_base(request)}/orgs/{org}/members")


def _user_or_none(login: str | None) -> dict[str, Any] | None:
    return user_object(login)
