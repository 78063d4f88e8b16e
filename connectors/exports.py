"""Exported tracker JSON files, read as a stream of items whatever their encoding and layout.

Pure: no database, no Flask. `service.jobs.ingest` (Jira) and `service.jobs.github_import` read every
export through `read_export`, then turn its items into neutral records with the trackers'
own parsers. What this module settles, so that neither import has to:

- Encoding: UTF-8 with or without a byte-order mark, and UTF-16 LE or BE (what Windows tools
  such as PowerShell's `Out-File` write), recognised by its BOM or, lacking one, by the zero
  bytes of its first ASCII character (RFC 4627 §3). Anything else is refused in one sentence
  that says where the first undecodable byte is.
- Layout: one JSON document — an object holding the items under a container key (Jira's
  `issues`, GitHub search's `items`), an array of items, an array of pages (arrays), or a
  single item — or JSON Lines, one document per line, where a malformed line is refused
  alone and the others are kept.
- Memory: documents are parsed incrementally by ijson (its C backend, yajl2_c), item by item,
  so a 200 MB export never sits in memory whole; a run of 16 MB without a string boundary
  (one giant value, or an array of numbers) is refused as soon as it is seen, before the
  parser has had to hold it.
- Values: ijson gives non-integer numbers as Decimal; they become float, as `json.loads`
  gives them (integers stay exact, however large). Strings longer than `MAX_TEXT`
  characters are cut with an ellipsis and reported: no tracker writes a field that long
  (Jira's default text limit is 32,767 characters, GitHub's body limit 65,536), and
  storing a 200 MB "title" would only slow every page that shows it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import ijson

from connectors.export_encoding import CHUNK, MAX_GAP, ExportError, Utf8Stream, open_export

MAX_TEXT = 65_536  # characters kept of one string value
_SURROGATE = re.compile("[\ud800-\udfff]")
LINE_LIMIT = MAX_GAP  # longest line of a JSON Lines file read as one document
PEEK_EVENTS = 1_000_000  # parser events read to find a document's container before giving up


@dataclass(slots=True)
class Item:
    """One item of an export: its value, where it sits (for messages) and the page it belongs to."""

    value: Any
    where: str  # "item 3", "line 12", "page 2 item 5"
    page: int  # items of one page (an inner array, one line) share it; 0 for a file of loose items
    cut: list[str] = field(default_factory=list)  # JSON paths of strings cut to MAX_TEXT
    error: str | None = None  # a JSON Lines line that is not JSON: refused alone, value is None


def read_export(path: Path, containers: tuple[str, ...] = (), pages: dict[int, dict[str, Any]] | None = None,
                ) -> Iterator[Item]:
    """The items of one export file, streamed; ExportError when the file has to be refused whole.

    `containers` are the keys under which a top-level object holds its items. The file is
    opened once to see its layout and once more to stream it. `pages`, when given, receives
    the plain values (`total`, `startAt`, `isLast`, `nextPageToken`, …) of every object that
    held items, by the `page` its items carry: what a search page says about the pages it is not.
    """
    with open_export(path) as stream:
        lines = _looks_like_json_lines(stream)
    if lines:
        with open_export(path) as stream:
            yield from _json_lines(stream, containers, pages)
        return
    with open_export(path) as stream:
        prefix, scalars = _layout(stream, containers)
    if pages is not None and prefix.endswith(".item"):
        pages[0] = {**scalars, **_tail_scalars(path)}
    done = 0
    try:
        for position, value in _values(path, prefix, exact=False):
            yield from _document_items(value, prefix, position, containers, pages, exact=False)
            done = position
    except _Overflow:
        # An integer beyond 64 bits: C's floats cannot hold it, so the file is read again with exact
        # numbers (Decimal, turned into float where they are not whole), from where it stopped.
        for position, value in _values(path, prefix, exact=True):
            if position > done:
                yield from _document_items(value, prefix, position, containers, pages, exact=True)


class _Overflow(Exception):
    """The fast read met an integer it cannot hold as a C number."""


def _values(path: Path, prefix: str, exact: bool) -> Iterator[tuple[int, Any]]:
    """(position, value) of a document's items; numbers as floats unless `exact` (then Decimals)."""
    with open_export(path) as stream:
        try:
            yield from enumerate(ijson.items(stream, prefix, buf_size=CHUNK, use_float=not exact), 1)
        except ijson.JSONError as exc:
            if not exact and "integer overflow" in str(exc):
                raise _Overflow() from None
            raise ExportError(_json_error(exc)) from None


