"""Text from the trackers made safe and aligned for a terminal.

Account ids, display names and status names come from Jira and GitHub, where anyone with an
account can type them. Printed raw, an escape sequence in a name can clear the screen, set
the window title or rewrite what earlier lines said, and a bidi override can make a line
read backwards; a lone surrogate cannot even be encoded and would end the command. So every
such string passes through `printable` before the CLI shows it: control characters become a
visible escape (`\\x1b`, `\\u202e`) and the text stays one line.

Columns are padded by display width, not by characters: a CJK character or most emoji take
two terminal cells, a combining mark none (measured by `wcwidth`, which follows the Unicode
East Asian Width and emoji tables).
"""
from __future__ import annotations

import unicodedata
from typing import Iterable

from wcwidth import iter_graphemes, width

ELLIPSIS = "…"

# Format characters a terminal acts on: the bidi embeddings, overrides, isolates and marks.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# C0, DEL and C1 controls, lone surrogates, and the Unicode line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def is_unsafe(char: str) -> bool:
    """Whether one character could move the cursor, change the terminal or reorder the line."""
    return char in _BIDI or unicodedata.category(char) in _UNSAFE_CATEGORIES


def printable(text: object) -> str:
    """`text` as one terminal-safe line: every unsafe character written as a visible escape."""
    value = "" if text is None else str(text)
    if not any(is_unsafe(c) for c in value):
        return value
    return "".join(_escape(c) if is_unsafe(c) else c for c in value)


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def display_width(text: str) -> int:
    """How many terminal cells `text` (already printable) takes."""
    return width(text)


def fit(text: object, columns: int) -> str:
    """`text` made printable, cut to `columns` cells with an ellipsis, then padded to exactly that."""
    value = printable(text)
    if display_width(value) > columns:
        kept, used = [], 0
        for grapheme in iter_graphemes(value):
            cells = display_width(grapheme)
            if used + cells > columns - display_width(ELLIPSIS):
                break
            kept.append(grapheme)
            used += cells
        value = "".join(kept) + ELLIPSIS
    return pad(value, columns)


def pad(text: object, columns: int) -> str:
    """`text` made printable and padded with spaces to at least `columns` cells (never cut)."""
    value = printable(text)
    return value + " " * max(0, columns - display_width(value))


def widest(texts: Iterable[object], floor: int = 0, ceiling: int | None = None) -> int:
    """The display width of the widest printable text, at least `floor`, at most `ceiling`."""
    most = max((display_width(printable(t)) for t in texts), default=0)
    most = max(most, floor)
    return most if ceiling is None else min(most, ceiling)
