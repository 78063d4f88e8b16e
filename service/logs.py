"""Where every `partnerscope` command's log lines go, and in what shape: `configure_logging`.

By default a line is the message as the code wrote it, as it always was. With
PARTNERSCOPE_LOG_FORMAT=json each line is one JSON object (`timestamp` in UTC, `level`, `logger`,
`event`, then `message` and any other key-values) so a log collector reads fields rather than
prose. One handler on the root logger renders every record, Partnerscope's and every library's
(alembic, gunicorn, urllib3, …) alike, through structlog's `ProcessorFormatter`.

Our code logs with the standard library, `log.info("webhook.jira.stored: source '%s' …", name)`:
the dotted token before the colon is the line's stable event name, so in JSON it becomes `event`
and the rest `message`; a line without one is all `event`. New code may log with
`structlog.get_logger().info("sync.page", tickets=40)`; both render alike.

Secrets never reach a line: values under keys named like a token, password, secret,
authorization or cookie are replaced, and so is any text equal to the value of an environment
variable whose name says it holds a secret (JIRA_API_TOKEN, GITHUB_WEBHOOK_SECRET, …), wherever
in the line it appears.
"""
from __future__ import annotations

import logging
import os
import re
import sys
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, TextIO

import structlog

from service.config_tables import ConfigError

FORMAT_ENV = "PARTNERSCOPE_LOG_FORMAT"
FORMATS = ("text", "json")
# Libraries that say at INFO what only matters when debugging; --debug lets them speak.
QUIET = ("urllib3", "jira", "alembic", "waitress", "gunicorn", "apscheduler")
REDACTED = "[redacted]"
SECRET_KEY = re.compile(r"token|passw|secret|authori[sz]ation|cookie|api[_-]?key|credential", re.IGNORECASE)
SECRET_ENV = re.compile(r"TOKEN|SECRET|PASSW|PASS$|_KEY$|CREDENTIAL|COOKIE|AUTH(?!OR)", re.IGNORECASE)
SECRET_MIN = 8  # shorter values are too likely to be ordinary words to be masked everywhere
_EVENT = re.compile(r"([A-Za-z][\w-]*(?:\.[\w-]+)+):\s*(.*)", re.DOTALL)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler `configure_logging` installs: told apart from handlers someone else installed."""


def log_format(environ: Mapping[str, str] = os.environ) -> str:
    """`text` or `json`, from PARTNERSCOPE_LOG_FORMAT (unset or empty: text); any other value is refused."""
    raw = environ.get(FORMAT_ENV, "").strip()
    if not raw:
        return "text"
    if raw.lower() in FORMATS:
        return raw.lower()
    shown = f"'{raw}'" if len(raw) <= 40 and raw.isprintable() else repr(raw[:40]) + ("…" if len(raw) > 40 else "")
    raise ConfigError(f"{FORMAT_ENV} is {shown}; use text (the default) or json.")


def configure_logging(debug: bool = False, environ: Mapping[str, str] = os.environ,
                      stream: TextIO | None = None) -> None:
    """Send the process's log lines to stderr (or `stream`) in the format PARTNERSCOPE_LOG_FORMAT
    asks for; every command's entry calls it, and so does each process a command starts.

    Calling it again replaces what it installed before. Like `logging.basicConfig`, it adds
    nothing where someone else already put a handler on the root logger (pytest does)."""
    shape = log_format(environ)
    level = logging.DEBUG if debug else logging.INFO
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(handler)
    for name in QUIET:
        logging.getLogger(name).setLevel(level if debug else logging.WARNING)
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.stdlib.filter_by_level,
                    structlog.stdlib.PositionalArgumentsFormatter(),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(), wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False)
    if root.handlers:
        return
    handler = _Handler(stream or sys.stderr)
    handler.setFormatter(formatter(shape, secret_values(environ)))
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # a library's warning is a log line like any other


def is_json(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether lines are JSON: then nothing else (a progress bar) should draw on stderr."""
    try:
        return log_format(environ) == "json"
    except ConfigError:
        return False


def formatter(shape: str, secrets: Iterable[str] = ()) -> logging.Formatter:
    """The formatter for `shape` (`text` or `json`), masking `secrets` wherever they appear."""
    redact = Redactor(secrets)
    if shape == "json":
        return structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[_extras],
            processors=[structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name, _timestamp,
                        structlog.processors.format_exc_info, _split_event, redact,
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta, _ordered,
                        structlog.processors.JSONRenderer()])
    return structlog.stdlib.ProcessorFormatter(
        processors=[structlog.processors.format_exc_info, redact, _text])


def secret_values(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The values of environment variables whose names say they hold a secret."""
    return sorted({value for name, value in environ.items()
                   if SECRET_ENV.search(name) and len(value.strip()) >= SECRET_MIN}, key=len, reverse=True)


class Redactor:
    """A processor replacing the values of secret-named keys, and known secret values inside any text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = [s for s in secrets if len(s) >= SECRET_MIN]

    def __call__(self, _logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
        return {key: value if key.startswith("_") else self._clean(key, value) for key, value in event.items()}

    def _clean(self, key: Any, value: Any) -> Any:
        if isinstance(key, str) and SECRET_KEY.search(key) and value not in (None, ""):
            return REDACTED
        if isinstance(value, str):
            for secret in self.secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, Mapping):
            return {k: self._clean(k, v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._clean(None, v) for v in value]
        return value


_RECORD_KEYS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def _extras(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """The `extra=` key-values of a standard library call."""
    record = event["_record"]
    for key, value in record.__dict__.items():
        if key not in _RECORD_KEYS and key not in event:
            event[key] = value
    return event


def _timestamp(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    record = event.get("_record")
    moment = datetime.fromtimestamp(record.created, timezone.utc) if record else datetime.now(timezone.utc)
    event["timestamp"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return event


def _split_event(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """`webhook.jira.stored: source 'x'` → event `webhook.jira.stored`, message `source 'x'`."""
    text = event.get("event")
    if isinstance(text, str):
        text = event["event"] = text.rstrip()  # a captured warning ends in a newline
    if isinstance(text, str) and (found := _EVENT.fullmatch(text)):
        event["event"] = found.group(1)
        if found.group(2):
            event["message"] = found.group(2) if "message" not in event else f"{found.group(2)}; {event['message']}"
    elif not isinstance(text, str):
        event["event"] = str(text)
    return event


def _ordered(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    first = {key: event.pop(key) for key in ("timestamp", "level", "logger", "event", "message") if key in event}
    return first | event


def _text(_logger: Any, _method: str, event: dict[str, Any]) -> str:
    """As `%(message)s` always showed a record (the traceback on the lines after); a structlog
    call as `event: key=value …`."""
    record_only = not event.pop("_from_structlog", False)
    event.pop("_record", None)
    exception = event.pop("exception", None)
    line = str(event.pop("event", ""))
    if not record_only:
        pairs = " ".join(f"{key}={value!r}" if isinstance(value, str) else f"{key}={value}"
                         for key, value in event.items())
        line = f"{line}: {pairs}" if pairs else line
    return f"{line}\n{exception}" if exception else line
