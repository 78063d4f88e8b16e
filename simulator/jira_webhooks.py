"""The scenario's Jira issues told again as the admin-webhook deliveries Jira Cloud sends.

`issue_deliveries(issue, …)` takes one issue as `simulator.scenario` generates it (whole changelog
and comments embedded) and returns the deliveries a webhook subscribed to issue and comment
events would have received over its life, in the order things happened. The `webhooks`
benchmark case signs and replays them (`simulator.jira_hook_replay` mixes them), then compares
the result with an import of the same issues. Shapes:
https://developer.atlassian.com/cloud/jira/platform/webhooks/ (`timestamp` in epoch
milliseconds, `webhookEvent`, `issue_event_type_name`, `user`, `issue`, `changelog` {id, items},
`comment`); the issue's own fields keep Jira's ISO times.

- `jira:issue_created` when the issue was created, by its reporter.
- `jira:issue_updated` per changelog history, whose `changelog` is that history's id and items,
  `user` its author and `timestamp` its time.
- Per comment: `comment_created`, whose issue Cloud describes only partly (summary, type,
  project, assignee, priority, status), and the `jira:issue_updated` (`issue_commented`) Jira
  raises beside it, with the whole issue and the comment. An edited comment raises
  `comment_updated` and `issue_comment_edited` the same way.
- With `deleted_comment_id`: a comment the issue does not keep, written and deleted between its
  creation and its last change (`comment_deleted` and `issue_comment_deleted` follow the
  creation pair), so the final issue is unchanged.

The issue in a delivery stands as it did at the delivery's time: the final fields with every
later history undone, `updated` at the latest change up to then, `resolutiondate` once resolved.
It carries neither changelog nor comment list; each delivery brings its own change. Deliveries of
one moment all show the issue as it stood at the end of that moment, so no two copies with the
same `updated` disagree.
"""
from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from simulator import text
from simulator.render import Clock, Renderer

#: What Cloud says of the issue of a comment event (no times, reporter or labels).
PARTIAL_FIELDS = ("summary", "issuetype", "project", "assignee", "priority", "status")
_clock = Clock()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook delivery: the body as Jira would send it and what the replay needs to know of it."""

    event: str  # webhookEvent, with the issue_event_type_name of an update: `jira:issue_updated/issue_commented`
    key: str  # the issue's key
    at: int  # epoch seconds of the change (the body's `timestamp` is this in milliseconds)
    body: bytes


def epoch(value: str) -> int:
    """Epoch seconds of a Jira time as the scenario writes it (`2025-03-04T10:15:30.000+0000`)."""
    return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp())


def user_index(issues: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every user object of the issues by accountId, for assignees the changelog names only by id."""
    users: dict[str, dict[str, Any]] = {}
    for issue in issues:
        fields = issue["fields"]
        found = [fields.get("reporter"), fields.get("assignee"), fields.get("creator")]
        found += [h.get("author") for h in issue["changelog"]["histories"]]
        found += [c.get("author") for c in fields["comment"]["comments"]]
        users.update((u["accountId"], u) for u in found if u)
    return users


