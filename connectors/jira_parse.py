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
from typing import Any, Callable

from connectors.errors import SkippableError
from connectors.jira_context import RANK, IssueAccounts, JiraContext, user_id
from connectors.records import Event, ParsedTicket, Ticket
from connectors.times import iso_datetime

KindOf = Callable[[str, tuple[str, ...]], str]
# Longer names than these are no real key, status or type; cutting one would rename it silently.
KEY_LIMIT = 200
NAME_LIMIT = 200
PRIORITY_LIMIT = 100

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


def site_of(raw: dict[str, Any]) -> str | None:
    """The Jira site an issue comes from: its `self` URL up to `/rest/` (`https://acme.atlassian.net`)."""
    self_link = raw.get("self")
    if isinstance(self_link, str) and "/rest/" in self_link:
        return self_link.split("/rest/", 1)[0].rstrip("/") or None
    return None


def _issue_url(site: str | None, key: str, base_url: str | None) -> str | None:
    base = base_url or site
    return f"{base.rstrip('/')}/browse/{key}" if base else None


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


def missing_history(raw: dict[str, Any]) -> list[str]:
    """What the issue's own document says it leaves out: changelog entries and comments beyond
    what it holds (`total` above the count), or no changelog at all (exported without
    `expand=changelog`, so every change, close and assignment is unknown)."""
    missing = []
    changelog = raw.get("changelog")
    if changelog is None:
        missing.append("no changelog (exported without expand=changelog)")
    else:
        held, total = len(histories_of(raw)), changelog.get("total")
        if _whole(total) and total > held:
            missing.append(f"changelog {held} of {total} entries")
    fields = raw.get("fields") if isinstance(raw.get("fields"), dict) else {}
    comment = fields.get("comment")
    if comment is None:
        missing.append("no comments (the comment field was not exported)")
    elif isinstance(comment, dict):
        held, total = len(comments_of(fields)), comment.get("total")
        if _whole(total) and total > held:
            missing.append(f"comments {held} of {total}")
    return missing


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_ITEM_KINDS = {"status": "transition", "assignee": "assign", "labels": "label"}


def _item_kind(item: dict[str, Any], context: JiraContext) -> tuple[str, str | None]:
    """The event kind of one changelog item and the field name it is recorded under."""
    # Cloud names system fields by `fieldId`; Server only has `field` (lower-case for system
    # fields, the display name for custom ones, which carry fieldtype "custom").
    name = item.get("field")
    field = str(name) if name is not None else None
    if item.get("fieldtype") == "custom":
        return "field", RANK if context.is_rank(item) else field
    kind = _ITEM_KINDS.get(str(item.get("fieldId") or item.get("field") or "").lower(), "field")
    return kind, field if kind == "field" else None


def _history_events(histories: list[Any], accounts: IssueAccounts, context: JiraContext) -> list[Event]:
    events = []
    for position, history in enumerate(histories):
        if not isinstance(history, dict):
            raise SkippableError(f"changelog entry #{position + 1} is a JSON {_json_type(history)}, not an object")
        items = history.get("items", [])
        if not isinstance(items, list):
            raise SkippableError(f"changelog entry #{position + 1} has 'items' that is a JSON {_json_type(items)}, not an array")
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
            kind, field = _item_kind(item, context)
            from_value, to_value = item.get("fromString"), item.get("toString")
            if kind == "assign":
                # from/to hold accountIds (Cloud), legacy names (Cloud's transition years) or user
                # keys (Server); *String the display names.
                from_value = accounts.value(_str_or_none(item.get("from")), item.get("fromString"))
                to_value = accounts.value(_str_or_none(item.get("to")), item.get("toString"))
            events.append(Event(
                external_id=f"h{history_id}.{index}",
                kind=kind,
                at=at,
                actor=actor,
                field=field,
                from_value=_str_or_none(from_value),
                to_value=_str_or_none(to_value),
            ))
    return events


