"""What REST would ask item by item, through GraphQL in batches, in REST shapes.

- Comments, reviews and branches of a page of issues: REST lists reviews and a pull request's
  branch only per pull request; one `nodes(ids:)` query answers all of a page's pull requests
  and commented issues at once, and also replaces the repository-wide comment listing.
  Comments and reviews keep their REST ids through `fullDatabaseId` (REST's id, beyond 32
  bits), or `databaseId` on an Enterprise Server too old to know the former. Answers are
  matched to issues by position and number, not by node id (see `GraphQLDetails._paired`).
  https://docs.github.com/en/graphql/reference/queries#nodes
- Deployments with their statuses: REST lists statuses per deployment; one `repository {
  deployments }` query answers a page of up to 100 deployments, newest first, with their
  statuses. https://docs.github.com/en/graphql/reference/objects#repository (deployments),
  https://docs.github.com/en/graphql/reference/objects#deployment
"""
from __future__ import annotations

import logging
from typing import Any, Iterator, NamedTuple

from connectors.errors import FatalError, RetriableError
from connectors.github_http import GitHubHTTP, NotFound, Refused
from connectors.github_graphql_shapes import (
    comments_from_graphql, deployment_from_graphql, pull_from_graphql, reviews_from_graphql, statuses_from_graphql,
)
from connectors.github_pulls import is_pull_request

log = logging.getLogger(__name__)

_AUTHOR = "author { __typename login ... on User { name } }"
_COMMENTS = "pageInfo { hasNextPage endCursor } nodes { DATABASE_ID createdAt " + _AUTHOR + " }"
_REVIEWS = "pageInfo { hasNextPage endCursor } nodes { DATABASE_ID state submittedAt " + _AUTHOR + " }"
# DATABASE_ID becomes fullDatabaseId or databaseId when the query is sent.
NODES_QUERY = (
    "query($ids: [ID!]!) { nodes(ids: $ids) { __typename "
    "... on Issue { id number comments(first: 100) { " + _COMMENTS + " } } "
    "... on PullRequest { id number headRefName merged mergedAt mergedBy { __typename login ... on User { name } } "
    "comments(first: 100) { " + _COMMENTS + " } "
    "reviews(first: 100) { " + _REVIEWS + " } } } }"
)
MORE_COMMENTS_QUERY = (
    "query($id: ID!, $after: String) { node(id: $id) { "
    "... on Issue { comments(first: 100, after: $after) { " + _COMMENTS + " } } "
    "... on PullRequest { comments(first: 100, after: $after) { " + _COMMENTS + " } } } }"
)
MORE_REVIEWS_QUERY = (
    "query($id: ID!, $after: String) { node(id: $id) { "
    "... on PullRequest { reviews(first: 100, after: $after) { " + _REVIEWS + " } } } }"
)
_CREATOR = "creator { __typename login ... on User { name } }"
# DeploymentStatus has no databaseId: its event id is made of deployment, time and state.
_STATUSES = "pageInfo { hasNextPage endCursor } nodes { state createdAt environment " + _CREATOR + " }"
DEPLOYMENTS_QUERY = (
    "query($owner: String!, $name: String!, $first: Int!, $after: String) { "
    "repository(owner: $owner, name: $name) { "
    "deployments(first: $first, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) { "
    "pageInfo { hasNextPage endCursor } nodes { id databaseId createdAt updatedAt environment commitOid ref { name } "
    + _CREATOR + " statuses(first: 100) { " + _STATUSES + " } } } } }"
)
MORE_STATUSES_QUERY = (
    "query($id: ID!, $after: String) { node(id: $id) { "
    "... on Deployment { statuses(first: 100, after: $after) { " + _STATUSES + " } } } }"
)
#: One deployment in REST shapes: the deployment and its statuses.
Deployed = tuple[dict[str, Any], list[dict[str, Any]]]


class Details(NamedTuple):
    """What GraphQL adds to one ticket of the issues listing, in REST shapes."""

    comments: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    pull: dict[str, Any] | None


NO_DETAILS = Details([], [], None)


