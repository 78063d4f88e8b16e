"""Edits of a webhook body by dotted path, for the parser tests' hostile variants."""
from __future__ import annotations

from typing import Any, Callable


def set_path(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit that sets `path` ("issue.fields.summary") to `value`, or deletes it for `KeyError`."""
    def edit(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for name in parents:
            body = body[name]
        if value is KeyError:
            del body[last]
        else:
            body[last] = value
    return edit
