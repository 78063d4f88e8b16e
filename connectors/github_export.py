"""GitHub REST exports: recognise each item by its shape, group it by ticket across files.

Pure: no database, no Flask. An organisation that cannot give Partnerscope a token can still
export what the REST API returns (https://docs.github.com/en/rest/issues ,
https://docs.github.com/en/rest/pulls): any mix of these, in any files, is grouped by
`owner/repo#number` and handed to `github_parse.parse_issue` once per ticket, as a sync does.

| item | recognised by | its ticket |
|---|---|---|
| issue (issues listing, search `items`) | `number` and `repository_url` or `html_url` | repository and number |
| pull request (pulls API) | `number`, `head`, `base` | its `url` (…/pulls/N) or `html_url` |
| issue event (repository listing) | `event` and an embedded `issue` or an `issue_url` | that issue |
| timeline event | `event`, no issue: GitHub leaves it out | the one ticket the rest of its page names |
| comment (timeline: `event` "commented") | `issue_url` and `body` | `issue_url` |
| review (timeline: `event` "reviewed") | `pull_request_url` and `state` | `pull_request_url` |

A timeline (…/issues/N/timeline) names its issue only in its comments and reviews; a
cross-referenced event's `source` is the *other* issue, so it must not be used. A timeline
event is therefore tied to the ticket its page (one response) names, when it names exactly
one; otherwise it is reported and left out. An event from a repository listing embeds its
issue whole: that copy stands in for the issue when the export has no issues listing.

Grouping needs every file first, so only what the parser reads is kept (`github_parse.slim`
and the field lists below), as compact JSON bytes: about a tenth of the export's size.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import orjson

from connectors.exports import MAX_TEXT, ExportError, Item
from connectors.github_parse import EVENT_FIELDS, EVENT_TYPES, repo_of, slim

#: Fields kept of each item: what `github_parse.parse_issue` reads, and for pull requests what
#: it may read of the pulls API's object (`merged_at`, `merged_by`, branches).
ISSUE_FIELDS = ("number", "title", "state", "state_reason", "created_at", "updated_at", "closed_at", "html_url",
                "repository_url", "user", "assignee", "assignees", "labels", "pull_request", "type", "body")
PULL_FIELDS = ("number", "title", "body", "state", "created_at", "updated_at", "closed_at", "merged_at", "merged",
               "merged_by", "merge_commit_sha", "user", "assignee", "assignees", "labels", "html_url", "url",
               "issue_url", "head", "base", "draft")
COMMENT_FIELDS = ("id", "user", "created_at", "updated_at")
REVIEW_FIELDS = ("id", "user", "state", "submitted_at", "commit_id")

_API_URL = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/(?:issues|pulls)/(?P<number>\d+)/?$")
_WEB_URL = re.compile(r"^https?://[^/]+/(?P<repo>[^/]+/[^/]+)/(?:issues|pull)/(?P<number>\d+)/?$")
Note = Callable[[str | None, str, bool], None]  # (ticket or position, message, refused)


@dataclass(slots=True)
class Ticket:
    """What the export holds of one ticket, slim and serialised; `files` is a bit per file."""

    issue: bytes | None = None
    issue_updated: str = ""
    issue_embedded: bool = False  # the copy an event embeds, not the issues listing's own
    pull: bytes | None = None
    pull_updated: str = ""
    events: list[bytes] = field(default_factory=list)
    comments: list[bytes] = field(default_factory=list)
    reviews: list[bytes] = field(default_factory=list)
    files: int = 0


@dataclass(slots=True)
class TicketInput:
    """One ticket's items, decoded, as `parse_issue` takes them."""

    key: str
    repo: str
    issue: dict[str, Any] | None
    pull: dict[str, Any] | None
    events: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    files: int


def kind_of(raw: Any) -> str | None:
    """The kind of a REST item by its shape (see the module docstring), None when it is none of them."""
    if not isinstance(raw, dict):
        return None
    event = raw.get("event")
    if isinstance(event, str):
        if event == "commented" and "issue_url" in raw:
            return "comment"
        if event == "reviewed" and "pull_request_url" in raw:
            return "review"
        return "event"
    if "number" in raw and isinstance(raw.get("head"), dict) and isinstance(raw.get("base"), dict):
        return "pull"
    if "number" in raw and "title" in raw and ("repository_url" in raw or _WEB_URL.search(str(raw.get("html_url")))):
        return "issue"  # not a milestone, which has a number, a title and an html_url …/milestone/N
    if "pull_request_url" in raw and "diff_hunk" in raw:
        return "review comment"
    if "state" in raw and ("pull_request_url" in raw or "submitted_at" in raw):
        return "review"
    if "tag_name" in raw:
        return "release"
    if "environment" in raw and "sha" in raw:
        return "deployment"
    if "body" in raw and ("issue_url" in raw or "user" in raw and "created_at" in raw and "id" in raw):
        return "comment"
    return None