class GraphQLDetails:
    """Asks GraphQL for the details of a page of issues (`batch` nodes per query) and for deployments."""

    def __init__(self, http: GitHubHTTP, source: str, batch: int) -> None:
        self.http, self.source, self.batch = http, source, batch
        self.id_field = "fullDatabaseId"

    def of(self, issues: list[dict[str, Any]], repo: str) -> dict[str, Details]:
        """node_id (as the listing gave it) -> details, for the pull requests and commented issues among `issues`."""
        wanted = [raw for raw in issues
                  if raw.get("node_id") and (is_pull_request(raw) or (raw.get("comments") or 0) > 0)]
        found: dict[str, Details] = {}
        for first in range(0, len(wanted), self.batch):
            asked = wanted[first:first + self.batch]
            data = self._query(NODES_QUERY, {"ids": [str(raw["node_id"]) for raw in asked]})
            for raw, node in self._paired(asked, data.get("nodes"), repo):
                node_id = str(node["id"])  # the server's own spelling, for its follow-up pages
                comments = comments_from_graphql(self._all(node_id, node.get("comments"), MORE_COMMENTS_QUERY, "comments"))
                if node.get("__typename") == "PullRequest":
                    reviews = reviews_from_graphql(self._all(node_id, node.get("reviews"), MORE_REVIEWS_QUERY, "reviews"))
                    found[str(raw["node_id"])] = Details(comments, reviews, pull_from_graphql(node))
                else:
                    found[str(raw["node_id"])] = Details(comments, [], None)
        return found

    def _paired(self, asked: list[dict[str, Any]], nodes: Any, repo: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """Each answered node with the issue it answers; FatalError when one answers none of them.

        The answer's ids are no key: GitHub may answer in the other global-id format than the
        REST `node_id` asked with (legacy `MDU6SXNzdWUx…` against `I_kwDO…`, switched by the
        `X-Github-Next-Global-ID` header), and matching by id then dropped every comment and
        review without a word. `nodes(ids:)` answers in the order asked, null for a node gone
        since; the issue number, asked for alongside, confirms each pairing. A node that
        matches nothing asked is refused loudly: filed under a guessed ticket, its acts would
        count for the wrong work.
        """
        nodes = nodes if isinstance(nodes, list) else []
        by_id = {str(raw["node_id"]): raw for raw in asked}
        by_number = {raw.get("number"): raw for raw in asked}
        in_order = len(nodes) == len(asked)
        pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
        taken: set[int] = set()
        for position, node in enumerate(nodes):
            if not isinstance(node, dict) or not node.get("id"):
                continue  # deleted since the listing (NOT_FOUND): the ticket keeps what the listing said
            number = node.get("number")
            raw = by_id.get(str(node["id"]))
            if raw is None:
                raw = by_number.get(number) if number is not None else asked[position] if in_order else None
            if raw is None or id(raw) in taken:
                what = "none of the issues asked for" if raw is None else f"#{raw.get('number')} again"
                raise FatalError(
                    f"GitHub source '{self.source}': GraphQL answered for {repo} with node {node['id']}"
                    f"{f' (#{number})' if number is not None else ''}, which is {what}; stopped rather than "
                    "count its comments and reviews for the wrong ticket.")
            taken.add(id(raw))
            pairs.append((raw, node))
        return pairs

    def deployments(self, repo: str, first: int) -> Iterator[list[Deployed]]:
        """Pages of a repository's deployments, newest first, each with all its statuses; stop reading when done.

        `Repository.deployments` lists oldest first unless ordered otherwise. A token that may not
        read deployments gets FORBIDDEN: raised as `Refused`, as REST's 403 would be.
        """
        owner, name = repo.split("/", 1)
        after: str | None = None
        seen: set[str] = set()
        while True:
            data = self._query(DEPLOYMENTS_QUERY, {"owner": owner, "name": name, "first": first, "after": after},
                               refusable=True)
            repository = data.get("repository")
            connection = repository.get("deployments") if isinstance(repository, dict) else None
            if not isinstance(connection, dict):
                raise NotFound(f"GitHub source '{self.source}': GraphQL found no deployments of {repo}.")
            page: list[Deployed] = []
            for node in connection.get("nodes") or []:
                if not isinstance(node, dict):
                    continue
                statuses = self._all(str(node.get("id")), node.get("statuses"), MORE_STATUSES_QUERY, "statuses")
                page.append((deployment_from_graphql(node), statuses_from_graphql(statuses)))
            yield page
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                return
            after = str(info["endCursor"])
            if after in seen:
                raise RetriableError(f"GitHub source '{self.source}' sent the deployments cursor {after} twice; "
                                     "stopped to avoid a loop.")
            seen.add(after)

    def _all(self, node_id: str, connection: Any, query: str, name: str) -> list[Any]:
        """Every node of a connection, asking for the pages after the first one embedded."""
        nodes: list[Any] = []
        while isinstance(connection, dict):
            nodes += [node for node in connection.get("nodes") or [] if isinstance(node, dict)]
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage") or not info.get("endCursor"):
                break
            data = self._query(query, {"id": node_id, "after": info["endCursor"]})
            node = data.get("node")
            connection = node.get(name) if isinstance(node, dict) else None
        return nodes

    def _query(self, query: str, variables: dict[str, Any], refusable: bool = False) -> dict[str, Any]:
        """The `data` of a query; NOT_FOUND nodes come back as null, any other error is fatal.

        With `refusable`, FORBIDDEN (the token may not read this) raises `Refused` instead.
        """
        while True:
            answer = self.http.graphql(query.replace("DATABASE_ID", self.id_field), variables)
            errors = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
            if self.id_field == "fullDatabaseId" and any("fullDatabaseId" in str(e.get("message")) for e in errors):
                log.info("GitHub source '%s': the server does not know fullDatabaseId; using databaseId.", self.source)
                self.id_field = "databaseId"
                continue
            forbidden = [str(e.get("message") or "FORBIDDEN") for e in errors if e.get("type") == "FORBIDDEN"]
            if refusable and forbidden:
                raise Refused(f"GitHub source '{self.source}' GraphQL query was refused: {'; '.join(forbidden)[:300]}")
            serious = [str(e.get("message") or e.get("type")) for e in errors if e.get("type") != "NOT_FOUND"]
            if serious or not isinstance(answer.get("data"), dict):
                detail = "; ".join(serious)[:300] or "no data"
                raise FatalError(f"GitHub source '{self.source}' GraphQL query failed: {detail}")
            return answer["data"]
