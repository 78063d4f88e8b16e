"""Read and validate `config.toml`; every mistake becomes one sentence naming file and key."""
from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote

from analytics.affiliation import Affiliator, Enrollment, Organisation
from analytics.attribution import RuleSettings
from analytics.phases import PHASES, KindMap, PhaseMap
from analytics.scorecard import Thresholds
from service.config_signals import SignalSettings, read_signals
from service.config_sources import SourceConfig, read_source
from service.config_tables import ConfigError, array, day, no_unknown, table, text, text_list, text_map
from service.config_values import database_url_problem, is_account, is_github_name, queue_url_problem, token_env_problem

DEFAULT_DATABASE_URL = "sqlite:///partnerscope.db"
RETENTION_DAYS = 30  # webhook deliveries are kept this long by default, then pruned
WORKERS, MAX_WORKERS = 2, 64  # [server] workers: the processes `partnerscope serve` answers requests with
CONFIG_ENV = "PARTNERSCOPE_CONFIG"
CLAIM_TIMEOUT_ENV = "PARTNERSCOPE_CLAIM_TIMEOUT"


@dataclass(frozen=True)
class PersonConfig:
    """A `[[people]]` entry: accounts on several trackers that are one human."""

    name: str
    accounts: tuple[str, ...]


@dataclass(frozen=True)
class QueueConfig:
    """`[queue]`: the Redis that carries sync and delivery jobs to every `partnerscope worker`."""

    url: str
    password_env: str | None = None

    def connection_url(self, environ: Mapping[str, str] = os.environ) -> str:
        """The URL with the password from `password_env` put in, read now (never stored or shown)."""
        if not self.password_env:
            return self.url
        password = environ.get(self.password_env, "")
        if not password:
            raise ConfigError(f"[queue] key 'password_env' names {self.password_env}, which is not set in the environment.")
        scheme, rest = self.url.split("://", 1)
        return f"{scheme}://:{quote(password, safe='')}@{rest}"


@dataclass(frozen=True)
class Config:
    """The whole validated configuration; `path` is None for the built-in demo."""

    path: Path | None
    database_url: str = DEFAULT_DATABASE_URL
    organisations: tuple[Organisation, ...] = ()
    enrollments: tuple[Enrollment, ...] = ()
    sources: tuple[SourceConfig, ...] = ()
    people: tuple[PersonConfig, ...] = ()
    github_orgs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # organisation -> GitHub orgs
    phases: PhaseMap = field(default_factory=PhaseMap)
    kinds: KindMap = field(default_factory=KindMap)
    thresholds: Thresholds = field(default_factory=Thresholds)
    rules: RuleSettings = field(default_factory=RuleSettings)
    webhook_retention_days: int = RETENTION_DAYS
    secure_cookies: bool = False  # [web] secure_cookies: the session cookie travels over HTTPS only
    workers: int = WORKERS  # [server] workers
    signals: SignalSettings = field(default_factory=SignalSettings)
    claim_timeout: timedelta | None = None  # from PARTNERSCOPE_CLAIM_TIMEOUT; None: the store's CLAIM_TIMEOUT
    queue: QueueConfig | None = None  # [queue]: syncs and deliveries go through Redis; None: in-process

    @property
    def is_demo(self) -> bool:
        return self.path is None

    def affiliator(self) -> Affiliator:
        return Affiliator(self.organisations, self.enrollments)

    def source(self, name: str) -> SourceConfig:
        for source in self.sources:
            if source.name == name:
                return source
        names = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"{self.path or 'the demo configuration'}: no source named '{name}' (configured: {names}).")


def find_config_path(explicit: str | os.PathLike[str] | None, environ: Mapping[str, str] = os.environ) -> Path | None:
    """`--config PATH`, else `$PARTNERSCOPE_CONFIG`, else `./config.toml`; None when none exists."""
    for candidate, named in ((explicit, "--config"), (environ.get(CONFIG_ENV), CONFIG_ENV)):
        if candidate:
            path = Path(candidate)
            if not path.is_file():
                raise ConfigError(f"{path}: the configuration file given by {named} does not exist.")
            return path
    default = Path("config.toml")
    return default if default.is_file() else None


def load_config(explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] = os.environ) -> Config:
    """Load the configuration the command should use; the built-in demo when there is none."""
    path = find_config_path(explicit, environ)
    timeout = claim_timeout(environ)
    if path is None:
        return replace(demo_config(), claim_timeout=timeout)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}.") from None
    return replace(parse_config(data, path), claim_timeout=timeout)