class _Timeline:
    """One issue's fields as they stood at any moment of its life."""

    def __init__(self, issue: dict[str, Any], users: dict[str, dict[str, Any]], extra_changes: tuple[int, ...]) -> None:
        self.issue = issue
        self.base = issue["self"].split("/rest/", 1)[0]
        self.renderer = Renderer(self.base, 0)
        self.users = users
        fields = issue["fields"]
        histories = issue["changelog"]["histories"]
        self.times = [epoch(h["created"]) for h in histories]
        final = {name: value for name, value in fields.items() if name != "comment"}
        self.states = [final]
        for history in reversed(histories):
            self.states.append(self._undo(self.states[-1], history["items"]))
        self.states.reverse()  # states[k]: the fields after the first k histories
        self.resolved = epoch(fields["resolutiondate"]) if fields.get("resolutiondate") else None
        comments = fields["comment"]["comments"]
        self.changes = sorted({epoch(fields["created"]), *self.times, *extra_changes,
                               *(epoch(c["created"]) for c in comments), *(epoch(c["updated"]) for c in comments)})

    def _undo(self, fields: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
        before = dict(fields)
        for item in reversed(items):
            name, old, old_text = item["field"], item["from"], item["fromString"]
            if name == "status":
                before["status"] = self.renderer.status(old_text)
            elif name == "assignee":
                before["assignee"] = None if old is None else dict(self.users.get(old) or {
                    "accountId": old, "displayName": old_text})
            elif name == "priority":
                before["priority"] = {"self": f"{self.base}/rest/api/3/priority/{old}", "name": old_text, "id": old}
            elif name == "labels":
                before["labels"] = old_text.split(" ") if old_text else []
            elif name == "summary":
                before["summary"] = old_text
            elif name == "description":
                before["description"] = text.adf_text(old_text) if old_text else None
            # resolution: `resolutiondate` follows the time; Rank is no field of the issue document
        return before

    def issue_at(self, t: int, partial: bool = False) -> dict[str, Any]:
        """The issue document as it stood at the end of second `t`."""
        fields = dict(self.states[bisect_right(self.times, t)])
        fields["updated"] = _clock(self.changes[bisect_right(self.changes, t) - 1])
        fields["resolutiondate"] = _clock(self.resolved) if self.resolved is not None and self.resolved <= t else None
        if partial:
            fields = {name: fields.get(name) for name in PARTIAL_FIELDS}
        return {"id": self.issue["id"], "self": self.issue["self"], "key": self.issue["key"], "fields": fields}


def _body(t: int, event: str, issue: dict[str, Any], **rest: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"timestamp": t * 1000, "webhookEvent": event}
    body.update((name, value) for name, value in rest.items() if value is not None)
    body["issue"] = issue
    return body


def _update_type(items: list[dict[str, Any]]) -> str:
    fields = {item["field"] for item in items}
    if "resolution" in fields:
        return "issue_resolved"
    if "status" in fields:
        return "issue_generic"
    return "issue_assigned" if fields == {"assignee"} else "issue_updated"


def issue_deliveries(issue: dict[str, Any], users: dict[str, dict[str, Any]],
                     deleted_comment_id: int | None = None) -> list[Delivery]:
    """The deliveries of one issue's life, oldest first (see the module docstring)."""
    fields = issue["fields"]
    created = epoch(fields["created"])
    comments = fields["comment"]["comments"]
    histories = issue["changelog"]["histories"]
    # (time, order within the moment, event, the body's other keys, whether the issue is told partly)
    planned: list[tuple[int, int, str, dict[str, Any], bool]] = []
    planned.append((created, 0, "jira:issue_created",
                    {"issue_event_type_name": "issue_created", "user": fields.get("reporter")}, False))
    for history in histories:
        kind = _update_type(history["items"])
        planned.append((epoch(history["created"]), 1, f"jira:issue_updated/{kind}", {
            "issue_event_type_name": kind, "user": history.get("author"),
            "changelog": {"id": history["id"], "items": history["items"]}}, False))
    for comment in comments:
        written, edited = epoch(comment["created"]), epoch(comment["updated"])
        planned += _comment_pair(written, {**comment, "updated": comment["created"]}, "created", "issue_commented")
        if edited != written:
            planned += _comment_pair(edited, comment, "updated", "issue_comment_edited")
    extra: tuple[int, ...] = ()
    last = max([created] + [epoch(h["created"]) for h in histories] + [epoch(c["updated"]) for c in comments])
    author = fields.get("reporter") or next((h["author"] for h in histories if h.get("author")), None)
    if deleted_comment_id is not None and last - created >= 3 and author:
        written, gone = created + (last - created) // 3, created + 2 * (last - created) // 3
        extra = (written, gone)
        comment = {"self": f"{issue['self']}/comment/{deleted_comment_id}", "id": str(deleted_comment_id),
                   "author": author, "body": text.adf_text("Wrong ticket, sorry: please ignore."),
                   "updateAuthor": author, "created": _clock(written), "updated": _clock(written), "jsdPublic": True}
        planned += _comment_pair(written, comment, "created", "issue_commented")
        planned += _comment_pair(gone, comment, "deleted", "issue_comment_deleted")
    timeline = _Timeline(issue, users, extra)
    planned.sort(key=lambda p: (p[0], p[1]))
    deliveries = []
    for t, _, event, rest, partial in planned:
        body = _body(t, event.split("/", 1)[0], timeline.issue_at(t, partial), **rest)
        deliveries.append(Delivery(event, issue["key"], t, json.dumps(body, ensure_ascii=False,
                                                                      separators=(",", ":")).encode()))
    return deliveries


def _comment_pair(t: int, comment: dict[str, Any], what: str,
                  update_type: str) -> list[tuple[int, int, str, dict[str, Any], bool]]:
    """`comment_<what>` (partial issue) and the `jira:issue_updated` Jira raises beside it (whole issue)."""
    return [(t, 2, f"comment_{what}", {"comment": comment}, True),
            (t, 3, f"jira:issue_updated/{update_type}", {
                "issue_event_type_name": update_type, "user": comment.get("author"), "comment": comment}, False)]
