"""Jira issue JSON (REST API v2 and v3, Cloud and Server/DC) -> neutral records.

Pure functions, no HTTP: the live sync (`connectors.jira`), the offline import and the demo
all go through `parse_issue`. Field shapes: https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-issueidorkey-get
and https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-getIssue
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from connectors.errors import SkippableError
from connectors.records import Account, Event, ParsedTicket, Ticket, account_ref
from connectors.times import iso_datetime

TRACKER = "jira"
KindOf = Callable[[str, tuple[str, ...]], str]

# Epoch numbers above this are milliseconds: 10^11 seconds is the year 5138.
_MS_THRESHOLD = 10**11
_DIGITS = re.compile(r"-?\d+(\.\d+)?")


def _json_type(value: object) -> str:
    """The JSON name of a parsed value's type, for messages about wrong shapes."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _other(type_name: str, labels: tuple[str, ...]) -> str:
    return "other"


def parse_datetime(value: object, what: str) -> datetime:
    """A Jira time as an aware UTC datetime.

    Jira writes `2024-03-04T10:15:30.000+0000` (offset without colon) or `...+01:00`; the bulk
    changelog examples use epoch numbers (seconds, or milliseconds when above 10^11).
    """
    if type(value) is str and value[4:5] == "-":  # the usual ISO text, checked fully by iso_datetime
        return iso_datetime(value, what)
    if isinstance(value, bool) or value is None:
        raise SkippableError(f"{what} is {value!r}, not a time")
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = float(value)
    if isinstance(value, (int, float)):
        seconds = value / 1000 if abs(value) > _MS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise SkippableError(f"{what} {value!r} is out of range") from None
    if not isinstance(value, str):
        raise SkippableError(f"{what} is a {type(value).__name__}, not a time")
    return iso_datetime(value, what)


def _optional_datetime(value: object, what: str) -> datetime | None:
    return None if value in (None, "") else parse_datetime(value, what)


def _name(obj: object) -> str | None:
    """The `name` of a Jira named object (status, issuetype, priority), or None."""
    if isinstance(obj, dict) and isinstance(obj.get("name"), str):
        return obj["name"]
    return None


def user_id(user: object) -> str | None:
    """The stable id of a Jira user object: Cloud `accountId`, else Server `name`, else `key`."""
    if not isinstance(user, dict):
        return None
    for attribute in ("accountId", "name", "key"):
        value = user.get(attribute)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


class _Accounts:
    """Collects the accounts an issue names, merging what each mention tells about them."""

    def __init__(self) -> None:
        self._by_id: dict[str, Account] = {}
        self._complete: dict[str, str] = {}  # external id -> ref, once name and email are both known
        # Server/DC: changelog assignee values hold the user *key*, which differs from the user
        # name for users created since Jira 8.3 (`JIRAUSER10101` vs `k.olsen`).
        self._name_of_key: dict[str, str] = {}

    def learn_keys(self, users: Iterable[object]) -> None:
        """Note the key → name of Server user objects, so assignee changes name the same account."""
        for user in users:
            if isinstance(user, dict) and not user.get("accountId"):
                key, name = user.get("key"), user.get("name")
                if isinstance(key, str) and isinstance(name, str) and key and name and key != name:
                    self._name_of_key[key] = name

    def named(self, value: str | None) -> str | None:
        """An account id from a changelog value: a Server user key becomes that user's name."""
        return self._name_of_key.get(value, value) if value else value

    def add(self, external_id: str | None, display_name: object = None, email: object = None) -> str | None:
        if not external_id:
            return None
        done = self._complete.get(external_id)
        if done is not None:
            return done
        display = display_name if isinstance(display_name, str) and display_name else None
        mail = email if isinstance(email, str) and email else None
        known = self._by_id.get(external_id)
        if known is None:
            self._by_id[external_id] = Account(TRACKER, external_id, display, mail)
        elif (known.display_name is None and display) or (known.email is None and mail):
            self._by_id[external_id] = Account(
                TRACKER, external_id, known.display_name or display, known.email or mail
            )
        ref = account_ref(TRACKER, external_id)
        account = self._by_id[external_id]
        if account.display_name and account.email:
            self._complete[external_id] = ref
        return ref

    def user(self, user: object) -> str | None:
        """Record a Jira user object; its account ref, or None (anonymous, deleted, automation)."""
        if not isinstance(user, dict):
            return None
        return self.add(user_id(user), user.get("displayName"), user.get("emailAddress"))

    def all(self) -> list[Account]:
        return list(self._by_id.values())