def _document_items(value: Any, prefix: str, position: int, containers: tuple[str, ...],
                    pages: dict[int, dict[str, Any]] | None, exact: bool) -> Iterator[Item]:
    if prefix.endswith(".item"):  # the elements of a container
        yield _item(value, f"{prefix.split('.')[0]}[{position - 1}]", 0, exact)
    else:
        where = "the document" if not prefix else f"page {position}" if isinstance(value, list) \
            else f"item {position}"
        yield from _flatten(value, where, position, containers, pages, exact)


# -- layout -------------------------------------------------------------------------------------

_NONBLANK = re.compile(rb"[^ \t\r\n]")


def _looks_like_json_lines(stream: Utf8Stream) -> bool:
    """Whether the first line is a whole object or array and another such line follows it.

    A pretty-printed document never closes its first line; a compact one has no second line.
    Reads no further than the second line's first character (nor past LINE_LIMIT).
    """
    buf = bytearray()
    start = newline = following = None
    while following is None and len(buf) <= LINE_LIMIT:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        searched = len(buf)
        buf += chunk
        if start is None:
            found = _NONBLANK.search(buf, searched)
            start = found.start() if found else None
        if start is not None and newline is None:
            end = buf.find(b"\n", max(start, searched))
            newline = end if end >= 0 else None
        if newline is not None:
            found = _NONBLANK.search(buf, max(newline, searched))
            following = found.start() if found else None
    if start is None:
        raise ExportError("holds nothing but white space")
    if newline is None or following is None:
        return False
    first = bytes(buf[start:newline]).rstrip()
    closed = first[:1] == b"{" and first[-1:] == b"}" or first[:1] == b"[" and first[-1:] == b"]"
    return closed and buf[following:following + 1] in (b"{", b"[")


