"""An export file's text, whatever its encoding, as UTF-8 bytes for the JSON parser.

UTF-8 with or without a byte-order mark, and UTF-16 LE or BE (what Windows tools such as
PowerShell's `Out-File` write), recognised by its BOM or, lacking one, by the zero bytes of its
first ASCII character (RFC 4627 §3). Anything else is refused in one sentence that says where
the first undecodable byte is. The stream also refuses a file that runs 16 MB without a string
boundary (one giant value, or an array of numbers) before the parser has had to hold it.
"""
from __future__ import annotations

import codecs
from pathlib import Path
from typing import BinaryIO

from connectors.errors import SkippableError

MAX_GAP = 16 * 1024 * 1024  # bytes without a string boundary before a file is refused
CHUNK = 64 * 1024  # read size; no larger than exports.MAX_TEXT, see Utf8Stream.read


class ExportError(SkippableError):
    """The whole file is refused: unreadable, undecodable, or not one of the accepted layouts."""


class Utf8Stream:
    """A file's text as UTF-8 bytes, checked while read, with the 'no string boundary' guard."""

    def __init__(self, raw: BinaryIO, encoding: str, skip: int) -> None:
        self.raw, self.encoding = raw, encoding
        raw.seek(skip)
        self.offset = skip  # bytes of the file read so far, for messages
        self.decoder = codecs.getincrementaldecoder(encoding)("strict")
        self.gap = 0  # bytes since the last double quote

    def __enter__(self) -> Utf8Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()

    def read(self, size: int = -1) -> bytes:
        # At most CHUNK bytes a call: a string longer than that then always spans a call, which
        # is what lets the gap check below see every run without a quote.
        if size == 0:
            return b""
        raw = self.raw.read(CHUNK if size < 0 else min(size, CHUNK))
        try:
            text = self.decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            at = self.offset + max(exc.start, 0)
            raise ExportError(f"is not {_NAMES[self.encoding]} text (byte {at:,} cannot be decoded); "
                              "save it as UTF-8 and import it again") from None
        self.offset += len(raw)
        data = raw if self.encoding == "utf-8" else text.encode("utf-8")
        quote = data.rfind(b'"')
        if quote < 0:
            self.gap += len(data)
        else:
            self.gap = len(data) - quote - 1
        if self.gap > MAX_GAP:
            raise ExportError(f"has {MAX_GAP // (1024 * 1024)} MB without a double quote before byte {self.offset:,} "
                              "(one giant value, or no text at all); no tracker export has, so it is not read further")
        return data


_NAMES = {"utf-8": "UTF-8", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}


def open_export(path: Path) -> Utf8Stream:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise ExportError(f"cannot be read: {exc.strerror or exc}") from None
    head = raw.read(4)
    if not head:
        raw.close()
        raise ExportError("is empty")
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raw.close()
        raise ExportError("is UTF-32 text; save it as UTF-8 and import it again")
    if head.startswith(codecs.BOM_UTF8):
        return Utf8Stream(raw, "utf-8", 3)
    if head.startswith(codecs.BOM_UTF16_LE):
        return Utf8Stream(raw, "utf-16-le", 2)
    if head.startswith(codecs.BOM_UTF16_BE):
        return Utf8Stream(raw, "utf-16-be", 2)
    # No BOM: JSON begins with an ASCII character, so UTF-16 shows as a zero byte beside it.
    if len(head) >= 2 and head[0] == 0 and head[1] != 0:
        return Utf8Stream(raw, "utf-16-be", 0)
    if len(head) >= 2 and head[0] != 0 and head[1] == 0:
        return Utf8Stream(raw, "utf-16-le", 0)
    return Utf8Stream(raw, "utf-8", 0)


