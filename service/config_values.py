"""Checks of single configuration values that need more than a type: what `config.py` refuses.

Each check returns what is wrong as a clause ("must not carry a user name or password") or
None, and never repeats the value: a value in the wrong key may be a secret (a token pasted
into `token_env`, a password in a URL), and it is not ours to print. `config.py` puts the
file, the table and the key in front to make the sentence.
"""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from service.terminal import is_unsafe

# The drivers Partnerscope installs and tests; `postgresql://` is read as psycopg 3 (service.store.db).
DATABASE_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")
EARLIEST_START = date(1970, 1, 1)
ACCOUNT_TRACKERS = ("jira", "github")

_GITHUB_NAME = re.compile(r"[A-Za-z0-9_.-]+")

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_NAME_MAX = 64
# How the trackers' tokens begin: Atlassian API tokens, GitHub's classic, OAuth, app and
# fine-grained tokens, GitLab and Slack tokens that end up in the wrong place too.
_TOKEN_PREFIXES = ("ATATT", "ATCTT", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox")


def is_account(ref: str) -> bool:
    """Whether `ref` is written TRACKER:ID with a tracker Partnerscope reads and an id."""
    tracker, _, ident = ref.partition(":")
    return tracker in ACCOUNT_TRACKERS and bool(ident.strip())


def is_github_name(name: str) -> bool:
    """Whether `name` can be a GitHub owner or repository name: it goes into API paths as it is."""
    return bool(_GITHUB_NAME.fullmatch(name)) and name not in (".", "..")


def is_github_repo(repo: str) -> bool:
    """Whether `repo` is written owner/name."""
    owner, slash, name = repo.partition("/")
    return bool(slash) and is_github_name(owner) and is_github_name(name)


def has_control(value: str, allow: str = "") -> bool:
    """Whether `value` holds a control, bidi or separator character other than those in `allow`."""
    return any(is_unsafe(c) and c not in allow for c in value)


def token_env_problem(value: str) -> str | None:
    """Why `value` cannot be the NAME of the variable holding a token (it may be the token itself)."""
    if (not _ENV_NAME.fullmatch(value) or len(value) > _ENV_NAME_MAX or value.startswith(_TOKEN_PREFIXES)
            or _looks_random(value)):
        return ("must hold the NAME of an environment variable (letters, digits and _, such as JIRA_API_TOKEN), "
                "not the token: its value looks like a secret, so it is not shown here")
    return None


def _looks_random(value: str) -> bool:
    # Variable names are short words joined by "_"; a long run without one, or one that mixes
    # cases and digits like base64 or hex does, is a token (Jira Server PATs, old GitHub tokens).
    if len(value) < 20:
        return False
    mixed = any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value)
    return "_" not in value or mixed


def http_url_problem(value: str) -> str | None:
    """Why `value` is not a plain http(s) URL of a server, or None."""
    if any(c.isspace() for c in value) or has_control(value):
        return "must be a URL without spaces or control characters"
    try:
        parts = urlsplit(value)
        parts.port  # reading it raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        return "is not a valid URL"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return ("must not carry a user name or password (user:password@); "
                "the token belongs in the environment variable that 'token_env' names")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an https:// (or http://) URL with a host name"
    if parts.query or parts.fragment:
        return "must not carry a query (?…) or a fragment (#…)"
    return None


def database_url_problem(value: str) -> str | None:
    """Why `value` is not a database URL Partnerscope can open, or None (never naming a password)."""
    if has_control(value):
        return "must not contain control characters"
    try:
        url = make_url(value)  # a port that is not a number raises ValueError here
    except (ArgumentError, ValueError):
        return "is not a database URL; write sqlite:///partnerscope.db or postgresql+psycopg://user@host/name"
    if url.drivername not in DATABASE_DRIVERS:
        return (f"names the database driver '{url.drivername}', which Partnerscope does not support; "
                "use sqlite:/// or postgresql+psycopg://")
    if url.port is not None and not 1 <= url.port <= 65535:
        return f"has port {url.port}; a port is a number from 1 to 65535"
    return None


def start_problem(value: date, today: date) -> str | None:
    """Why `value` cannot be the first day a sync reads, or None."""
    if not EARLIEST_START <= value <= today:
        return f"is {value.isoformat()}; use a date from {EARLIEST_START.isoformat()} up to today"
    return None


_EVERY = re.compile(r"([0-9]{1,7})([smh])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
EVERY_MIN, EVERY_MAX = 1, 7 * 86400  # seconds: once a second at most, once a week at least


def every_seconds(value: str, low: int = EVERY_MIN, high: int = EVERY_MAX) -> int | None:
    """The seconds of a duration written as a whole number and a unit ("15m", "30s", "2h"); None
    when it is not written so or falls outside `low` to `high` seconds (for `every`, a second to
    a week)."""
    match = _EVERY.fullmatch(value)
    if not match:
        return None
    seconds = int(match[1]) * _UNIT_SECONDS[match[2]]
    return seconds if low <= seconds <= high else None


def cron_problem(value: str) -> str | None:
    """What is wrong with a five-field cron expression (minute hour day month weekday, in UTC)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = value.split()
    if len(fields) != 5:
        return "must have five fields (minute hour day-of-month month day-of-week), as '*/15 * * * *'"
    if re.search(r"[0-9]", fields[4].split("/")[0]):
        # cron counts Sunday as 0 (or 7), APScheduler Monday: a number would name the wrong day
        return "must name weekdays, as 'mon-fri', not number them"
    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except (ValueError, TypeError) as exc:
        return f"is not a cron expression APScheduler accepts ({str(exc).splitlines()[0][:120]})"
    return None


QUEUE_SCHEMES = ("redis", "rediss")


def queue_url_problem(value: str) -> str | None:
    """Why `value` is not a Redis URL for the job queue, or None (never repeating a password)."""
    if has_control(value):
        return "must not contain control characters"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return "is not a URL; write redis://host:6379/0"
    if parts.scheme not in QUEUE_SCHEMES or not parts.hostname:
        return "must be a redis:// or rediss:// URL with a host, as redis://127.0.0.1:6379/0"
    if parts.password is not None:
        return "must not carry a password; name the environment variable holding it in 'password_env'"
    if port is not None and not 1 <= port <= 65535:
        return "has a port outside 1 to 65535"
    if parts.path not in ("", "/") and not parts.path[1:].isdigit():
        return "names a database that is not a number; write redis://host:6379/0"
    return None
