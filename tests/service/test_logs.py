"""Log lines: `%(message)s` text by default, one JSON object a line with PARTNERSCOPE_LOG_FORMAT=json,
for our loggers, structlog's and every library's alike, and never a secret."""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import structlog

from service.config import ConfigError
from service.logs import FORMAT_ENV, configure_logging, formatter, log_format, secret_values

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("timestamp", "level", "logger", "event")


def rendered(shape: str, emit: Callable[[logging.Logger], None], environ: dict[str, str] | None = None) -> str:
    """What a handler with our formatter for `shape` writes for what `emit` logs."""
    configure_logging(environ={})  # structlog's configuration; pytest's handlers keep the root logger
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(shape, secret_values(environ or {})))
    logger = logging.getLogger("tests.logs")
    logger.handlers, logger.propagate, logger.level = [handler], False, logging.DEBUG
    try:
        emit(logger)
    finally:
        logger.handlers, logger.propagate = [], True
    return stream.getvalue()


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_a_stdlib_line_splits_its_event_name_from_its_message() -> None:
    (line,) = json_lines(rendered("json", lambda log: log.warning(
        "webhook.jira.bad_signature: source '%s' from %s", "acme-jira", "127.0.0.1")))
    assert list(line)[:5] == [*KEYS, "message"]
    assert (line["level"], line["logger"], line["event"]) == ("warning", "tests.logs", "webhook.jira.bad_signature")
    assert line["message"] == "source 'acme-jira' from 127.0.0.1"
    assert line["timestamp"].endswith("Z") and line["timestamp"][:4].isdigit()


@pytest.mark.parametrize("message", [
    pytest.param("Jira source 'acme': issue 7 vanished", id="no-dotted-token"),
    pytest.param("sync acme-jira: 40 of 200", id="space-before-colon"),
    pytest.param("ratio 3.5: fine", id="number-is-no-name"),
    pytest.param("", id="empty"),
])
def test_a_line_without_an_event_name_is_all_event(message: str) -> None:
    (line,) = json_lines(rendered("json", lambda log: log.info(message)))
    assert line["event"] == message and "message" not in line


def test_structlog_calls_render_like_stdlib_ones() -> None:
    def emit(log: logging.Logger) -> None:
        structlog.get_logger("tests.logs").info("sync.page", tickets=40, source="acme-jira")
        structlog.get_logger("tests.logs").warning("sync.slow: %s requests", 3)

    page, slow = json_lines(rendered("json", emit))
    assert list(page)[:4] == list(KEYS)
    assert (page["event"], page["tickets"], page["source"], page["level"]) == ("sync.page", 40, "acme-jira", "info")
    assert (slow["event"], slow["message"], slow["level"]) == ("sync.slow", "3 requests", "warning")
    assert rendered("text", emit).splitlines() == ["sync.page: tickets=40 source='acme-jira'", "sync.slow: 3 requests"]


def test_an_exception_is_one_line_with_an_exception_field() -> None:
    def emit(log: logging.Logger) -> None:
        try:
            raise ValueError("bad\npayload")
        except ValueError:
            log.exception("webhook.applier.error")

    text = rendered("json", emit)
    (line,) = json_lines(text)
    assert text.count("\n") == 1 and line["event"] == "webhook.applier.error" and line["level"] == "error"
    assert line["exception"].startswith("Traceback") and "ValueError: bad\npayload" in line["exception"]
    assert rendered("text", emit).splitlines()[:2] == ["webhook.applier.error", "Traceback (most recent call last):"]


def test_secrets_are_masked_by_key_and_by_value() -> None:
    token = "tok-5f1e3c9a7b"
    environ = {"ACME_JIRA_TOKEN": token, "GITHUB_WEBHOOK_SECRET": "hook-secret-value", "HOME": "/home/someone"}

    def emit(log: logging.Logger) -> None:
        log.info("jira.request: Authorization Bearer %s", token)
        log.info("with extras", extra={"password": "pw", "cookie": "session=1", "tickets": 3})
        structlog.get_logger("tests.logs").info("sync.request", token="x", headers={"Authorization": "Basic abc"},
                                                url=f"https://h/?t={token}", note="hook-secret-value seen")

    text = rendered("json", emit, environ)
    assert token not in text and "hook-secret-value" not in text and "Basic abc" not in text and "pw" not in text
    request, extras, structured = json_lines(text)
    assert request["message"] == "Authorization Bearer [redacted]"
    assert (extras["password"], extras["cookie"], extras["tickets"]) == ("[redacted]", "[redacted]", 3)
    assert structured["token"] == "[redacted]" and structured["headers"] == {"Authorization": "[redacted]"}
    assert structured["url"] == "https://h/?t=[redacted]" and structured["note"] == "[redacted] seen"
    assert token not in rendered("text", emit, environ)
    assert "/home/someone" not in secret_values(environ)  # an ordinary variable is no secret


def test_text_is_the_message_as_it_always_was() -> None:
    text = rendered("text", lambda log: log.info("webhook.jira.stored: source '%s' delivery %s", "acme", 7,
                                                extra={"n": 1}))
    assert text == "webhook.jira.stored: source 'acme' delivery 7\n"


@pytest.mark.parametrize("value, shape", [
    pytest.param(None, "text", id="unset"), pytest.param("", "text", id="empty"),
    pytest.param("text", "text", id="text"), pytest.param("json", "json", id="json"),
    pytest.param(" JSON\n", "json", id="case-and-spaces"),
])
def test_known_formats(value: str | None, shape: str) -> None:
    assert log_format({} if value is None else {FORMAT_ENV: value}) == shape


@pytest.mark.parametrize("value, shown", [
    pytest.param("xml", "'xml'", id="other-word"),
    pytest.param("jsonl", "'jsonl'", id="near-miss"),
    pytest.param("json\x00", "'json\\x00'", id="nul"),
    pytest.param("\u202ejson", "'\\u202ejson'", id="bidi"),
    pytest.param("x" * 500, "'" + "x" * 40 + "'…", id="long"),
])
def test_other_formats_are_refused_naming_the_variable(value: str, shown: str) -> None:
    with pytest.raises(ConfigError) as refused:
        log_format({FORMAT_ENV: value})
    assert str(refused.value) == f"{FORMAT_ENV} is {shown}; use text (the default) or json."


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "logs.db"}"\n', encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if k != FORMAT_ENV} | env
    return subprocess.run([sys.executable, "-m", "service.cli", "--config", str(config), *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


def test_json_lines_from_a_real_command_alembic_included(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--debug", "db", "upgrade", **{FORMAT_ENV: "json"})
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert lines and all(set(KEYS) <= set(line) for line in lines)
    assert any(line["logger"].startswith("alembic") and line["event"].startswith("Running upgrade") for line in lines)
    assert done.stdout.startswith("database sqlite:///") and "is up to date" in done.stdout


def test_text_lines_from_a_real_command_are_unchanged(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--debug", "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "Running upgrade  -> 0001, Initial schema" in done.stderr and "{" not in done.stderr.splitlines()[0]
    assert "Context impl SQLiteImpl." in done.stderr.splitlines()


def test_a_bad_format_stops_the_command_with_one_sentence(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "db", "upgrade", **{FORMAT_ENV: "yaml"})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"partnerscope: {FORMAT_ENV} is 'yaml'; use text (the default) or json.\n"
    assert not (tmp_path / "logs.db").exists()
