"""`connectors.exports.read_export`: every encoding and layout export tools write, streamed."""
from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from connectors.exports import LINE_LIMIT, MAX_GAP, MAX_TEXT, ExportError, read_export

ISSUE = {"id": "10001", "key": "SHOP-1", "fields": {"summary": "Checkout fails — ça coûte", "n": 1.5}}


def items(path: Path) -> list:
    return list(read_export(path, ("issues",)))


def write(tmp_path: Path, data: bytes, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("data", [
    pytest.param(json.dumps([ISSUE], ensure_ascii=False).encode(), id="utf-8"),
    pytest.param(codecs.BOM_UTF8 + json.dumps([ISSUE], ensure_ascii=False).encode(), id="utf-8-bom"),
    pytest.param(codecs.BOM_UTF16_LE + json.dumps([ISSUE], indent=2, ensure_ascii=False).encode("utf-16-le"),
                 id="utf-16-le-bom"),
    pytest.param(codecs.BOM_UTF16_BE + json.dumps([ISSUE], indent=2, ensure_ascii=False).encode("utf-16-be"),
                 id="utf-16-be-bom"),
    pytest.param(json.dumps([ISSUE], ensure_ascii=False).encode("utf-16-le"), id="utf-16-le-no-bom"),
    pytest.param(json.dumps([ISSUE], ensure_ascii=False).encode("utf-16-be"), id="utf-16-be-no-bom"),
])
def test_encodings_windows_tools_write(tmp_path: Path, data: bytes) -> None:
    [item] = items(write(tmp_path, data))
    assert item.value == ISSUE and item.value["fields"]["summary"].endswith("ça coûte")


def test_undecodable_text_is_refused_with_the_byte_that_is_not_utf8(tmp_path: Path) -> None:
    data = json.dumps({"issues": [{"key": "café"}]}, ensure_ascii=False).encode("latin-1")
    with pytest.raises(ExportError, match=r"is not UTF-8 text \(byte 24 cannot be decoded\); save it as UTF-8"):
        items(write(tmp_path, data))


def test_utf32_is_named(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="is UTF-32 text"):
        items(write(tmp_path, codecs.BOM_UTF32_LE + "[]".encode("utf-32-le")))


@pytest.mark.parametrize(("document", "wheres"), [
    pytest.param({"expand": "names", "names": {"summary": "Summary"}, "issues": [ISSUE, ISSUE], "total": 2},
                 ["issues[0]", "issues[1]"], id="search-response"),
    pytest.param(ISSUE, ["the document"], id="one-issue"),
    pytest.param([ISSUE, ISSUE], ["item 1", "item 2"], id="array"),
    pytest.param([{"issues": [ISSUE]}, {"issues": [ISSUE]}], ["item 1 issues[0]", "item 2 issues[0]"],
                 id="array-of-search-pages"),
    pytest.param([[ISSUE], [ISSUE, ISSUE]], ["page 1 item 1", "page 2 item 1", "page 2 item 2"], id="pages"),
    pytest.param([], [], id="empty-array"),
])
def test_document_layouts(tmp_path: Path, document: object, wheres: list[str]) -> None:
    for indent in (None, 2):  # compact on one line, and pretty-printed
        found = items(write(tmp_path, json.dumps(document, indent=indent).encode()))
        assert [item.where for item in found] == wheres
        assert all(item.value == ISSUE for item in found)


def test_pages_keep_their_number(tmp_path: Path) -> None:
    found = items(write(tmp_path, json.dumps([[ISSUE], [ISSUE, ISSUE]]).encode()))
    assert [item.page for item in found] == [1, 2, 2]


def test_json_lines_refuse_a_bad_line_alone(tmp_path: Path) -> None:
    lines = [json.dumps(ISSUE), "", '{"key": "SHOP-2", "fields": ', json.dumps({"issues": [ISSUE]}), json.dumps(ISSUE)]
    found = items(write(tmp_path, "\r\n".join(lines).encode(), "export.jsonl"))
    assert [(item.where, item.error is None) for item in found] == [
        ("line 1", True), ("line 3", False), ("line 4 issues[0]", True), ("line 5", True)]
    assert "is not valid JSON" in found[1].error
    assert all(item.value == ISSUE for item in found if item.error is None)


def test_a_json_lines_line_over_the_limit_is_refused_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("connectors.exports.LINE_LIMIT", 200)
    long_line = json.dumps({**ISSUE, "padding": "x" * 300})
    found = items(write(tmp_path, "\n".join([json.dumps(ISSUE), long_line, json.dumps(ISSUE)]).encode()))
    assert [(item.where, item.error) for item in found] == [
        ("line 1", None), ("line 2", "is longer than 0 MB"), ("line 3", None)]
    assert LINE_LIMIT == MAX_GAP


def test_numbers_come_out_as_json_loads_gives_them(tmp_path: Path) -> None:
    # ijson gives Decimal for 1.5; the parsers expect float. A big integer stays exact.
    text = '{"issues": [{"id": 123456789012345678901234567890, "created": 1706778000.5, "n": 1e3}]}'
    [item] = items(write(tmp_path, text.encode()))
    assert item.value == json.loads(text)["issues"][0]
    assert [type(v) for v in item.value.values()] == [int, float, float]


def test_an_absurdly_long_string_is_cut_and_reported_in_a_json_lines_file(tmp_path: Path) -> None:
    issue = {"key": "SHOP-1", "fields": {"summary": "x" * (MAX_TEXT * 3), "labels": ["a" * (MAX_TEXT + 1)]}}
    [item] = items(write(tmp_path, (json.dumps(issue) + "\n" + json.dumps({"key": "SHOP-2"}) + "\n").encode()))[:1]
    assert item.value["fields"]["summary"] == "x" * (MAX_TEXT - 1) + "…"
    assert len(item.value["fields"]["labels"][0]) == MAX_TEXT
    assert item.cut == [f"fields.summary ({MAX_TEXT * 3:,} characters)", f"fields.labels[0] ({MAX_TEXT + 1:,} characters)"]


def test_a_document_is_read_fast_and_an_integer_beyond_64_bits_reads_it_again_exactly(tmp_path: Path) -> None:
    # The fast read leaves long text to the store (which cuts and names it) and gives floats; an
    # integer C cannot hold makes the rest of the file be read with exact numbers, nothing twice.
    issues = [{"key": f"SHOP-{n}", "fields": {"ratio": 1.5}} for n in range(3)]
    issues[1]["fields"]["big"] = 123456789012345678901234567890
    read = items(write(tmp_path, json.dumps({"issues": issues}).encode()))
    assert [i.value["key"] for i in read] == ["SHOP-0", "SHOP-1", "SHOP-2"]
    assert read[1].value["fields"]["big"] == 123456789012345678901234567890
    assert all(type(i.value["fields"]["ratio"]) is float for i in read)


@pytest.mark.parametrize(("data", "reason"), [
    pytest.param(b"", "is empty", id="empty"),
    pytest.param(b" \n\t ", "holds nothing but white space", id="blank"),
    pytest.param(b'{"issues": [{"key": "SHOP-1"}, ', "ends before its JSON does", id="cut-off"),
    pytest.param(b"not json at all", "is not valid JSON", id="not-json"),
    pytest.param(b'{"key": "A-1"} {"key": "A-2"}', "holds more than one JSON document", id="concatenated"),
    pytest.param(b"42", "is a single JSON number", id="scalar"),
])
def test_files_that_are_refused_whole(tmp_path: Path, data: bytes, reason: str) -> None:
    with pytest.raises(ExportError, match=reason):
        items(write(tmp_path, data))


@pytest.mark.parametrize("data", [
    pytest.param(b'{"issues": [' + b"0," * 200_000 + b"0]}", id="numbers"),
    pytest.param(b'{"issues": [{"key": "SHOP-1", "fields": {"summary": "' + b"A" * 400_000 + b'"}}]}', id="giant-string"),
])
def test_a_run_without_a_quote_is_refused_before_it_is_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              data: bytes) -> None:
    monkeypatch.setattr("connectors.export_encoding.MAX_GAP", 100_000)
    with pytest.raises(ExportError, match="has 0 MB without a double quote before byte"):
        items(write(tmp_path, data))


def test_an_unreadable_path_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="cannot be read: No such file or directory"):
        items(tmp_path / "missing.json")
