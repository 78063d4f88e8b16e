"""Tracker text on a terminal: control characters shown, never obeyed; columns aligned by display width."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from wcwidth import width

from connectors.records import Account
from service.cli import cli
from service.terminal import fit, is_unsafe, printable
from tests.service.builders import parsed, ticket, transition
from tests.service.test_store import ingest

HOSTILE = [
    pytest.param("\x1b[2J", "\\x1b[2J", id="csi-clear-screen"),
    pytest.param("\x1b]0;owned\x07", "\\x1b]0;owned\\x07", id="osc-window-title"),
    pytest.param("\x9b2J", "\\x9b2J", id="c1-csi"),
    pytest.param("evil\u202eexe.txt", "evil\\u202eexe.txt", id="bidi-override"),
    pytest.param("\u2067isolate\u2069", "\\u2067isolate\\u2069", id="bidi-isolate"),
    pytest.param("two\nlines\r", "two\\x0alines\\x0d", id="newline-and-return"),
    pytest.param("bell\x07back\x08del\x7f", "bell\\x07back\\x08del\\x7f", id="bel-backspace-del"),
    pytest.param("nul\x00", "nul\\x00", id="nul"),
    pytest.param("line\u2028sep", "line\\u2028sep", id="unicode-line-separator"),
    pytest.param("lone\ud800", "lone\\ud800", id="lone-surrogate"),
]


@pytest.mark.parametrize("raw, shown", HOSTILE)
def test_printable_escapes_what_a_terminal_would_obey(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert not any(is_unsafe(c) for c in printable(raw))


@pytest.mark.parametrize("text", [
    pytest.param("Ada Lovelace", id="latin"),
    pytest.param("山田太郎", id="cjk"),
    pytest.param("Zoë Ørsted", id="latin-1-letters"),
    pytest.param("e\u0301 combining", id="combining"),
    pytest.param("👨\u200d👩\u200d👧 family", id="emoji-zwj"),
])
def test_printable_keeps_ordinary_text(text: str) -> None:
    assert printable(text) == text


@pytest.mark.parametrize("text, columns, expected", [
    pytest.param("abc", 6, "abc   ", id="pads-latin"),
    pytest.param("山田", 6, "山田  ", id="pads-by-cells-not-characters"),
    pytest.param("山田太郎花子", 6, "山田… ", id="cuts-wide-with-ellipsis-and-pads-the-odd-cell"),
    pytest.param("abcdefgh", 6, "abcde…", id="cuts-latin"),
    pytest.param("e\u0301e\u0301e\u0301e\u0301", 3, "e\u0301e\u0301…", id="never-splits-a-combining-mark"),
    pytest.param("😀😀😀😀", 5, "😀😀…", id="emoji"),
    pytest.param("\x1b[2J", 10, "\\x1b[2J   ", id="escaped-before-measured"),
])
def test_fit_pads_and_cuts_by_display_width(text: str, columns: int, expected: str) -> None:
    assert fit(text, columns) == expected
    assert width(fit(text, columns)) == columns


def write_config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(
        f'[database]\nurl = "{db_url}"\n'
        '[[organisations]]\nname = "Acme"\nside = "client"\naccounts = ["jira:client-1"]\n'
        '[[organisations]]\nname = "Nordlys"\nside = "partner"\naccounts = ["jira:partner-1"]\n',
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def one_ticket_by(number: int, account: Account, status: str = "Done") -> object:
    actor = f"{account.tracker}:{account.external_id}"
    t = ticket(number, reporter=actor, status=status)
    return parsed(t, [transition(1, 1, actor, "Backlog", status)], [account])


@pytest.mark.parametrize("raw, shown", [p for p in HOSTILE if p.id != "lone-surrogate"])  # no database stores one
def test_people_and_statuses_show_tracker_text_escaped(sessions, config, db_url, tmp_path, raw, shown) -> None:
    if "\x00" in raw:
        shown = raw.replace("\x00", "")  # the store keeps no NUL on any database (service.store.sql.clean)
    ingest(sessions, config, [
        one_ticket_by(1, Account("jira", f"id{raw}", f"Eve{raw}")),
        one_ticket_by(2, Account("jira", "client-1", "Cleo Client"), status=f"Done{raw}"),
    ])
    cfg = write_config(tmp_path, db_url)
    people = run(cfg, "people")
    assert f"jira:id{shown}" in people and f"Eve{shown}" in people
    statuses = run(cfg, "statuses")
    assert f"Done{shown}" in statuses
    for out in (people, statuses):
        assert not any(is_unsafe(c) for c in out.replace("\n", "")), repr(out)
    assert len(people.splitlines()) == 2  # one line per person, whatever the name held


def test_import_refusal_shows_the_issue_key_escaped(db_url, tmp_path) -> None:
    bad = tmp_path / "bad.json"
    good = {"id": "10001", "key": "SHOP-1", "fields": {"created": "2025-01-01T00:00:00.000+0000",
                                                      "updated": "2025-01-01T00:00:00.000+0000"}}
    bad.write_text(json.dumps({"issues": [good, {"key": "\x1b]0;owned\x07SHOP-5"}]}), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(write_config(tmp_path, db_url)), "import", "jira", str(bad)])
    assert result.exit_code == 1
    assert "\\x1b]0;owned\\x07SHOP-5" in result.output and "\x1b" not in result.output


WIDE_NAMES = [
    "Ada Lovelace",
    "山田太郎",  # CJK: two cells a character
    "김철수 (Kim Cheol-su)",
    "Zoe\u0301 Combining Marks e\u0301a\u0301",  # combining marks: no cell of their own
    "😀 Smiley 👨\u200d👩\u200d👧",  # emoji and a ZWJ family: two cells each
    "中華人民共和國國務院總理辦公室秘書處長",  # 38 cells: cut with an ellipsis
    "A" * 40,  # over-long Latin: cut too
]


def test_people_columns_line_up_for_wide_names(sessions, config, db_url, tmp_path) -> None:
    accounts = [Account("jira", "client-1" if i == 0 else f"wide-{i}", name) for i, name in enumerate(WIDE_NAMES)]
    ingest(sessions, config, [one_ticket_by(i + 1, a) for i, a in enumerate(accounts)])
    lines = run(write_config(tmp_path, db_url), "people").splitlines()
    assert len(lines) == len(WIDE_NAMES)
    starts = set()
    for line in lines:
        org = line.find("Acme (client)") if "Acme (client)" in line else line.find("unaffiliated")
        assert org > 0, line
        starts.add(width(line[:org]))  # the display column where the organisation column starts
    assert len(starts) == 1, lines
    assert "中華人民共和國國務院總理辦公室秘書處長" not in "\n".join(lines)
    assert any(line.count("…") == 1 and "中華人民" in line for line in lines)
    assert "A" * 40 not in "\n".join(lines)
