"""A played ticket `Life` as a Jira Cloud issue object, in the shape search/jql returns it.

Shapes: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get
(issue with `expand=changelog`), changelog items as Cloud writes them (`fieldId` on system
fields, Rank as a custom field whose values are empty and whose toString says "Ranked higher"),
user objects with `accountId` and usually no `emailAddress`, rich text as ADF.
"""
from __future__ import annotations

from datetime import date
from operator import itemgetter
from typing import Any

from simulator import text
from simulator.lifecycle import Life
from simulator.people import Person

TYPE_IDS = {"Bug": "10004", "Story": "10001", "Task": "10002", "Improvement": "10005", "Incident": "10006"}
# name: (status id, category key, category id, category name, colour)
STATUSES = {
    "Backlog": ("10000", "new", 2, "To Do", "blue-gray"),
    "Triage": ("10001", "new", 2, "To Do", "blue-gray"),
    "Refinement": ("10002", "new", 2, "To Do", "blue-gray"),
    "In Progress": ("3", "indeterminate", 4, "In Progress", "yellow"),
    "In Review": ("10003", "indeterminate", 4, "In Progress", "yellow"),
    "In QA": ("10004", "indeterminate", 4, "In Progress", "yellow"),
    "UAT": ("10005", "indeterminate", 4, "In Progress", "yellow"),
    "Ready for Release": ("10006", "indeterminate", 4, "In Progress", "yellow"),
    "Deployed": ("10007", "done", 3, "Done", "green"),
    "Done": ("10008", "done", 3, "Done", "green"),
    "Won't Do": ("10009", "done", 3, "Done", "green"),
}
RESOLUTIONS = {"Deployed": ("10000", "Done"), "Done": ("10000", "Done"), "Won't Do": ("10001", "Won't Do")}
PRIORITY_IDS = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
RANK_FIELD = "customfield_10019"
_EPOCH = date(1970, 1, 1).toordinal()


class Clock:
    """Jira's time format, `2025-03-04T10:15:30.000+0000`, with the date and hour part cached."""

    def __init__(self) -> None:
        self._hours: dict[int, str] = {}

    def __call__(self, t: int) -> str:
        hour, seconds = divmod(t, 3600)
        prefix = self._hours.get(hour)
        if prefix is None:
            days, in_day = divmod(hour, 24)
            prefix = self._hours[hour] = f"{date.fromordinal(_EPOCH + days).isoformat()}T{in_day:02d}:"
        minutes, seconds = divmod(seconds, 60)
        return f"{prefix}{minutes:02d}:{seconds:02d}.000+0000"