def _str_or_none(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _comment_events(comments: list[Any], accounts: IssueAccounts) -> list[Event]:
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


def _issue_id(value: object) -> str:
    """Jira issue ids are whole numbers (a long); anything else is not an id, whatever its text."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return str(value)
    if isinstance(value, str) and value.isdigit() and value.isascii() and len(value) <= 19:
        return value
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    raise SkippableError(f"has id {shown}, which is not a Jira issue id (a whole number)")


def _text(fields: dict[str, Any], name: str, what: str, limit: int) -> str:
    """A short name out of the issue (key, status, type): refused when absurdly long, since cutting
    it would silently turn it into another name."""
    value = fields.get(name)
    text = value if isinstance(value, str) else _name(value) or ""
    if len(text) > limit:
        raise SkippableError(f"has a {what} of {len(text):,} characters; at most {limit} are accepted")
    return text


def _labels(fields: dict[str, Any]) -> tuple[str, ...]:
    labels = fields.get("labels")
    if labels is None:
        return ()
    if not isinstance(labels, list):
        raise SkippableError(f"has 'labels' that is a JSON {_json_type(labels)}, not an array")
    for label in labels:
        if not isinstance(label, str):
            raise SkippableError(f"has a label that is a JSON {_json_type(label)}, not a string")
    return tuple(labels)


def _check_shapes(raw: dict[str, Any], fields: dict[str, Any]) -> None:
    """Refuse what would otherwise be dropped silently: a changelog or comment list of the wrong type."""
    changelog = raw.get("changelog")
    if changelog is not None:
        if not isinstance(changelog, dict):
            raise SkippableError(f"has 'changelog' that is a JSON {_json_type(changelog)}, not an object")
        histories = changelog.get("histories")
        if histories is not None and not isinstance(histories, list):
            raise SkippableError(f"has 'changelog.histories' that is a JSON {_json_type(histories)}, not an array")
    comment = fields.get("comment")
    listed = comment.get("comments") if isinstance(comment, dict) else comment
    if listed is not None and not isinstance(listed, list):
        raise SkippableError(f"has 'fields.comment' holding a JSON {_json_type(listed)}, not a list of comments")


def parse_issue(
    raw: object, source: str, *, kind_of: KindOf | None = None, base_url: str | None = None,
    context: JiraContext | None = None,
) -> ParsedTicket:
    """One Jira issue (search hit with `expand=changelog`, or GET issue) as a ParsedTicket.

    `context` carries what the run has learnt across issues (user ids, the rank field); without
    one, only the issue's own user objects are known. Raises SkippableError naming the problem
    when `raw` is not a usable issue.
    """
    if not isinstance(raw, dict):
        raise SkippableError(f"is a JSON {_json_type(raw)}, not an issue object")
    missing = [name for name in ("id", "key", "fields") if raw.get(name) in (None, "")]
    if missing:
        raise SkippableError(f"has no {' or '.join(missing)}; not a Jira issue")
    fields = raw["fields"]
    if not isinstance(fields, dict):
        raise SkippableError("has 'fields' that is not an object")
    external_id = _issue_id(raw["id"])
    key = str(raw["key"])
    if len(key) > KEY_LIMIT:
        raise SkippableError(f"has a key of {len(key):,} characters; at most {KEY_LIMIT} are accepted")
    _check_shapes(raw, fields)
    context = context or JiraContext()
    accounts = IssueAccounts(context.users)
    # Every user object of the issue first, so a changelog value can name a user seen only later in it.
    context.users.learn_all([fields.get("reporter"), fields.get("creator"), fields.get("assignee")]
                            + [h.get("author") for h in histories_of(raw) if isinstance(h, dict)]
                            + [c.get("author") for c in comments_of(fields) if isinstance(c, dict)])
    reporter = accounts.user(fields.get("reporter"))
    creator = accounts.user(fields.get("creator"))
    assignee = accounts.user(fields.get("assignee"))
    created = parse_datetime(fields.get("created"), "created")
    updated = parse_datetime(fields.get("updated"), "updated")
    if updated < created:
        raise SkippableError(f"was updated ({updated:%Y-%m-%d %H:%M} UTC) before it was created ({created:%Y-%m-%d %H:%M} UTC)")
    labels = _labels(fields)
    type_name = _text(fields, "issuetype", "type name", NAME_LIMIT)
    project = fields.get("project")
    site = site_of(raw)
    ticket = Ticket(
        source=source,
        external_id=external_id,
        key=key,
        project=str(project.get("key")) if isinstance(project, dict) and project.get("key") else key.rsplit("-", 1)[0],
        type_name=type_name,
        kind=(kind_of or _other)(type_name, labels),
        title=fields.get("summary") if isinstance(fields.get("summary"), str) else "",
        status=_text(fields, "status", "status name", NAME_LIMIT),
        created=created,
        updated=updated,
        resolved=_optional_datetime(fields.get("resolutiondate"), "resolutiondate"),
        url=_issue_url(site, key, base_url),
        reporter=reporter,
        assignee=assignee,
        priority=_text(fields, "priority", "priority name", PRIORITY_LIMIT) or None,
        labels=labels,
        site=base_url.rstrip("/") if base_url else site,
        resolution=_text(fields, "resolution", "resolution name", NAME_LIMIT) or None,
    )
    events = [Event(external_id="created", kind="created", at=created, actor=reporter or creator)]
    events += _history_events(histories_of(raw), accounts, context)
    events += _comment_events(comments_of(fields), accounts)
    events.sort(key=lambda event: (event.at, event.external_id))
    return ParsedTicket(ticket=ticket, accounts=accounts.all(), events=events,
                        incomplete=tuple(missing_history(raw)))


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
        errors = doc.get("errors")
        messages = doc.get("errorMessages") or (list(errors.values()) if isinstance(errors, dict) else errors)
        messages = messages if isinstance(messages, list) else [messages]
        raise SkippableError(f"is a Jira error response ({'; '.join(map(str, messages)) or 'no message'}), not issues")
    if isinstance(doc, dict):
        keys = ", ".join(sorted(map(str, doc))[:5]) or "no keys"
        raise SkippableError(f"is an object with {keys}; expected a Jira search response ('issues') or an issue ('key', 'fields')")
    raise SkippableError(f"is a JSON {_json_type(doc)}; expected a Jira search response or an issue object")
