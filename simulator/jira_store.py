"""The fake Jira's issues, serialized once into the pieces its endpoints are assembled from.

Every issue is kept as JSON fragments per API version (v3: rich text as ADF, v2: plain text),
one per field and one per history and comment, with links rebased onto the server's own URL.
A page of 100 issues is then a join of ready bytes, never a `json.dumps` of nested dicts.
`touch()` changes issues the way a user would (a label added, `updated` moved on) and
re-serializes only those.
"""
from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from random import Random
from typing import Any, Collection, Sequence

from simulator.jql import Facts, parse

API_VERSIONS = ("2", "3")
_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"
_QUERY_CACHE = 64


def jira_time(moment: datetime) -> str:
    """Jira's timestamp format, `2025-03-04T10:15:30.000+0000`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _epoch(text: str) -> float:
    return datetime.strptime(text, _TIME).timestamp()


def adf_to_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format node: paragraphs and list items on their own lines."""
    if isinstance(node, str) or node is None:
        return node or ""
    if node.get("type") == "text":
        return str(node.get("text", ""))
    parts = [adf_to_text(child) for child in node.get("content") or []]
    if node.get("type") in ("doc", "bulletList", "orderedList", "listItem"):
        prefix = "* " if node.get("type") == "listItem" else ""
        return prefix + "\n".join(part for part in parts if part)
    return "".join(parts)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_dumps = _ENCODER.encode


@dataclass(frozen=True, slots=True)
class Piece:
    """One issue in one API version as JSON fragments (bytes)."""

    head: bytes  # `"expand":…,"id":…,"self":…,"key":…` without braces
    fields: tuple[tuple[str, bytes], ...]  # every field but `comment`, in Jira's order, as (name, `"name":value`)
    comment_at: int  # position of `comment` among the fields
    comment_self: bytes
    histories: tuple[bytes, ...]
    comments: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class View:
    """What an endpoint embeds: which fields (None: all), the changelog, and how much of each list."""

    include: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()
    changelog: bool = False
    max_histories: int | None = None  # None: all of them
    max_comments: int | None = None

    def wants(self, name: str) -> bool:
        return (self.include is None or name in self.include) and name not in self.exclude


def _page(items: tuple[bytes, ...], limit: int | None) -> tuple[tuple[bytes, ...], int]:
    """The embedded first page and its `maxResults`, as Cloud's search and `scenario.truncate` write them."""
    if limit is None or len(items) <= limit:
        return items, len(items)
    return items[:limit], limit


def render(piece: Piece, view: View) -> bytes:
    """One issue object as JSON bytes."""
    parts = [b"{", piece.head]
    if view.changelog:
        shown, limit = _page(piece.histories, view.max_histories)
        parts += [b',"changelog":{"startAt":0,"maxResults":%d,"total":%d,"histories":[' % (limit, len(piece.histories)),
                  b",".join(shown), b"]}"]
    chosen = [value for name, value in piece.fields if view.wants(name)]
    if view.wants("comment"):
        shown, limit = _page(piece.comments, view.max_comments)
        comment = b'"comment":{"comments":[%s],"self":%s,"maxResults":%d,"total":%d,"startAt":0}' % (
            b",".join(shown), piece.comment_self, limit, len(piece.comments))
        at = sum(1 for name, _ in piece.fields[:piece.comment_at] if view.wants(name))
        chosen.insert(at, comment)
    if chosen:
        parts += [b',"fields":{', b",".join(chosen), b"}"]
    parts.append(b"}")
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class Entry:
    """One issue: its source dict (scenario URLs), what JQL can test, and both API versions' pieces."""

    raw: dict[str, Any]
    facts: Facts
    pieces: dict[str, Piece]

    @property
    def id(self) -> str:
        return self.raw["id"]


