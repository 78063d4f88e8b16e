"""`[[sources]]` entries: which tracker, where, and the environment variables holding their secrets."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Mapping

from connectors.jql import jql_problem
from service.config_tables import ConfigError, day, no_unknown, text, text_list
from service.config_values import (EVERY_MAX, EVERY_MIN, cron_problem, every_seconds, http_url_problem,
                                   is_github_name, is_github_repo, start_problem, token_env_problem)

SOURCE_KINDS = ("jira", "github")
DEPLOYMENTS = ("cloud", "server")
INDEX_LAG = {"cloud": 900, "server": 0}  # seconds: Cloud's search is eventually consistent, Server's is not
INDEX_LAG_MAX = 86400
RECONCILE_EVERY = {"cloud": 86400, "server": None}  # seconds between sweeps by default; Server needs none
RECONCILE_MIN, RECONCILE_MAX = 60, 30 * 86400


@dataclass(frozen=True)
class SourceConfig:
    """One `[[sources]]` entry."""

    name: str
    kind: str
    url: str
    deployment: str = "cloud"
    jql: str = ""
    email: str | None = None
    token_env: str | None = None
    start: date | None = None
    repos: tuple[str, ...] = ()  # GitHub: "owner/name"
    org: str | None = None  # GitHub: every repository of the organisation
    base_url: str | None = None  # GitHub Enterprise Server, e.g. https://ghe.example/api/v3
    webhook_secret_env: str | None = None  # the NAME of the variable holding the webhook secret
    allow_unsigned: bool = False  # accept webhook deliveries without a signature (warned about)
    schedule: str | None = None  # cron, five fields, UTC: when the worker syncs this source
    every: int | None = None  # … or every this many seconds (`every = "15m"`)
    index_lag: int | None = None  # Jira: seconds a change may take to become searchable; None: by deployment
    reconcile_every: int | None = None  # Jira: seconds between the worker's sweeps; None: by deployment
    origin: str = "config.toml"

    @property
    def lag(self) -> timedelta:
        """How far behind its start a sync's bookmark stays, for changes its tracker's search
        has not indexed yet (`index_lag`; 15 minutes on Jira Cloud by default, else none)."""
        if self.kind != "jira":
            return timedelta(0)
        return timedelta(seconds=self.index_lag if self.index_lag is not None else INDEX_LAG[self.deployment])

    @property
    def sweep_every(self) -> timedelta | None:
        """How often the worker's ticks read the last two days again (`reconcile_every`; daily on
        Jira Cloud by default); None: never."""
        if self.kind != "jira":
            return None
        seconds = self.reconcile_every if self.reconcile_every is not None else RECONCILE_EVERY[self.deployment]
        return timedelta(seconds=seconds) if seconds else None

    @property
    def scheduled(self) -> bool:
        return self.schedule is not None or self.every is not None

    def webhook_secret(self, environ: Mapping[str, str] = os.environ) -> bytes | None:
        """The webhook secret named by `webhook_secret_env`, or None when the source names none or the
        variable is empty (then its endpoint refuses every delivery, unless `allow_unsigned`)."""
        if not self.webhook_secret_env:
            return None
        value = environ.get(self.webhook_secret_env, "")
        return value.encode() if value else None

    def token(self, environ: Mapping[str, str] = os.environ) -> str:
        """The secret named by `token_env`, read from the environment at the moment it is needed."""
        where = f"{self.origin}: [[sources]] '{self.name}'"
        if not self.token_env:
            raise ConfigError(f"{where}: key 'token_env' is missing; name the environment variable that holds the token.")
        if problem := token_env_problem(self.token_env):
            raise ConfigError(f"{where}: key 'token_env' {problem}.")
        value = environ.get(self.token_env, "")
        if not value:
            raise ConfigError(f"{where}: key 'token_env' names {self.token_env}, which is not set in the environment.")
        return value


_COMMON_KEYS = {"webhook_secret_env", "allow_unsigned", "schedule", "every"}
_SOURCE_KEYS = {
    "jira": {"name", "kind", "url", "deployment", "jql", "email", "token_env", "start", "index_lag",
             "reconcile_every"} | _COMMON_KEYS,
    "github": {"name", "kind", "repos", "org", "base_url", "token_env", "start"} | _COMMON_KEYS,
}


def _schedule_keys(raw: Mapping[str, Any], where: str, origin: str) -> dict[str, Any]:
    """`schedule` (cron) or `every` ("15m"), at most one of them."""
    if "schedule" in raw and "every" in raw:
        raise ConfigError(f"{origin}: {where} has both 'schedule' and 'every'; keep one of them.")
    schedule = every = None
    if "schedule" in raw:
        schedule = " ".join(text(raw, "schedule", origin, f"{where} ").split())
        if problem := cron_problem(schedule):
            raise ConfigError(f"{origin}: {where} key 'schedule' {problem}.")
    if "every" in raw:
        every = _duration(raw, "every", origin, where, "'15m'", "from 1s to 168h")
    return {"schedule": schedule, "every": every}


def _duration(raw: Mapping[str, Any], key: str, origin: str, where: str, example: str, span: str,
              low: int = EVERY_MIN, high: int = EVERY_MAX, never: bool = False) -> int:
    """The seconds of a duration key ("15m"); `never`: "0s" too, whatever `low` is."""
    seconds = every_seconds(text(raw, key, origin, f"{where} "), 0 if never else low, high)
    if seconds is None or 0 < seconds < low:
        raise ConfigError(f"{origin}: {where} key '{key}' must be a whole number and a unit, s, m or h "
                          f"(as {example}), {span}.")
    return seconds


def _shared_keys(raw: Mapping[str, Any], where: str, origin: str) -> dict[str, Any]:
    secret_env = text(raw, "webhook_secret_env", origin, f"{where} ") if "webhook_secret_env" in raw else None
    if secret_env is not None and (problem := token_env_problem(secret_env)):
        raise ConfigError(f"{origin}: {where} key 'webhook_secret_env' {problem}.")
    unsigned = raw.get("allow_unsigned", False)
    if not isinstance(unsigned, bool):
        raise ConfigError(f"{origin}: {where} key 'allow_unsigned' must be true or false.")
    return {"webhook_secret_env": secret_env, "allow_unsigned": unsigned, **_schedule_keys(raw, where, origin)}


def read_source(raw: Any, index: int, origin: str) -> SourceConfig:
    where = f"[[sources]] #{index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: {where} must be a table.")
    name = text(raw, "name", origin, f"{where} ")
    where = f"[[sources]] '{name}'"
    kind = text(raw, "kind", origin, f"{where} ")
    if kind not in SOURCE_KINDS:
        raise ConfigError(f"{origin}: {where} key 'kind' is '{kind}'; use one of {', '.join(SOURCE_KINDS)}.")
    no_unknown(raw, _SOURCE_KEYS[kind], origin, f"{where} ")
    token_env = text(raw, "token_env", origin, f"{where} ")
    if problem := token_env_problem(token_env):
        raise ConfigError(f"{origin}: {where} key 'token_env' {problem}.")
    start = day(raw, "start", origin, where)
    if start is not None and (problem := start_problem(start, date.today())):
        raise ConfigError(f"{origin}: {where} key 'start' {problem}.")
    if kind == "github":
        return _github_source(raw, name, where, origin, token_env, start)
    url = _url(raw, "url", origin, where)
    deployment = text(raw, "deployment", origin, f"{where} ", default="cloud")
    if deployment not in DEPLOYMENTS:
        raise ConfigError(f"{origin}: {where} key 'deployment' is '{deployment}'; use 'cloud' or 'server'.")
    email = text(raw, "email", origin, f"{where} ") if "email" in raw else None
    if deployment == "cloud" and not email:
        raise ConfigError(f"{origin}: {where} key 'email' is missing; Jira Cloud authenticates with the account's email and an API token.")
    index_lag = _duration(raw, "index_lag", origin, where, "'15m'", "from 0s to 24h", 0, INDEX_LAG_MAX) \
        if "index_lag" in raw else None
    reconcile_every = _duration(raw, "reconcile_every", origin, where, "'24h'", "from 1m to 720h, or '0s' for never",
                                RECONCILE_MIN, RECONCILE_MAX, never=True) if "reconcile_every" in raw else None
    jql = text(raw, "jql", origin, f"{where} ", default="", allow="\t\n\r")
    if problem := jql_problem(jql):
        raise ConfigError(f"{origin}: {where} key 'jql' {problem}.")
    return SourceConfig(
        name=name, kind=kind, url=url, deployment=deployment, jql=jql, index_lag=index_lag,
        reconcile_every=reconcile_every,
        email=email, token_env=token_env, start=start, origin=origin, **_shared_keys(raw, where, origin),
    )


def _github_source(raw: Mapping[str, Any], name: str, where: str, origin: str, token_env: str,
                   start: date | None) -> SourceConfig:
    repos = text_list(raw, "repos", origin, where)
    for repo in repos:
        if not is_github_repo(repo):
            raise ConfigError(f"{origin}: {where} key 'repos' has '{repo}'; write repositories as 'owner/name'.")
    org = raw.get("org")
    if org is not None and (not isinstance(org, str) or not is_github_name(org.strip())):
        raise ConfigError(f"{origin}: {where} key 'org' must be a GitHub organisation login (letters, digits, - _ .).")
    if bool(repos) == bool(org):
        raise ConfigError(f"{origin}: {where} needs exactly one of 'repos' (a list of 'owner/name') or 'org'.")
    base_url = _url(raw, "base_url", origin, where) if "base_url" in raw else None
    return SourceConfig(
        name=name, kind="github", url=base_url or "https://api.github.com", deployment="cloud",
        token_env=token_env, start=start, repos=tuple(repos), org=org.strip() if org else None,
        base_url=base_url, origin=origin, **_shared_keys(raw, where, origin),
    )


def _url(raw: Mapping[str, Any], key: str, origin: str, where: str) -> str:
    url = text(raw, key, origin, f"{where} ").rstrip("/")
    if problem := http_url_problem(url):
        raise ConfigError(f"{origin}: {where} key '{key}' {problem}.")
    return url