class Renderer:
    """Turns a played `Life` into a Jira Cloud issue object; owns the id counters."""

    def __init__(self, base_url: str, end: int) -> None:
        self.base, self.end, self.clock = base_url.rstrip("/"), end, Clock()
        self.history_id, self.comment_id = 10000, 10000
        self._users: dict[str, dict[str, Any]] = {}

    def user(self, person: Person | None) -> dict[str, Any] | None:
        if person is None:
            return None
        cached = self._users.get(person.handle)
        if cached is None:
            cached = {"self": f"{self.base}/rest/api/3/user?accountId={person.account_id}",
                      "accountId": person.account_id}
            if person.email:
                cached["emailAddress"] = person.email
            cached.update(displayName=person.name, active=person.active, timeZone=person.time_zone,
                          accountType=person.account_type)
            self._users[person.handle] = cached
        return cached.copy()  # a fresh object each time: callers may change what they get

    def status(self, name: str) -> dict[str, Any]:
        status_id, key, category_id, category, colour = STATUSES[name]
        return {"self": f"{self.base}/rest/api/3/status/{status_id}", "description": "", "name": name, "id": status_id,
                "statusCategory": {"self": f"{self.base}/rest/api/3/statuscategory/{category_id}", "id": category_id,
                                   "key": key, "colorName": colour, "name": category}}

    def issue(self, life: Life, issue_id: int, key: str, project: tuple[str, str, str],
              summary: str, blocks: text.Blocks) -> tuple[dict[str, Any], int]:
        """The issue as of the end of the period, and its `updated` time in epoch seconds."""
        fmt, end = self.clock, self.end
        status, assignee, priority, labels = "Backlog", None, life.priority, list(life.labels)
        resolved: int | None = None
        histories = []
        updated = life.created
        # (time, sequence) is unique per intent, so plain tuple order never compares the rest.
        for t, _, actor, changes in sorted(life.intents):
            if t >= end:
                break  # after the end of the period: has not happened yet
            items = []
            for field, value in changes:
                if field == "status" and value != status:
                    items.append(_item("status", "jira", "status", STATUSES[status][0], status, STATUSES[value][0], value))
                    if value in RESOLUTIONS and resolved is None:
                        resolution_id, resolution = RESOLUTIONS[value]
                        items.append(_item("resolution", "jira", "resolution", None, None, resolution_id, resolution))
                        resolved = t
                    status = value
                elif field == "assignee" and value is not assignee:
                    items.append(_item("assignee", "jira", "assignee", _account(assignee), _name(assignee),
                                       _account(value), _name(value)))
                    assignee = value
                elif field == "priority" and value != priority:
                    items.append(_item("priority", "jira", "priority", PRIORITY_IDS[priority], priority,
                                       PRIORITY_IDS[value], value))
                    priority = value
                elif field in ("label_add", "label_toggle") and value not in labels:
                    items.append(_item("labels", "jira", "labels", None, " ".join(labels), None,
                                       " ".join(labels + [value])))
                    labels = labels + [value]
                elif field == "label_toggle":
                    rest = [label for label in labels if label != value]
                    items.append(_item("labels", "jira", "labels", None, " ".join(labels), None, " ".join(rest)))
                    labels = rest
                elif field == "rank":
                    items.append(_item("Rank", "custom", RANK_FIELD, "", "", "", f"Ranked {value}"))
                elif field == "summary":
                    new = text.apply_tweak(summary, value)
                    items.append(_item("summary", "jira", "summary", None, summary, None, new))
                    summary = new
                elif field == "description":
                    new_blocks = text.apply_edit(blocks, value)
                    items.append(_item("description", "jira", "description", None, text.plain(blocks), None,
                                       text.plain(new_blocks)))
                    blocks = new_blocks
            if items:  # a change to the value already there is no change: Jira records nothing
                updated = t
                self.history_id += 1
                history = {"id": str(self.history_id), "author": self.user(actor), "created": fmt(t), "items": items}
                if actor is None:
                    del history["author"]
                histories.append(history)
        comments = []
        for t, edited, author, body in sorted(life.comments, key=itemgetter(0)):
            if t >= end:
                break
            changed = t + edited if t + edited < end else t
            updated = max(updated, changed)
            self.comment_id += 1
            written = fmt(t)
            comment: dict[str, Any] = {
                "self": f"{self.base}/rest/api/3/issue/{issue_id}/comment/{self.comment_id}",
                "id": str(self.comment_id), "author": self.user(author), "body": text.adf_text(body),
                "updateAuthor": self.user(author), "created": written,
                "updated": written if changed == t else fmt(changed), "jsdPublic": True,
            }
            if author is None:
                del comment["author"], comment["updateAuthor"]  # deleted account: Cloud leaves the author out
            comments.append(comment)
        project_key, project_name, project_id = project
        type_id = TYPE_IDS[life.type_name]
        return {
            "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
            "id": str(issue_id),
            "self": f"{self.base}/rest/api/3/issue/{issue_id}",
            "key": key,
            "changelog": {"startAt": 0, "maxResults": len(histories), "total": len(histories), "histories": histories},
            "fields": {
                "summary": summary,
                "issuetype": {"self": f"{self.base}/rest/api/3/issuetype/{type_id}", "id": type_id,
                              "name": life.type_name, "subtask": False, "hierarchyLevel": 0},
                "status": self.status(status),
                "project": {"self": f"{self.base}/rest/api/3/project/{project_id}", "id": project_id,
                            "key": project_key, "name": project_name, "projectTypeKey": "software", "simplified": False},
                "reporter": self.user(life.reporter),
                "creator": self.user(life.reporter),
                "assignee": self.user(assignee),
                "created": fmt(life.created),
                "updated": fmt(updated),
                "resolutiondate": fmt(resolved) if resolved is not None else None,
                "labels": labels,
                "priority": {"self": f"{self.base}/rest/api/3/priority/{PRIORITY_IDS[priority]}",
                             "name": priority, "id": PRIORITY_IDS[priority]},
                "comment": {"comments": comments, "self": f"{self.base}/rest/api/3/issue/{issue_id}/comment",
                            "maxResults": len(comments), "total": len(comments), "startAt": 0},
                "description": text.adf(blocks),
            },
        }, updated


def _account(person: Person | None) -> str | None:
    return None if person is None else person.account_id


def _name(person: Person | None) -> str | None:
    return None if person is None else person.name


def _item(field: str, fieldtype: str, field_id: str, old: str | None, old_text: str | None,
          new: str | None, new_text: str | None) -> dict[str, Any]:
    return {"field": field, "fieldtype": fieldtype, "fieldId": field_id,
            "from": old, "fromString": old_text, "to": new, "toString": new_text}