class IssueStore:
    """The issues a fake Jira serves, searchable by the JQL subset and addressable by id or key."""

    def __init__(self, issues: Sequence[dict[str, Any]], base_url: str, zone: tzinfo) -> None:
        """`issues` as `simulator.scenario.generate` gives them; their links are rewritten to `base_url`."""
        self.base_url, self.zone = base_url.rstrip("/"), zone
        # The scenario's own base (https://acme.atlassian.net unless told otherwise), to rewrite.
        self._source = issues[0]["self"].split("/rest/", 1)[0].rstrip("/") if issues else self.base_url
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self._by_key: dict[str, str] = {}
        self._projects: dict[str, str] = {}
        self._cache: dict[str, list[str]] = {}
        self._touches = 0
        self._last_history = 0
        self._unindexed: set[str] = set()  # ids the search does not see yet (`lag_index`)
        for raw in issues:
            self._add(raw)

    # -- building -----------------------------------------------------------------------------

    def _add(self, raw: dict[str, Any]) -> None:
        entry = self._build(raw)
        self._entries[entry.id] = entry
        self._by_key[raw["key"].upper()] = entry.id
        project = raw["fields"]["project"]
        for name in (project["key"], project.get("name"), project.get("id")):
            if name:
                self._projects[str(name).lower()] = project["key"]
        for history in raw["changelog"]["histories"]:
            self._last_history = max(self._last_history, int(history["id"]))

    def _build(self, raw: dict[str, Any]) -> Entry:
        fields = raw["fields"]
        facts = Facts(
            id=int(raw["id"]), key=raw["key"].upper(), project=fields["project"]["key"],
            issuetype=str((fields.get("issuetype") or {}).get("name", "")).lower(),
            status=str((fields.get("status") or {}).get("name", "")).lower(),
            created=_epoch(fields["created"]), updated=_epoch(fields["updated"]),
        )
        return Entry(raw, facts, self._pieces(raw))

    def _rebase(self, text: str, version: str) -> str:
        if version == "2":
            text = text.replace(f"{self._source}/rest/api/3/", f"{self.base_url}/rest/api/2/")
        return text.replace(self._source, self.base_url) if self._source != self.base_url else text

    def serialize(self, value: Any, version: str) -> bytes:
        """Any scenario object as JSON bytes in an API version, with links onto this server."""
        return self._out(_dumps(value), version)

    def _pieces(self, raw: dict[str, Any]) -> dict[str, Piece]:
        """Both versions' pieces; each value is serialized once and only its links are rewritten per version."""
        fields = dict(raw["fields"])
        comments = fields.pop("comment", {}).get("comments", [])
        names = list(raw["fields"])
        texts = {
            "head": _dumps({k: raw[k] for k in ("expand", "id", "self", "key") if k in raw})[1:-1],
            "fields": [(name, f'"{name}":{_dumps(value)}') for name, value in fields.items()],
            "comment_self": _dumps(f"{self._source}/rest/api/3/issue/{raw['id']}/comment"),
            "histories": [_dumps(h) for h in raw["changelog"]["histories"]],
        }
        # v2 answers rich text as plain (wiki) strings: description and comment bodies differ.
        bodies = {"3": [_dumps(c) for c in comments],
                  "2": [_dumps({**c, "body": adf_to_text(c.get("body"))}) for c in comments]}
        plain = {"description": f'"description":{_dumps(adf_to_text(fields["description"]))}'} \
            if isinstance(fields.get("description"), dict) else {}
        comment_at = names.index("comment") if "comment" in names else len(names)
        pieces = {}
        for v in API_VERSIONS:
            pieces[v] = Piece(
                head=self._out(texts["head"], v),
                fields=tuple((name, self._out(plain.get(name, text) if v == "2" else text, v))
                             for name, text in texts["fields"]),
                comment_at=comment_at,
                comment_self=self._out(texts["comment_self"], v),
                histories=tuple(self._out(text, v) for text in texts["histories"]),
                comments=tuple(self._out(text, v) for text in bodies[v]),
            )
        return pieces

    def _out(self, text: str, version: str) -> bytes:
        return self._rebase(text, version).encode()

    # -- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, id_or_key: str) -> Entry | None:
        """The issue with this id or key (keys case-insensitive), or None."""
        issue_id = id_or_key if id_or_key in self._entries else self._by_key.get(id_or_key.upper())
        return self._entries.get(issue_id) if issue_id else None

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def search(self, jql: str, reconcile: Collection[str] = ()) -> list[str]:
        """Ids of the issues matching `jql`, in its order; raises JqlError for what Jira would refuse.
        An issue whose change the index has not taken yet (`lag_index`) is left out, unless its id
        is among `reconcile` (Cloud's `reconcileIssues`, which reads those ids consistently)."""
        ids = self._cache.get(jql)
        if ids is None:
            query = parse(jql, self.zone, self._projects, self._key_of)
            ids = [str(f.id) for f in query.apply([e.facts for e in self._entries.values()])]
            with self._lock:
                if len(self._cache) >= _QUERY_CACHE:
                    self._cache.clear()
                self._cache[jql] = ids
        hidden = self._unindexed - set(reconcile)
        return [i for i in ids if i not in hidden] if hidden else ids

    def lag_index(self, keys: Sequence[str]) -> None:
        """Keep these issues out of search results, as Jira Cloud's index does with a change it
        has not taken yet ("Search and reconcile"), until `catch_up`."""
        with self._lock:
            for key in keys:
                entry = self.get(key)
                if entry is None:
                    raise KeyError(f"no issue {key}")
                self._unindexed.add(entry.id)

    def catch_up(self) -> None:
        """The index has taken every change: searches see every issue again."""
        with self._lock:
            self._unindexed.clear()

    def is_bounded(self, jql: str) -> bool:
        """Whether `jql` restricts the search (raises JqlError if it does not parse)."""
        return parse(jql, self.zone, self._projects, self._key_of).bounded

    def _key_of(self, id_or_key: str) -> str | None:
        entry = self.get(id_or_key)
        return entry.facts.key if entry is not None else None

    # -- changing -----------------------------------------------------------------------------

    def touch(self, keys: Sequence[str] | None = None, count: int | None = None,
              at: datetime | None = None) -> list[str]:
        """Add a label to some issues as their reporter would, moving `updated` past every issue's.

        `keys` names the issues, else `count` of them are picked by a seeded draw. Each gets one
        new history (a `labels` change) at `at` (default: one minute after the newest update),
        a second apart in the order given. Returns the touched keys.
        """
        with self._lock:
            self._touches += 1
            if keys is None:
                ordered = sorted(self._entries.values(), key=lambda e: e.facts.id)
                picked = Random(f"touch:{self._touches}").sample(ordered, min(count or 0, len(ordered)))
                keys = [e.raw["key"] for e in picked]
            entries = [self.get(key) for key in keys]
            missing = [key for key, entry in zip(keys, entries) if entry is None]
            if missing:
                raise KeyError(f"no issue {missing[0]}")
            newest = max(e.facts.updated for e in self._entries.values())
            start = at or datetime.fromtimestamp(newest, timezone.utc) + timedelta(minutes=1)
            for offset, entry in enumerate(entries):
                assert entry is not None
                raw = self._touched(entry.raw, start + timedelta(seconds=offset))
                self._entries[entry.id] = self._build(raw)
            self._cache.clear()
            return [e.raw["key"] for e in entries if e is not None]

    def _touched(self, raw: dict[str, Any], moment: datetime) -> dict[str, Any]:
        raw = copy.deepcopy(raw)
        fields = raw["fields"]
        before = list(fields.get("labels") or [])
        label = f"touched-{self._touches}"
        after = before + [label] if label not in before else before
        self._last_history += 1
        history: dict[str, Any] = {
            "id": str(self._last_history), "created": jira_time(moment),
            "items": [{"field": "labels", "fieldtype": "jira", "fieldId": "labels", "from": None,
                       "fromString": " ".join(before), "to": None, "toString": " ".join(after)}],
        }
        if fields.get("reporter"):
            history["author"] = fields["reporter"]
        changelog = raw["changelog"]
        changelog["histories"].append(history)
        changelog["total"] = changelog["maxResults"] = len(changelog["histories"])
        fields["labels"], fields["updated"] = after, jira_time(moment)
        return raw
