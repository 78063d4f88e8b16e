"""What a Jira sync asks the server besides issues: the field list and unexplained user keys.

- The field list (`GET /field`, at most once per run, when a changelog names a custom field other
  than "Rank") names the rank field by its schema, whatever the site calls it
  (`connectors.jira_context.JiraContext.is_rank`).
  https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-fields/#api-rest-api-3-field-get
- On Server/Data Center, an assignee change holds a user *key*. When no user object of the run
  or the database explains a key, the server is asked once (`GET /user?key=`): otherwise the
  key would become an account of its own, credited with that user's acts.
  https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/user-getUser
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

from connectors.errors import FatalError
from connectors.jira_context import JiraContext
from connectors.jira_parse import comments_of, histories_of

log = logging.getLogger(__name__)

Request = Callable[[str, str, "dict[str, Any] | None"], Any]


def learn_rank_field(request: Request, context: JiraContext, source: str) -> None:
    """Read the field list once; a site that refuses it keeps the English name "Rank" only."""
    try:
        fields = request("GET", "field", None)
    except FatalError as exc:
        log.warning("Jira source '%s': the field list is not readable (%s); only a field named 'Rank' "
                    "counts as the rank.", source, exc)
        return
    if isinstance(fields, list):
        context.learn_fields(fields)


def has_unknown_custom_field(issues: list[dict[str, Any]], context: JiraContext) -> bool:
    """Whether a changelog names a custom field that may be a localised rank ("Rang")."""
    for raw in issues:
        for history in histories_of(raw):
            items = history.get("items") if isinstance(history, dict) else None
            for item in items if isinstance(items, list) else ():
                if isinstance(item, dict) and item.get("fieldtype") == "custom" and not context.is_rank(item):
                    return True
    return False


def _users_of(raw: dict[str, Any]) -> Iterable[object]:
    fields = raw.get("fields") if isinstance(raw.get("fields"), dict) else {}
    yield from (fields.get("reporter"), fields.get("creator"), fields.get("assignee"))
    for history in histories_of(raw):
        if isinstance(history, dict):
            yield history.get("author")
    for comment in comments_of(fields):
        if isinstance(comment, dict):
            yield comment.get("author")


def _assigned_ids(raw: dict[str, Any]) -> Iterable[str]:
    for history in histories_of(raw):
        items = history.get("items") if isinstance(history, dict) else None
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and str(item.get("fieldId") or item.get("field") or "").lower() == "assignee":
                for value in (item.get("from"), item.get("to")):
                    if isinstance(value, str) and value:
                        yield value


def explain_keys(request: Request, context: JiraContext, issues: list[dict[str, Any]],
                 not_found: type[Exception]) -> int:
    """Learn the page's user objects, then ask the server about each assignee key none of them
    (nor the database) explains. Returns how many were asked; a deleted user's key (404) is kept
    as it is and not asked again."""
    users = context.users
    for raw in issues:
        users.learn_all(_users_of(raw))
    unknown = sorted({value for raw in issues for value in _assigned_ids(raw) if not users.knows(value)})
    for key in unknown:
        try:
            user = request("GET", "user", {"key": key})
        except not_found:
            users.remember(key)
            continue
        if isinstance(user, dict):
            users.learn(user)
        users.remember(key)  # explained now, or never will be: not asked again either way
    return len(unknown)
