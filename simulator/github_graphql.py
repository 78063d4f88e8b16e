"""Just enough GitHub GraphQL for the fake: `node`/`nodes` by global id, issues' comments, pull requests' reviews,
and `repository(owner:, name:)` with its deployments and their statuses.

A small parser reads the query (operation, variables, fields with arguments and aliases,
inline fragments `... on Type`) and an executor answers it over the store's records, field by
field, so that any query built from the supported fields works, not one fixed text. Unknown
fields are refused the way GitHub refuses them ("Field 'x' doesn't exist on type 'Y'", no data),
which is how a client learns that an older Enterprise Server lacks `fullDatabaseId`; unknown
ids come back as null with a NOT_FOUND error, as on GitHub.
https://docs.github.com/en/graphql/reference/queries#node ,
https://docs.github.com/en/graphql/guides/using-global-node-ids ,
https://docs.github.com/en/graphql/reference/objects#deployment
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from simulator.github_people import GHOST, PERSON_OF_LOGIN, is_bot
from simulator.github_shapes import iso, node_id

_TOKEN = re.compile(r'\s+|,|#[^\n]*'  # ignored: white space, commas, comments
                    r'|(\.\.\.|[{}()\[\]:!$=@])|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|([_A-Za-z][_0-9A-Za-z]*)')
MAX_FIRST = 100


class GraphQLError(Exception):
    """A query GitHub would refuse as a whole: answered with `errors` and no `data`."""


@dataclass
class Field:
    """A field of a selection set: name, alias, arguments and sub-selections."""

    name: str
    alias: str
    args: dict[str, Any]
    selections: list[Any]


@dataclass
class Fragment:
    """An inline fragment `... on Type { ... }`."""

    on: str
    selections: list[Any]


class _Parser:
    def __init__(self, text: str, variables: dict[str, Any]) -> None:
        self.tokens: list[str] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise GraphQLError(f"Parse error on \"{text[position:position + 10]}\"")
            position = match.end()
            token = next((g for g in match.groups() if g is not None), None)
            if token is not None:
                self.tokens.append(token)
        self.at, self.variables = 0, variables

    def peek(self) -> str | None:
        """The next token, or None at the end."""
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        """Consume the next token (which must be `expected` when given)."""
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise GraphQLError(f"Parse error on {token!r} (expected {expected or 'more'})")
        self.at += 1
        return token

    def document(self) -> list[Any]:
        """The top-level selections of the one query in the document."""
        if self.peek() in ("query", "mutation"):
            if self.take() == "mutation":
                raise GraphQLError("This fake GitHub answers queries only")
            if self.peek() not in ("(", "{"):
                self.take()  # operation name
            if self.peek() == "(":
                self._variable_definitions()
        selections = self.selection_set()
        if self.peek() is not None:
            raise GraphQLError("Only one operation per document is supported")
        return selections

    def _variable_definitions(self) -> None:
        self.take("(")
        while self.peek() != ")":
            self.take("$")
            name = self.take()
            self.take(":")
            self._type()
            if self.peek() == "=":
                self.take()
                self.variables.setdefault(name, self.value())
        self.take(")")

    def _type(self) -> None:
        if self.peek() == "[":
            self.take("[")
            self._type()
            self.take("]")
        else:
            self.take()
        if self.peek() == "!":
            self.take()

    def selection_set(self) -> list[Any]:
        """`{ field(arg: value) { ... } ... on Type { ... } }` as Fields and Fragments."""
        self.take("{")
        selections: list[Any] = []
        while self.peek() != "}":
            if self.peek() == "...":
                self.take()
                self.take("on")
                on = self.take()
                selections.append(Fragment(on, self.selection_set()))
                continue
            alias = name = self.take()
            if self.peek() == ":":
                self.take()
                name = self.take()
            args: dict[str, Any] = {}
            if self.peek() == "(":
                self.take()
                while self.peek() != ")":
                    key = self.take()
                    self.take(":")
                    args[key] = self.value()
                self.take(")")
            children = self.selection_set() if self.peek() == "{" else []
            selections.append(Field(name, alias, args, children))
        self.take("}")
        return selections

    def value(self) -> Any:
        """A literal or `$variable` argument value."""
        token = self.take()
        if token == "$":
            return self.variables.get(self.take())
        if token == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
            self.take("]")
            return items
        if token == "{":  # an input object: `{field: CREATED_AT, direction: DESC}`
            fields: dict[str, Any] = {}
            while self.peek() != "}":
                key = self.take()
                self.take(":")
                fields[key] = self.value()
            self.take("}")
            return fields
        if token.startswith('"'):
            return json.loads(token)
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        return {"true": True, "false": False, "null": None}.get(token, token)


def parse(query: str, variables: dict[str, Any] | None = None) -> list[Any]:
    """The top-level selections of a query, with variables substituted."""
    return _Parser(query, dict(variables or {})).document()


# -- execution ---------------------------------------------------------------------------------

Obj = tuple[str, Any]  # (GraphQL type name, the record behind it)
Resolver = Callable[[Any, dict[str, Any]], Any]


def _cursor(offset: int) -> str:
    return base64.b64encode(f"cursor:{offset}".encode()).decode()


def _offset(cursor: Any) -> int:
    try:
        return int(base64.b64decode(str(cursor)).decode().split(":", 1)[1])
    except (ValueError, IndexError, UnicodeDecodeError):
        raise GraphQLError(f"`{cursor}` does not appear to be a valid cursor.") from None


def _actor(login: str | None) -> Obj | None:
    """A login as a GraphQL `Actor`: a Bot's login loses REST's "[bot]"; a deleted account is null."""
    if login is None or login == GHOST["login"]:
        return None
    if is_bot(login):
        return "Bot", {"login": login[:-5], "url": f"https://github.com/apps/{login[:-5]}"}
    person = PERSON_OF_LOGIN.get(login)
    return "User", {"login": login, "name": person.name if person else None,
                    "email": person.email if person and person.email else "", "url": f"https://github.com/{login}"}


def _connection(item_type: str, name: str, items: list[dict[str, Any]], args: dict[str, Any]) -> Obj:
    """A page of a connection: `first` (at most 100) items after the `after` cursor."""
    first = args.get("first")
    if not isinstance(first, int) or first < 0:
        raise GraphQLError(f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.")
    if first > MAX_FIRST:
        raise GraphQLError(f"Requesting {first} records on the connection exceeds the `first` limit of "
                           f"{MAX_FIRST} records.")
    start = _offset(args["after"]) + 1 if args.get("after") else 0
    return "Connection", {"items": [(item_type, item) for item in items[start:start + first]], "start": start,
                          "total": len(items)}


def _when(name: str) -> Resolver:
    return lambda r, a: iso(r[name]) if r.get(name) is not None else None


# REST's deployment status states and GraphQL's DeploymentState of a deployment whose latest status that is.
_DEPLOYMENT_STATE = {"success": "ACTIVE", "failure": "FAILURE", "error": "ERROR", "inactive": "INACTIVE",
                     "in_progress": "IN_PROGRESS", "queued": "QUEUED", "pending": "PENDING"}


def _deployments(repository: dict[str, Any], args: dict[str, Any]) -> Obj:
    """`Repository.deployments`: by creation, oldest first unless `orderBy` says DESC; `environments` filters."""
    order = args.get("orderBy") or {}
    if not isinstance(order, dict) or order.get("field", "CREATED_AT") != "CREATED_AT" \
            or order.get("direction", "ASC") not in ("ASC", "DESC"):
        raise GraphQLError(f"Argument 'orderBy' on Field 'deployments' has an invalid value ({order}). "
                           "Expected type 'DeploymentOrder'.")
    items = sorted(repository["deployments"], key=lambda d: (d["t"], d["id"]), reverse=order.get("direction") == "DESC")
    environments = args.get("environments")
    if environments:
        items = [d for d in items if d["environment"] in environments]
    return _connection("Deployment", "deployments", items, args)


def _status(deployment: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
    """A status record with what its resolvers need of its deployment."""
    return {**status, "environment": deployment["environment"], "deployment": deployment}


def _statuses(deployment: dict[str, Any], args: dict[str, Any]) -> Obj:
    """`Deployment.statuses`, newest first as REST lists them (GitHub documents no order; the connector needs none)."""
    return _connection("DeploymentStatus", "statuses", [_status(deployment, s) for s in reversed(deployment["statuses"])],
                       args)


def _ref(deployment: dict[str, Any]) -> Obj:
    tag = deployment["ref"].startswith("v")  # the scenario deploys tags v1.x.y and the branch main
    return "Ref", {"name": deployment["ref"], "prefix": "refs/tags/" if tag else "refs/heads/"}


_TICKET: dict[str, Resolver] = {
    "id": lambda r, a: r["node_id"], "number": lambda r, a: r["number"], "title": lambda r, a: r["title"],
    "state": lambda r, a: "MERGED" if r.get("merged") else r["state"].upper(), "createdAt": _when("created"),
    "updatedAt": _when("updated"), "closedAt": _when("closed"), "author": lambda r, a: _actor(r["author"]),
    "comments": lambda r, a: _connection("IssueComment", "comments", r["comments"], a),
}
_ACT: dict[str, Resolver] = {
    "databaseId": lambda r, a: r["id"], "fullDatabaseId": lambda r, a: str(r["id"]),  # a BigInt travels as a string
    "createdAt": _when("t"), "body": lambda r, a: r["body"], "author": lambda r, a: _actor(r["author"]),
}
_PAGE = {
    "hasNextPage": lambda r, a: r["start"] + len(r["items"]) < r["total"],
    "hasPreviousPage": lambda r, a: r["start"] > 0,
    "endCursor": lambda r, a: _cursor(r["start"] + len(r["items"]) - 1) if r["items"] else None,
    "startCursor": lambda r, a: _cursor(r["start"]) if r["items"] else None,
}
FIELDS: dict[str, dict[str, Resolver]] = {
    "Issue": _TICKET,
    "PullRequest": {
        **_TICKET, "headRefName": lambda r, a: r["head_ref"], "baseRefName": lambda r, a: "main",
        "merged": lambda r, a: r["merged"] is not None, "mergedAt": _when("merged"),
        "mergedBy": lambda r, a: _actor(r["merged_by"]) if r["merged"] is not None else None,
        "reviews": lambda r, a: _connection("PullRequestReview", "reviews", r["reviews"], a),
    },
    "IssueComment": {**_ACT, "id": lambda r, a: node_id("IC", r["id"])},
    "PullRequestReview": {**_ACT, "id": lambda r, a: node_id("PRR", r["id"]), "state": lambda r, a: r["state"],
                          "submittedAt": _when("t")},
    "Repository": {
        "id": lambda r, a: node_id("R", r["repo"].repo_id), "databaseId": lambda r, a: r["repo"].repo_id,
        "name": lambda r, a: r["repo"].name, "nameWithOwner": lambda r, a: r["repo"].full_name,
        "deployments": _deployments,
    },
    "Deployment": {
        "id": lambda r, a: node_id("DE", r["id"]), "databaseId": lambda r, a: r["id"],
        "createdAt": _when("t"), "updatedAt": _when("updated"), "environment": lambda r, a: r["environment"],
        "latestEnvironment": lambda r, a: r["environment"], "originalEnvironment": lambda r, a: r["environment"],
        "description": lambda r, a: r["description"], "task": lambda r, a: "deploy",
        "commitOid": lambda r, a: r["sha"], "ref": lambda r, a: _ref(r), "creator": lambda r, a: _actor(r["creator"]),
        "state": lambda r, a: _DEPLOYMENT_STATE.get(r["statuses"][-1]["state"], "PENDING") if r["statuses"]
        else "PENDING",
        "latestStatus": lambda r, a: ("DeploymentStatus", _status(r, r["statuses"][-1])) if r["statuses"] else None,
        "statuses": _statuses,
    },
    # No databaseId: GitHub's DeploymentStatus has none (a client asking for it is refused, as there).
    "DeploymentStatus": {
        "id": lambda r, a: node_id("DES", r["id"]), "state": lambda r, a: r["state"].upper(),
        "createdAt": _when("t"), "updatedAt": _when("t"), "creator": lambda r, a: _actor(r["creator"]),
        "description": lambda r, a: r["description"], "environment": lambda r, a: r["environment"],
        "deployment": lambda r, a: ("Deployment", r["deployment"]),
    },
    "Ref": {"name": lambda r, a: r["name"], "prefix": lambda r, a: r["prefix"]},
    "Connection": {"nodes": lambda r, a: r["items"], "totalCount": lambda r, a: r["total"],
                   "pageInfo": lambda r, a: ("PageInfo", r),
                   "edges": lambda r, a: [("Edge", (r["start"] + i, item)) for i, item in enumerate(r["items"])]},
    "Edge": {"cursor": lambda r, a: _cursor(r[0]), "node": lambda r, a: r[1]},
    "PageInfo": _PAGE,
    "User": {name: (lambda n: lambda r, a: r.get(n))(name) for name in ("login", "name", "email", "url")},
    "Bot": {name: (lambda n: lambda r, a: r[n])(name) for name in ("login", "url")},
    "RateLimit": {"cost": lambda r, a: 1},
}
_ABSTRACT = ("Node", "Actor", "Comment", "UniformResourceLocatable")


class Executor:
    """Evaluates parsed selections; `find(global id)` gives (type name, record) or None.

    `repository(owner, name)` gives ("Repository", {"repo": Repo, "deployments": [records]}) or None.
    `full_database_id=False` plays an Enterprise Server from before `fullDatabaseId` existed.
    Errors that do not stop the query (NOT_FOUND) collect in `errors`.
    """

    def __init__(self, find: Callable[[str], Obj | None], full_database_id: bool = True,
                 repository: Callable[[str, str], Obj | None] = lambda owner, name: None) -> None:
        self.find, self.full_database_id, self.repository = find, full_database_id, repository
        self.errors: list[dict[str, Any]] = []

    def run(self, selections: list[Any]) -> dict[str, Any]:
        """The `data` of a query."""
        return self._select(("Query", None), selections, [])

    def _select(self, obj: Obj, selections: list[Any], path: list[Any]) -> dict[str, Any]:
        type_name, record = obj
        out: dict[str, Any] = {}
        for selection in selections:
            if isinstance(selection, Fragment):
                if selection.on == type_name or selection.on in _ABSTRACT:
                    out.update(self._select(obj, selection.selections, path))
                continue
            out[selection.alias] = self._field(type_name, record, selection, path + [selection.alias])
        return out

    def _field(self, type_name: str, record: Any, f: Field, path: list[Any]) -> Any:
        if f.name == "__typename":
            return type_name
        if type_name == "Query":
            value = self._query_field(f, path)
        else:
            resolver = FIELDS.get(type_name, {}).get(f.name)
            if resolver is None or (f.name == "fullDatabaseId" and not self.full_database_id):
                raise GraphQLError(f"Field '{f.name}' doesn't exist on type '{type_name}'")
            value = resolver(record, f.args)
        return self._shape(value, f, path)

    def _query_field(self, f: Field, path: list[Any]) -> Any:
        if f.name == "node":
            return self._lookup(f.args.get("id"), path)
        if f.name == "nodes":
            ids = f.args.get("ids") or []
            if len(ids) > 100:
                raise GraphQLError("You may not request more than 100 nodes at once.")
            return [self._lookup(global_id, path + [i]) for i, global_id in enumerate(ids)]
        if f.name == "rateLimit":
            return "RateLimit", None
        if f.name == "repository":
            owner, name = f.args.get("owner"), f.args.get("name")
            found = self.repository(str(owner), str(name))
            if found is None:
                self.errors.append({"type": "NOT_FOUND", "path": path, "locations": [{"line": 1, "column": 1}],
                                    "message": f"Could not resolve to a Repository with the name '{owner}/{name}'."})
            return found
        raise GraphQLError(f"Field '{f.name}' doesn't exist on type 'Query'")

    def _lookup(self, global_id: Any, path: list[Any]) -> Obj | None:
        found = self.find(str(global_id))
        if found is None:
            self.errors.append({"type": "NOT_FOUND", "path": path, "locations": [{"line": 1, "column": 1}],
                                "message": f"Could not resolve to a node with the global id of '{global_id}'."})
        return found

    def _shape(self, value: Any, f: Field, path: list[Any]) -> Any:
        if value is None:
            return None
        if isinstance(value, tuple):
            if not f.selections:
                raise GraphQLError(f"Field must have selections (field '{f.name}' returns {value[0]} but has no "
                                   f"selections. Did you mean '{f.name} {{ ... }}'?)")
            return self._select(value, f.selections, path)
        if isinstance(value, list):
            return [self._shape(v, f, path + [i]) for i, v in enumerate(value)]
        if f.selections:
            raise GraphQLError(f"Selections can't be made on scalars (field '{f.name}')")
        return value
