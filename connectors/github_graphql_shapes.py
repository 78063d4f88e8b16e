"""GraphQL answers in the REST shapes `connectors.github_parse` reads, so one parser serves both APIs.

Pure functions over the nodes `connectors.github_graphql` asks for: authors, comments, reviews,
the pull request fields, deployments and their statuses.
https://docs.github.com/en/graphql/reference/objects
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping


def user_from_graphql(actor: object) -> dict[str, Any] | None:
    """A GraphQL `Actor` as a REST user object; a `Bot`'s login gets REST's "[bot]" suffix back."""
    if not isinstance(actor, dict) or not isinstance(actor.get("login"), str) or not actor["login"]:
        return None
    login = actor["login"]
    if actor.get("__typename") == "Bot" and not login.endswith("[bot]"):
        login += "[bot]"  # GraphQL says "dependabot" where REST says "dependabot[bot]"
    user: dict[str, Any] = {"login": login, "type": actor.get("__typename") or "User"}
    if isinstance(actor.get("name"), str) and actor["name"]:
        user["name"] = actor["name"]
    return user


def _database_id(node: Mapping[str, Any]) -> Any:
    value = node.get("fullDatabaseId")
    return node.get("databaseId") if value in (None, "") else value


def comments_from_graphql(nodes: Iterable[Any]) -> list[dict[str, Any]]:
    """`IssueComment` nodes as REST comments (id, user, created_at)."""
    return [
        {"id": _database_id(node), "user": user_from_graphql(node.get("author")), "created_at": node.get("createdAt")}
        for node in nodes if isinstance(node, dict)
    ]


def reviews_from_graphql(nodes: Iterable[Any]) -> list[dict[str, Any]]:
    """`PullRequestReview` nodes as REST reviews (id, user, state, submitted_at)."""
    return [
        {"id": _database_id(node), "user": user_from_graphql(node.get("author")), "state": node.get("state"),
         "submitted_at": node.get("submittedAt")}
        for node in nodes if isinstance(node, dict)
    ]


def pull_from_graphql(node: Mapping[str, Any]) -> dict[str, Any]:
    """A `PullRequest` node as the REST pull fields the parser reads (`head.ref`, `merged`, `merged_at`, `merged_by`)."""
    return {"head": {"ref": node.get("headRefName")}, "merged": bool(node.get("merged")),
            "merged_at": node.get("mergedAt"), "merged_by": user_from_graphql(node.get("mergedBy"))}


def deployment_from_graphql(node: Mapping[str, Any]) -> dict[str, Any]:
    """A `Deployment` node as a REST deployment (id, created_at, updated_at, environment, ref, creator).

    `databaseId` is REST's id (the node id stands in should it be null). REST's `ref` is the
    branch, tag or sha deployed; GraphQL's `ref` is null when the deployment was made from a sha
    (or its branch is gone since), and the commit then stands in, as REST's sha ref would.
    https://docs.github.com/en/graphql/reference/objects#deployment
    """
    ref = node.get("ref")
    name = ref.get("name") if isinstance(ref, dict) else None
    database_id = node.get("databaseId")
    return {
        "id": node.get("id") if database_id in (None, "") else database_id, "node_id": node.get("id"),
        "created_at": node.get("createdAt"), "updated_at": node.get("updatedAt"),
        "environment": node.get("environment"), "ref": name or node.get("commitOid"),
        "creator": user_from_graphql(node.get("creator")),
    }


def statuses_from_graphql(nodes: Iterable[Any]) -> list[dict[str, Any]]:
    """`DeploymentStatus` nodes as REST statuses (created_at, state in REST's lower case, environment, creator)."""
    return [
        {"created_at": node.get("createdAt"),
         "state": node["state"].lower() if isinstance(node.get("state"), str) else None,
         "environment": node.get("environment"), "creator": user_from_graphql(node.get("creator"))}
        for node in nodes if isinstance(node, dict)
    ]
