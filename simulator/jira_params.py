"""Reading a Jira REST request the way Jira does: integers, field and expand lists, page tokens, errors."""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Iterable, Sequence

from werkzeug.wrappers import Request

from simulator.jira_store import View

JSON_TYPE = "application/json;charset=UTF-8"


def error_body(status: int, message: str) -> bytes:
    """Jira's error shape: `{"errorMessages": [...], "errors": {}}`."""
    return json.dumps({"errorMessages": [message], "errors": {}}).encode()


class Refusal(Exception):
    """Answer with Jira's error shape and this status."""

    def __init__(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, list(headers)


def int_param(request: Request, name: str, default: int, body: dict[str, Any] | None = None) -> int:
    """A non-negative integer from the query string, or from the JSON body of a POST."""
    raw = body.get(name, default) if body is not None else request.args.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise Refusal(400, f"The value '{raw}' is invalid for the '{name}' parameter.") from None
    if value < 0:
        raise Refusal(400, f"The '{name}' parameter must not be negative.")
    return value


def names(values: Iterable[Any]) -> list[str]:
    """`fields`/`expand` given as repeated parameters, a comma list, or a JSON array."""
    names: list[str] = []
    for value in values:
        items = value if isinstance(value, list) else str(value).split(",")
        names += [str(item).strip() for item in items if str(item).strip()]
    return names


def view_of(fields: list[str], expand: list[str], default_all: bool, **limits: int | None) -> View:
    """The fields to embed: Jira's `*all`/`*navigable`, a list, `-name` exclusions; unknown names are ignored."""
    include: set[str] | None = set() if fields or not default_all else None
    exclude: set[str] = set()
    for name in fields:
        if name in ("*all", "*navigable"):
            include = None
        elif name.startswith("-"):
            exclude.add(name[1:])
        elif include is not None:
            include.add(name)
    if include is not None and not include and exclude:
        include = None  # only exclusions: everything else
    return View(None if include is None else frozenset(include), frozenset(exclude),
                changelog="changelog" in expand, **limits)


def page_token(kind: str, scope: str, offset: int) -> str:
    """An opaque token for `offset` in one query (`scope`), as Cloud's `nextPageToken` is opaque."""
    raw = json.dumps({"k": kind, "s": hashlib.sha1(scope.encode()).hexdigest()[:12], "o": offset})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def token_offset(token: str | None, kind: str, scope: str) -> int:
    """The offset a page token stands for; the token must come from the same query."""
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["k"] == kind and data["s"] == hashlib.sha1(scope.encode()).hexdigest()[:12]:
            return int(data["o"])
    except (ValueError, KeyError, TypeError):
        pass
    raise Refusal(400, "The provided next page token is invalid or expired.")
