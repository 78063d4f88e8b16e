"""Jira webhook deliveries -> `connectors.webhooks.WebhookChange`, through the sync's own parser.

`jira_change(payload, source)` takes the parsed body of a verified delivery (Cloud or
Server/Data Center). Every copy comes out of `jira_parse.parse_issue`, so tickets, accounts
and events are exactly what the search would make of the same issue and change. Shapes:
https://developer.atlassian.com/cloud/jira/platform/webhooks/ : `timestamp` (epoch ms),
`webhookEvent`, `issue_event_type_name`, `user` (who acted), `issue` (the REST issue as it stands
after the change, without its changelog), `changelog` {id, items} on an update, `comment` on
comment events and on the `jira:issue_updated` a comment also raises.

What each delivery yields (scope: the issue's project key):

- `jira:issue_created` / `jira:issue_updated`: the issue copy. The delivery's `changelog` becomes
  the history entry the search would list (id, author = `user`, created = `timestamp`, items),
  so its items are `h<history id>.<n>` with the search's kinds, values and actor. A `comment` in
  it is added as `c<id>`, unless the update is `issue_comment_deleted`, which removes it.
- `jira:issue_deleted`: `deleted` = (issue id,).
- `comment_created`: the comment `c<id>`. Jira Cloud describes the issue of a comment event only
  partly (summary, type, project, status, assignee, priority: no created or updated time, no
  reporter or labels). A copy made of that would overwrite the stored ticket with blanks, or, given
  an older `updated` to lose against the stored copy, be dropped whole with its comment by a
  store that keeps the newest copy. So the comment comes as `events_only`: to add to the stored
  issue, changing none of its fields. When the issue is described in full (created and updated
  given), it is a copy like an update's.
- `comment_deleted`: `removed_events` = ((issue id, `c<id>`),).
- `comment_updated`: nothing (`ignored`): an edited comment keeps its id, author and time.
- Other events (worklogs, sprints, projects…): nothing (`ignored`).

A history's time here is the delivery's `timestamp`, when Jira raised the event. No real delivery
was at hand to compare it with the search's `created` of the same history, and Atlassian documents
no relation; both stamp the one change, and its ids (`h<history id>.<n>`) are the same either way,
so the store keeps one event whichever arrives first, at that arrival's time.
"""
from __future__ import annotations

from typing import Any

from connectors.errors import SkippableError
from connectors.jira_context import JiraContext
from connectors.jira_parse import KindOf, comments_of, parse_issue
from connectors.records import ParsedTicket
from connectors.webhooks import TicketEvents, WebhookChange

JIRA_EVENTS = frozenset({
    "jira:issue_created", "jira:issue_updated", "jira:issue_deleted", "comment_created", "comment_updated",
    "comment_deleted",
})
_COMMENT_DELETED = "issue_comment_deleted"  # the issue_event_type_name of the update a deleted comment raises
#: Fields every Jira issue has and a full issue payload states; a comment event's issue lacks the times.
_FULL_ISSUE = ("created", "updated", "status", "issuetype")


def _issue_id(issue: dict[str, Any]) -> str:
    value = issue.get("id")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    raise SkippableError("has an issue without a Jira issue id (a whole number)")


def _key(issue: dict[str, Any]) -> str:
    key = issue.get("key")
    if not isinstance(key, str) or not key:
        raise SkippableError("has an issue without a key")
    return key


def _project(issue: dict[str, Any]) -> str | None:
    fields = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
    project = fields.get("project")
    if isinstance(project, dict) and isinstance(project.get("key"), str) and project["key"]:
        return project["key"]
    key = issue.get("key")
    return key.rsplit("-", 1)[0] if isinstance(key, str) and "-" in key else None


def _comment_id(comment: dict[str, Any]) -> str:
    value = comment.get("id")
    if value in (None, "") or isinstance(value, (bool, dict, list)):
        raise SkippableError("has a comment without an id")
    return f"c{value}"