def _issue_url(raw: dict[str, Any], key: str, base_url: str | None) -> str | None:
    if base_url:
        return f"{base_url.rstrip('/')}/browse/{key}"
    self_link = raw.get("self")
    if isinstance(self_link, str) and "/rest/" in self_link:
        return f"{self_link.split('/rest/', 1)[0]}/browse/{key}"
    return None


def comments_of(fields: dict[str, Any]) -> list[Any]:
    """The comments embedded in `fields.comment`: a page object in search/GET issue, a bare list in some exports."""
    comment = fields.get("comment")
    if isinstance(comment, dict):
        comment = comment.get("comments")
    return comment if isinstance(comment, list) else []


def histories_of(raw: dict[str, Any]) -> list[Any]:
    """The change histories embedded by `expand=changelog`."""
    changelog = raw.get("changelog")
    histories = changelog.get("histories") if isinstance(changelog, dict) else None
    return histories if isinstance(histories, list) else []


_ITEM_KINDS = {"status": "transition", "assignee": "assign", "labels": "label"}


def _item_kind(item: dict[str, Any]) -> str:
    # Cloud names system fields by `fieldId`; Server only has `field` (lower-case for system
    # fields, the display name for custom ones, which carry fieldtype "custom").
    if item.get("fieldtype") == "custom":
        return "field"
    name = str(item.get("fieldId") or item.get("field") or "").lower()
    return _ITEM_KINDS.get(name, "field")


def _history_events(histories: list[Any], accounts: _Accounts) -> list[Event]:
    events = []
    for position, history in enumerate(histories):
        if not isinstance(history, dict):
            raise SkippableError(f"changelog entry #{position + 1} is a JSON {_json_type(history)}, not an object")
        items = history.get("items") if isinstance(history.get("items"), list) else []
        history_id = history.get("id")
        if history_id in (None, ""):
            # Some exports and hand-made fixtures drop the id; a digest of the content is just as
            # stable, so re-ingesting the same history still changes nothing.
            content = json.dumps([history.get("created"), user_id(history.get("author")), items], sort_keys=True, default=str)
            history_id = "~" + hashlib.sha1(content.encode()).hexdigest()[:12]
        at = parse_datetime(history.get("created"), f"changelog entry {history_id} time")
        actor = accounts.user(history.get("author"))
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            kind = _item_kind(item)
            from_value, to_value = item.get("fromString"), item.get("toString")
            if kind == "assign":
                # from/to hold accountIds (Cloud) or user names (Server); *String the display names.
                from_value = accounts.add(accounts.named(_str_or_none(item.get("from"))), item.get("fromString"))
                to_value = accounts.add(accounts.named(_str_or_none(item.get("to"))), item.get("toString"))
            events.append(Event(
                external_id=f"h{history_id}.{index}",
                kind=kind,
                at=at,
                actor=actor,
                field=str(item.get("field")) if kind == "field" and item.get("field") is not None else None,
                from_value=_str_or_none(from_value),
                to_value=_str_or_none(to_value),
            ))
    return events