def claim_timeout(environ: Mapping[str, str] = os.environ) -> timedelta | None:
    """The seconds after which a webhook delivery claimed by an applier that stopped (a killed
    process) is taken over, from PARTNERSCOPE_CLAIM_TIMEOUT; None when it is not set.

    Tests that kill a server mid-batch set a few seconds instead of the default two minutes. At
    least one second: a shorter one would hand a batch still being applied to a second applier.
    """
    raw = environ.get(CLAIM_TIMEOUT_ENV, "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and 1 <= seconds <= 86400):
        shown = raw if len(raw) <= 40 and raw.isprintable() else repr(raw[:40]) + "…"
        raise ConfigError(f"{CLAIM_TIMEOUT_ENV} is '{shown}'; give the seconds after which a stopped applier's "
                          "webhook deliveries are taken over, a number from 1 to 86400.")
    return timedelta(seconds=seconds)


def demo_config() -> Config:
    """The embedded default: SQLite in the current directory and the demo scenario's organisations."""
    from simulator.scenario import scenario_config

    return parse_config(scenario_config(), None)


_TOP_KEYS = {"database", "organisations", "enrollments", "sources", "workflow", "kinds", "scorecard", "people",
             "github", "webhooks", "declared", "web", "server", "queue"}


def parse_config(data: Mapping[str, Any], path: Path | None) -> Config:
    """Validate parsed TOML into a `Config`, refusing unknown or malformed keys."""
    origin = str(path) if path else "the demo configuration"
    no_unknown(data, _TOP_KEYS, origin, "")
    database = table(data, "database", origin)
    no_unknown(database, {"url"}, origin, "[database] ")
    url = text(database, "url", origin, "[database] ", default=DEFAULT_DATABASE_URL)
    if problem := database_url_problem(url):
        raise ConfigError(f"{origin}: [database] key 'url' {problem}.")

    raw_organisations = array(data, "organisations", origin)
    organisations = tuple(_organisation(o, i, origin) for i, o in enumerate(raw_organisations, 1))
    github_orgs = {o.name: tuple(text_list(raw, "github_orgs", origin, f"[[organisations]] '{o.name}'"))
                   for o, raw in zip(organisations, raw_organisations) if raw.get("github_orgs")}
    for org_name, logins in github_orgs.items():
        if not all(map(is_github_name, logins)):
            raise ConfigError(f"{origin}: [[organisations]] '{org_name}' key 'github_orgs' must list GitHub "
                              "organisation logins (letters, digits, - _ .).")
    people = tuple(_person(p, i, origin) for i, p in enumerate(array(data, "people", origin), 1))
    enrollments = tuple(_enrollment(e, i, origin) for i, e in enumerate(array(data, "enrollments", origin), 1))
    sources = tuple(read_source(s, i, origin) for i, s in enumerate(array(data, "sources", origin), 1))
    names = [s.name for s in sources]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{origin}: [[sources]] name '{name}' is used twice; source names must be unique.")
    try:
        Affiliator(organisations, enrollments)
    except ValueError as exc:
        raise ConfigError(f"{origin}: {exc}") from None

    workflow = table(data, "workflow", origin)
    no_unknown(workflow, {"phases", "declining_resolutions"}, origin, "[workflow] ")
    phase_overrides = text_map(table(workflow, "phases", origin, "workflow.phases"), origin, "[workflow.phases]")
    for status, phase in phase_overrides.items():
        if phase not in PHASES:
            raise ConfigError(
                f"{origin}: [workflow.phases] \"{status}\" = \"{phase}\": unknown phase; use one of {', '.join(PHASES)}."
            )
    try:
        phase_map = PhaseMap(phase_overrides)
    except ValueError as exc:
        raise ConfigError(f"{origin}: [workflow.phases] {exc}") from None
    kinds = text_map(table(data, "kinds", origin), origin, "[kinds]")
    try:
        kind_map = KindMap(kinds)
    except ValueError as exc:
        raise ConfigError(f"{origin}: [kinds] {exc}") from None

    scorecard = table(data, "scorecard", origin)
    no_unknown(scorecard, {"win_win_at", "win_lose_at", "min_samples", "recent_months", "shift_alpha", "signals"},
               origin, "[scorecard] ")
    try:
        thresholds = Thresholds(**{k: scorecard[k] for k in ("win_win_at", "win_lose_at", "min_samples")
                                   if k in scorecard})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: [scorecard] {exc}") from None
    signals = read_signals(data, scorecard, thresholds, origin)
    github = table(data, "github", origin)
    no_unknown(github, {"verification_labels", "acceptance_labels"}, origin, "[github] ")
    settings: dict[str, Any] = {k: tuple(text_list(github, k, origin, "[github]")) for k in github}
    if "declining_resolutions" in workflow:
        settings["declining_resolutions"] = tuple(text_list(workflow, "declining_resolutions", origin, "[workflow]"))
    try:
        rules = RuleSettings(**settings)
    except ValueError as exc:
        raise ConfigError(f"{origin}: [github] {exc}") from None
    webhooks = table(data, "webhooks", origin)
    no_unknown(webhooks, {"retention_days"}, origin, "[webhooks] ")
    retention = webhooks.get("retention_days", RETENTION_DAYS)
    if isinstance(retention, bool) or not isinstance(retention, int) or not 1 <= retention <= 3650:
        raise ConfigError(f"{origin}: [webhooks] key 'retention_days' must be a whole number of days from 1 to 3650.")
    queue = _queue(table(data, "queue", origin), origin)
    web = table(data, "web", origin)
    no_unknown(web, {"secure_cookies"}, origin, "[web] ")
    secure = web.get("secure_cookies", False)
    if not isinstance(secure, bool):
        raise ConfigError(f"{origin}: [web] key 'secure_cookies' must be true or false.")
    server = table(data, "server", origin)
    no_unknown(server, {"workers"}, origin, "[server] ")
    workers = server.get("workers", WORKERS)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(f"{origin}: [server] key 'workers' must be a whole number of processes from 1 to {MAX_WORKERS}.")
    return Config(
        path=path,
        webhook_retention_days=retention,
        secure_cookies=secure,
        queue=queue,
        workers=workers,
        database_url=url,
        organisations=organisations,
        enrollments=enrollments,
        sources=sources,
        people=people,
        github_orgs=github_orgs,
        phases=phase_map,
        kinds=kind_map,
        thresholds=thresholds,
        rules=rules,
        signals=signals,
    )


def _queue(raw: Mapping[str, Any], origin: str) -> QueueConfig | None:
    if not raw:
        return None
    no_unknown(raw, {"url", "password_env"}, origin, "[queue] ")
    url = text(raw, "url", origin, "[queue] ")
    if problem := queue_url_problem(url):
        raise ConfigError(f"{origin}: [queue] key 'url' {problem}.")
    password_env = text(raw, "password_env", origin, "[queue] ") if "password_env" in raw else None
    if password_env is not None and (problem := token_env_problem(password_env)):
        raise ConfigError(f"{origin}: [queue] key 'password_env' {problem}.")
    return QueueConfig(url, password_env)


def _organisation(raw: Any, index: int, origin: str) -> Organisation:
    where = f"[[organisations]] #{index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: {where} must be a table.")
    no_unknown(raw, {"name", "side", "domains", "accounts", "github_orgs"}, origin, f"{where} ")
    name = text(raw, "name", origin, f"{where} ")
    where = f"[[organisations]] '{name}'"
    side = text(raw, "side", origin, f"{where} ")
    if side not in ("client", "partner"):
        raise ConfigError(f"{origin}: {where} key 'side' is '{side}'; use 'client' or 'partner'.")
    domains = text_list(raw, "domains", origin, where)
    accounts = text_list(raw, "accounts", origin, where)
    for ref in accounts:
        if not is_account(ref):
            raise ConfigError(f"{origin}: {where} key 'accounts' has '{ref}'; write accounts as 'jira:ID' or 'github:LOGIN'.")
    return Organisation(name=name, side=side, domains=tuple(d.lower() for d in domains), accounts=tuple(accounts))