def _history(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The delivery's change as the history entry the search's `changelog.histories` lists."""
    changelog = payload.get("changelog")
    if changelog is None:
        return None
    if not isinstance(changelog, dict) or changelog.get("id") in (None, "") or not isinstance(changelog.get("items"), list):
        raise SkippableError("has a changelog without an id and a list of items")
    timestamp = payload.get("timestamp")
    if not isinstance(timestamp, (int, float)) or isinstance(timestamp, bool):
        raise SkippableError("has no timestamp, the time of its change")
    return {"id": changelog["id"], "author": payload.get("user"), "created": timestamp, "items": changelog["items"]}


def _with_comment(fields: dict[str, Any], comment: dict[str, Any]) -> dict[str, Any]:
    """`fields` with `comment` among its comments (once), in whichever shape they came."""
    listed = fields.get("comment")
    if listed is not None and not isinstance(listed, (dict, list)):
        return fields  # a wrong shape: parse_issue refuses it in its own words
    comments = list(comments_of(fields))
    if all(not isinstance(c, dict) or str(c.get("id")) != str(comment.get("id")) for c in comments):
        comments.append(comment)
    return {**fields, "comment": {"comments": comments}}


def _parse(raw: dict[str, Any], source: str, **parse: Any) -> ParsedTicket:
    try:
        return parse_issue(raw, source, **parse)
    except SkippableError as exc:
        raise SkippableError(f"issue {raw.get('key') or raw.get('id') or '?'} {exc}") from None


def _copy(payload: dict[str, Any], issue: dict[str, Any], source: str, comment: dict[str, Any] | None,
          **parse: Any) -> ParsedTicket:
    """The issue as the search would return it with this delivery's change and comment in its history."""
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        raise SkippableError("has an issue without fields")
    history = _history(payload)
    raw = {**issue, "fields": _with_comment(fields, comment) if comment else fields,
           "changelog": {"histories": [history] if history else []}}
    parsed = _parse(raw, source, **parse)
    parsed.incomplete = ()  # a delta: what it leaves out is the rest of the history, which is stored
    return parsed


def _comment_only(issue: dict[str, Any], comment: dict[str, Any], source: str,
                  context: JiraContext | None) -> TicketEvents:
    """The comment of a partly described issue, made by parse_issue as the search would make it (the
    stand-in issue around it only carries it, and is dropped)."""
    comment_id, created = _comment_id(comment), comment.get("created")
    if created in (None, ""):
        raise SkippableError(f"has comment {comment_id[1:]} without its created time")
    raw = {"id": _issue_id(issue), "key": _key(issue), "self": issue.get("self"),
           "fields": {"created": created, "updated": created, "comment": {"comments": [comment]}}}
    parsed = _parse(raw, source, context=context)
    events = tuple(e for e in parsed.events if e.external_id == comment_id)
    accounts = tuple(a for a in parsed.accounts if a.ref in {e.actor for e in events})
    return TicketEvents(source, parsed.ticket.external_id, parsed.ticket.key, accounts, events)


def jira_change(
    payload: object, source: str, *, kind_of: KindOf | None = None, base_url: str | None = None,
    context: JiraContext | None = None,
) -> WebhookChange:
    """What one Jira delivery changes (see the module docstring for each event).

    `kind_of`, `base_url` and `context` are what the source's sync passes to `parse_issue`; give
    the sync's `context` so user ids resolve alike. Unknown events are `ignored`; a known event
    whose payload is malformed raises SkippableError with one sentence.
    """
    if not isinstance(payload, dict):
        raise SkippableError("Jira delivery is not a JSON object")
    event = payload.get("webhookEvent")
    if event not in JIRA_EVENTS:
        return WebhookChange([], ignored=f"Jira {event} deliveries carry nothing Partnerscope reads")
    try:
        return _change(str(event), payload, source, kind_of=kind_of, base_url=base_url, context=context)
    except SkippableError as exc:
        raise SkippableError(f"Jira {event} delivery: {exc}") from None


def _change(event: str, payload: dict[str, Any], source: str, **parse: Any) -> WebhookChange:
    issue = payload.get("issue")
    if not isinstance(issue, dict):
        raise SkippableError("has no issue object")
    scope = _project(issue)
    comment = payload.get("comment")
    if comment is not None and not isinstance(comment, dict):
        raise SkippableError("has a comment that is not an object")
    if event.startswith("comment_") and comment is None:
        raise SkippableError("has no comment object")
    if event == "jira:issue_deleted":
        return WebhookChange([], scope=scope, deleted=(_issue_id(issue),))
    if event == "comment_deleted":
        assert comment is not None
        return WebhookChange([], scope=scope, removed_events=((_issue_id(issue), _comment_id(comment)),))
    if event == "comment_updated":
        return WebhookChange([], scope=scope, ignored="Jira comment_updated: an edited comment is no new act")
    if event == "comment_created":
        assert comment is not None
        fields = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
        if not all(fields.get(name) not in (None, "") for name in _FULL_ISSUE):
            return WebhookChange([], scope=scope, events_only=(_comment_only(issue, comment, source, parse["context"]),))
        return WebhookChange([_copy(payload, issue, source, comment, **parse)], scope=scope)
    if payload.get("issue_event_type_name") == _COMMENT_DELETED and comment is not None:
        copy = _copy(payload, issue, source, None, **parse)
        removed = _comment_id(comment)
        copy.events = [e for e in copy.events if e.external_id != removed]
        return WebhookChange([copy], scope=scope, removed_events=((copy.ticket.external_id, removed),))
    return WebhookChange([_copy(payload, issue, source, comment, **parse)], scope=scope)