def _str_or_none(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _comment_events(comments: list[Any], accounts: _Accounts) -> list[Event]:
    # Bodies are plain text (v2) or Atlassian Document Format (v3); neither is read or stored.
    events = []
    for position, comment in enumerate(comments):
        if not isinstance(comment, dict) or comment.get("id") in (None, ""):
            raise SkippableError(f"comment #{position + 1} has no id")
        events.append(Event(
            external_id=f"c{comment['id']}",
            kind="comment",
            at=parse_datetime(comment.get("created"), f"comment {comment['id']} time"),
            actor=accounts.user(comment.get("author")),
        ))
    return events


def parse_issue(
    raw: object, source: str, *, kind_of: KindOf | None = None, base_url: str | None = None
) -> ParsedTicket:
    """One Jira issue (search hit with `expand=changelog`, or GET issue) as a ParsedTicket.

    Raises SkippableError naming the problem when `raw` is not a usable issue.
    """
    if not isinstance(raw, dict):
        raise SkippableError(f"is a JSON {_json_type(raw)}, not an issue object")
    missing = [name for name in ("id", "key", "fields") if raw.get(name) in (None, "")]
    if missing:
        raise SkippableError(f"has no {' or '.join(missing)}; not a Jira issue")
    fields = raw["fields"]
    if not isinstance(fields, dict):
        raise SkippableError("has 'fields' that is not an object")
    key = str(raw["key"])
    accounts = _Accounts()
    reporter = accounts.user(fields.get("reporter"))
    creator = accounts.user(fields.get("creator"))
    assignee = accounts.user(fields.get("assignee"))
    created = parse_datetime(fields.get("created"), "created")
    labels = tuple(str(label) for label in fields.get("labels") or () if label is not None)
    type_name = _name(fields.get("issuetype")) or ""
    project = fields.get("project")
    ticket = Ticket(
        source=source,
        external_id=str(raw["id"]),
        key=key,
        project=str(project.get("key")) if isinstance(project, dict) and project.get("key") else key.rsplit("-", 1)[0],
        type_name=type_name,
        kind=(kind_of or _other)(type_name, labels),
        title=fields.get("summary") if isinstance(fields.get("summary"), str) else "",
        status=_name(fields.get("status")) or "",
        created=created,
        updated=parse_datetime(fields.get("updated"), "updated"),
        resolved=_optional_datetime(fields.get("resolutiondate"), "resolutiondate"),
        url=_issue_url(raw, key, base_url),
        reporter=reporter,
        assignee=assignee,
        priority=_name(fields.get("priority")),
        labels=labels,
    )
    events = [Event(external_id="created", kind="created", at=created, actor=reporter or creator)]
    histories = histories_of(raw)
    accounts.learn_keys([fields.get("reporter"), fields.get("creator"), fields.get("assignee")]
                        + [h.get("author") for h in histories if isinstance(h, dict)]
                        + [c.get("author") for c in comments_of(fields) if isinstance(c, dict)])
    events += _history_events(histories, accounts)
    events += _comment_events(comments_of(fields), accounts)
    events.sort(key=lambda event: (event.at, event.external_id))
    return ParsedTicket(ticket=ticket, accounts=accounts.all(), events=events)


def issues_in_document(doc: object) -> list[dict[str, Any]]:
    """The issues of one exported document: a search response (v2 `search` or v3 `search/jql`) or one issue.

    Raises SkippableError saying what the document is instead.
    """
    if isinstance(doc, dict) and "issues" in doc:
        issues = doc["issues"]
        if not isinstance(issues, list):
            raise SkippableError(f"has 'issues' that is a JSON {_json_type(issues)}, not an array")
        for position, issue in enumerate(issues):
            if not isinstance(issue, dict):
                raise SkippableError(f"has issues[{position}] that is a JSON {_json_type(issue)}, not an issue object")
        return issues
    if isinstance(doc, dict) and "key" in doc and "fields" in doc:
        return [doc]
    if isinstance(doc, dict) and ("errorMessages" in doc or "errors" in doc):
        messages = doc.get("errorMessages") or list((doc.get("errors") or {}).values())
        raise SkippableError(f"is a Jira error response ({'; '.join(map(str, messages)) or 'no message'}), not issues")
    if isinstance(doc, dict):
        keys = ", ".join(sorted(map(str, doc))[:5]) or "no keys"
        raise SkippableError(f"is an object with {keys}; expected a Jira search response ('issues') or an issue ('key', 'fields')")
    raise SkippableError(f"is a JSON {_json_type(doc)}; expected a Jira search response or an issue object")