def _lines(stream: Utf8Stream) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) of a stream; None for a line longer than LINE_LIMIT (skipped, not kept)."""
    number, parts, size = 1, [], 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            if size:
                yield number, None if size > LINE_LIMIT else b"".join(parts)
            return
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            piece = chunk[start:] if end < 0 else chunk[start:end]
            size += len(piece)
            if size <= LINE_LIMIT:
                parts.append(piece)
            else:
                parts = []  # too long: keep counting, drop the bytes
            if end < 0:
                break
            yield number, None if size > LINE_LIMIT else b"".join(parts)
            number, parts, size, start = number + 1, [], 0, end + 1


def _json_lines(stream: Utf8Stream, containers: tuple[str, ...],
                pages: dict[int, dict[str, Any]] | None = None) -> Iterator[Item]:
    for number, line in _lines(stream):
        if line is None:
            yield Item(None, f"line {number}", number, error=f"is longer than {LINE_LIMIT // (1024 * 1024)} MB")
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:  # not UnicodeDecodeError: the stream has checked the text
            yield Item(None, f"line {number}", number, error=f"is not valid JSON ({exc})")
            continue
        except RecursionError:
            yield Item(None, f"line {number}", number, error="nests deeper than any tracker item does")
            continue
        yield from _flatten(value, f"line {number}", number, containers, pages)


def _layout(stream: Utf8Stream, containers: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """The ijson prefix of a document's items: `item` (an array), `issues.item` (a container), `` (one object);
    and the plain top-level values seen before a container (a search page's `total`, `startAt`)."""
    events = ijson.parse(stream, buf_size=CHUNK)
    scalars: dict[str, Any] = {}
    try:
        _, event, _ = next(events)
        if event == "start_array":
            return "item", scalars
        if event != "start_map":
            raise ExportError(f"is a single JSON {event}, not tracker items")
        depth, key, name = 1, None, None
        for count, (_, event, value) in enumerate(events):
            if key is not None and event == "start_array":
                return f"{key}.item", scalars
            if name is not None and event in _SCALARS:
                scalars[name] = float(value) if isinstance(value, Decimal) else value
            key = value if depth == 1 and event == "map_key" and value in containers else None
            name = value if depth == 1 and event == "map_key" else None
            depth += event in ("start_map", "start_array")
            depth -= event in ("end_map", "end_array")
            if depth == 0:
                return "", scalars
            if count > PEEK_EVENTS:
                break
    except StopIteration:
        raise ExportError("ends before its JSON does (a cut-off file?)") from None
    except ijson.JSONError as exc:
        raise ExportError(_json_error(exc)) from None
    wanted = " or ".join(f"'{key}'" for key in containers) or "items"
    raise ExportError(f"is one JSON object too large to be a single item, and holds no {wanted} array")


_SCALARS = ("string", "number", "boolean", "null")
TAIL = 4096


def _tail_scalars(path: Path) -> dict[str, Any]:
    """The plain values after a document's items array (`…], "nextPageToken": "x", "isLast": false}`),
    read from the file's last bytes; {} when they are not plain values or the tail is not that shape."""
    with open_export(path) as stream:
        encoding = stream.encoding
        size = stream.raw.seek(0, 2)
        start = max(0, size - TAIL)
        stream.raw.seek(start - (start % 2 if encoding != "utf-8" else 0))
        tail = stream.raw.read().decode(encoding, errors="ignore")
    rest = tail[tail.rfind("]") + 1:].strip().lstrip(",")
    try:
        found = json.loads("{" + rest) if rest.endswith("}") else {}
    except ValueError:
        return {}
    return {k: v for k, v in found.items() if not isinstance(v, (dict, list))} if isinstance(found, dict) else {}


def document_maps(path: Path, keys: tuple[str, ...], look: int = 1024 * 1024) -> dict[str, Any]:
    """Top-level objects of a document by key (a Jira search's `names` and `schema`, from
    `expand=names,schema`), for the few exports whose first or last `look` bytes name one of
    them: only those pay for one more pass over the file (at the C parser's speed)."""
    with open_export(path) as stream:
        encoding = stream.encoding
        size = stream.raw.seek(0, 2)
        stream.raw.seek(0)
        head = stream.raw.read(look)
        start = max(0, size - look)
        stream.raw.seek(start - (start % 2 if encoding != "utf-8" else 0))
        tail = stream.raw.read()
    wanted = [key for key in keys if any(f'"{key}"'.encode(encoding) in part for part in (head, tail))]
    found: dict[str, Any] = {}
    for key in wanted:
        with open_export(path) as stream:
            try:
                found[key] = next(ijson.items(stream, key, buf_size=CHUNK), None)
            except ijson.JSONError:
                return {}
    return found


def _json_error(exc: Exception) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if "premature EOF" in text or "Incomplete JSON content" in text:
        return "ends before its JSON does (a cut-off file?)"
    if "trailing garbage" in text or "Additional data" in text:
        return "holds more than one JSON document (JSON Lines need one document per line)"
    return f"is not valid JSON ({text})"


def _flatten(value: Any, where: str, page: int, containers: tuple[str, ...],
             pages: dict[int, dict[str, Any]] | None = None, exact: bool = True) -> Iterator[Item]:
    """A document's items: a page's elements, a container's elements, or the value itself (page 0)."""
    elements = value if isinstance(value, list) else None
    name = "item"
    if isinstance(value, dict):
        name = next((key for key in containers if isinstance(value.get(key), list)), "")
        elements = value[name] if name else None
        if name and pages is not None:
            pages[page] = {k: float(v) if isinstance(v, Decimal) else v for k, v in value.items()
                           if not isinstance(v, (dict, list))}
    if elements is None:
        yield _item(value, where, 0, exact)
        return
    for index, element in enumerate(elements):
        yield _item(element, f"{where} {name} {index + 1}" if name == "item" else f"{where} {name}[{index}]", page,
                    exact)


def _item(value: Any, where: str, page: int, exact: bool = True) -> Item:
    """An item, its numbers and text made plain: the fast read (`exact` False) gives floats and no
    lone surrogates (the C parser turns them into '?'), and the store cuts text to its columns
    and says so, so only an exact read or a JSON Lines line needs the walk over every value."""
    if not exact:
        return Item(value, where, page)
    try:
        if _needs_cleaning(value):
            cut: list[str] = []
            return Item(_clean(value, "", cut), where, page, cut)
    except RecursionError:
        return Item(None, where, page, error="nests deeper than any tracker item does")
    return Item(value, where, page)


# -- values -------------------------------------------------------------------------------------

def _needs_cleaning(value: Any) -> bool:
    """Whether a value holds a Decimal or an over-long string (most hold neither: checked fast)."""
    kind = type(value)
    if kind is dict:
        return any(_needs_cleaning(v) for v in value.values())
    if kind is list:
        return any(_needs_cleaning(v) for v in value)
    if kind is str:
        return len(value) > MAX_TEXT or (not value.isascii() and _SURROGATE.search(value) is not None)
    return kind is Decimal


def _clean(value: Any, path: str, cut: list[str]) -> Any:
    """Decimals as floats, strings over MAX_TEXT cut with an ellipsis (their paths noted in `cut`)."""
    kind = type(value)
    if kind is dict:
        return {k: _clean(v, f"{path}.{k}" if path else k, cut) for k, v in value.items()}
    if kind is list:
        return [_clean(v, f"{path}[{i}]", cut) for i, v in enumerate(value)]
    if kind is str and not value.isascii() and _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)  # half of a UTF-16 pair (a cut \ud83d escape): no UTF-8 holds it
    if kind is str and len(value) > MAX_TEXT:
        cut.append(f"{path or 'value'} ({len(value):,} characters)")
        return value[:MAX_TEXT - 1] + "…"
    if kind is Decimal:
        return float(value)
    return value