def _enrollment(raw: Any, index: int, origin: str) -> Enrollment:
    where = f"[[enrollments]] #{index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: {where} must be a table.")
    no_unknown(raw, {"account", "organisation", "from", "until"}, origin, f"{where} ")
    account = text(raw, "account", origin, f"{where} ")
    if not (is_account(account) or ("@" in account and ":" not in account)):
        raise ConfigError(f"{origin}: {where} key 'account' has '{account}'; write 'jira:ID', 'github:LOGIN' or an email address.")
    return Enrollment(
        account=account,
        organisation=text(raw, "organisation", origin, f"{where} "),
        start=day(raw, "from", origin, where),
        until=day(raw, "until", origin, where),
    )


def _person(raw: Any, index: int, origin: str) -> PersonConfig:
    where = f"[[people]] #{index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: {where} must be a table.")
    no_unknown(raw, {"name", "accounts"}, origin, f"{where} ")
    name = text(raw, "name", origin, f"{where} ")
    accounts = text_list(raw, "accounts", origin, f"[[people]] '{name}'")
    for ref in accounts:
        if not is_account(ref):
            raise ConfigError(f"{origin}: [[people]] '{name}' key 'accounts' has '{ref}'; write accounts as 'jira:ID' or 'github:LOGIN'.")
    if len(set(accounts)) < 2:
        raise ConfigError(f"{origin}: [[people]] '{name}' key 'accounts' must name at least two different accounts to merge.")
    return PersonConfig(name, tuple(accounts))