def _key_from_url(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    found = _API_URL.search(url) or _WEB_URL.search(url)
    return f"{found['repo']}#{int(found['number'])}" if found else None


def ticket_of(raw: dict[str, Any], kind: str) -> str | None:
    """`owner/repo#number` of the ticket an item belongs to, None when the item does not say."""
    if kind in ("issue", "pull"):
        repo = repo_of(raw) if kind == "issue" else None
        number = raw.get("number")
        if repo and isinstance(number, int) and not isinstance(number, bool):
            return f"{repo}#{number}"
        return _key_from_url(raw.get("url")) or _key_from_url(raw.get("html_url"))
    if kind == "event":
        issue = raw.get("issue")
        if isinstance(issue, dict):
            return ticket_of(issue, "issue")
        return _key_from_url(raw.get("issue_url"))
    if kind == "comment":
        return _key_from_url(raw.get("issue_url"))
    if kind == "review":
        return _key_from_url(raw.get("pull_request_url"))
    return None


def _users(value: Any) -> Any:
    return [slim(user, ("login", "name", "email", "type")) if isinstance(user, dict) else user
            for user in value] if isinstance(value, list) else value


def slim_item(raw: dict[str, Any], kind: str) -> dict[str, Any]:
    """The fields of an item the parser reads, users and labels included only as far as it reads them."""
    fields = {"issue": ISSUE_FIELDS, "pull": PULL_FIELDS, "event": EVENT_FIELDS, "comment": COMMENT_FIELDS,
              "review": REVIEW_FIELDS}[kind]
    if kind == "issue" and not isinstance(raw.get("pull_request"), dict):
        fields = tuple(name for name in fields if name != "body")  # only a pull request's body links tickets
    kept: dict[str, Any] = slim(raw, fields)  # type: ignore[assignment]
    if "assignees" in kept:
        kept["assignees"] = _users(kept["assignees"])
    if isinstance(kept.get("labels"), list):
        kept["labels"] = [{"name": label["name"]} if isinstance(label, dict) and "name" in label else label
                          for label in kept["labels"]]
    for name, inner in (("pull_request", ("url", "html_url", "merged_at")), ("head", ("ref", "label", "sha")),
                        ("base", ("ref", "label", "sha")), ("type", ("name",))):
        if isinstance(kept.get(name), dict):
            kept[name] = {key: kept[name][key] for key in inner if key in kept[name]}
    if kind == "review" and isinstance(kept.get("state"), str):
        kept["state"] = kept["state"].upper()  # the timeline writes "approved", the reviews API "APPROVED"
    return kept


def _pack(value: dict[str, Any]) -> bytes:
    """Compact JSON of a slim item. orjson hands back its working buffer (4 KB for a 150-byte
    item); a copy of the exact size is what keeps a large export's grouping small."""
    return memoryview(orjson.dumps(value)).tobytes()


def _replaces(updated: str, embedded: bool, ticket: Ticket) -> bool:
    """Whether a copy of an issue replaces the one kept: the newest wins; at equal times (the same
    ISO format, so text order is time order) the issues listing's own copy beats an embedded one."""
    if ticket.issue is None or updated > ticket.issue_updated:
        return True
    return updated == ticket.issue_updated and (ticket.issue_embedded or not embedded)


class GitHubExport:
    """The tickets of every file read so far; a file's items join them only once the whole file was read."""

    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.names: list[str] = []

    def add_file(self, name: str, items: Iterable[Item], note: Note) -> None:
        """Read one file's items; ExportError (nothing of the file kept) when it is no GitHub export."""
        staged: dict[str, Ticket] = {}
        bit = 1 << len(self.names)
        pages: dict[int, set[str]] = {}  # page -> tickets its items name (two are enough to know)
        orphans: list[tuple[Item, dict[str, Any]]] = []  # timeline events waiting for their page's ticket
        left_out: dict[str, list[str]] = {}
        seen = False
        for item in items:
            if item.error:
                note(item.where, item.error, True)
                continue
            raw, kind = item.value, kind_of(item.value)
            if not seen and kind is None:
                raise ExportError(f"{item.where} is not a GitHub REST item (an issue, pull request, issue or "
                                  "timeline event, comment or review)")
            seen = True
            if kind not in ("issue", "pull", "event", "comment", "review"):
                left_out.setdefault(kind or "item of no known kind", []).append(item.where)
                continue
            key = ticket_of(raw, kind)
            if kind == "event" and key is not None and isinstance(raw.get("issue"), dict):
                self._add(staged, key, "issue", slim_item(raw["issue"], "issue"), bit, embedded=True)
            if kind == "event" and raw.get("event") not in EVENT_TYPES:
                continue  # subscribed, mentioned, committed, …: nothing anyone is responsible for
            if key is None:
                if kind == "event" and "issue" not in raw and "issue_url" not in raw:
                    orphans.append((item, slim_item(raw, kind)))
                else:
                    note(item.where, f"is a {kind} that names no issue or pull request; left out", True)
                continue
            found = pages.setdefault(item.page, set())
            if len(found) < 2:
                found.add(key)
            self._add(staged, key, kind, slim_item(raw, kind), bit)
            for path in item.cut:
                note(key, f"{path} was cut to {MAX_TEXT:,} characters", False)
        for item, event in orphans:
            named = pages.get(item.page, set())
            if len(named) == 1:
                self._add(staged, next(iter(named)), "event", event, bit)
            else:
                note(item.where, f"is a timeline event ({item.value.get('event')}) whose page names "
                     f"{'no' if not named else 'more than one'} issue; left out", True)
        for kind, wheres in left_out.items():
            shown = ", ".join(wheres[:3]) + (f" and {len(wheres) - 3:,} more" if len(wheres) > 3 else "")
            note(None, f"{len(wheres):,} {kind} items left out ({shown}): the import reads issues, pull "
                 "requests, issue and timeline events, comments and reviews", False)
        self.names.append(name)
        for key, ticket in staged.items():
            self._merge(key, ticket)

    @staticmethod
    def _add(tickets: dict[str, Ticket], key: str, kind: str, value: dict[str, Any], bit: int,
             embedded: bool = False) -> None:
        ticket = tickets.get(key)
        if ticket is None:
            ticket = tickets[key] = Ticket()
        ticket.files |= bit
        if kind in ("issue", "pull"):
            updated = str(value.get("updated_at") or "")
            if kind == "issue" and _replaces(updated, embedded, ticket):
                ticket.issue, ticket.issue_updated, ticket.issue_embedded = _pack(value), updated, embedded
            elif kind == "pull" and updated >= ticket.pull_updated:
                ticket.pull, ticket.pull_updated = _pack(value), updated
            return
        getattr(ticket, f"{kind}s").append(_pack(value))

    def _merge(self, key: str, new: Ticket) -> None:
        ticket = self.tickets.get(key)
        if ticket is None:
            self.tickets[key] = new
            return
        ticket.files |= new.files
        if new.issue is not None and _replaces(new.issue_updated, new.issue_embedded, ticket):
            ticket.issue, ticket.issue_updated, ticket.issue_embedded = new.issue, new.issue_updated, new.issue_embedded
        if new.pull is not None and new.pull_updated >= ticket.pull_updated:
            ticket.pull, ticket.pull_updated = new.pull, new.pull_updated
        ticket.events += new.events
        ticket.comments += new.comments
        ticket.reviews += new.reviews

    def file_names(self, files: int) -> list[str]:
        """The names of the files whose bits are set in `files`."""
        return [name for index, name in enumerate(self.names) if files >> index & 1]

    def take(self) -> Iterator[TicketInput]:
        """Every ticket once, decoded, in key order; each is dropped from memory as it is handed out."""
        for key in sorted(self.tickets):
            ticket = self.tickets.pop(key)
            loads = orjson.loads
            yield TicketInput(
                key, key.rsplit("#", 1)[0],
                loads(ticket.issue) if ticket.issue is not None else None,
                loads(ticket.pull) if ticket.pull is not None else None,
                [loads(e) for e in ticket.events], [loads(c) for c in ticket.comments],
                [loads(r) for r in ticket.reviews], ticket.files,
            )
