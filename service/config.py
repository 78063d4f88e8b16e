"""Read and validate `config.toml`; every mistake becomes one sentence naming file and key."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Mapping

from analytics.affiliation import Affiliator, Enrollment, Organisation
from analytics.attribution import RuleSettings
from analytics.phases import PHASES, KindMap, PhaseMap
from analytics.scorecard import Thresholds
from connectors.jql import jql_problem
from service.config_values import (database_url_problem, has_control, http_url_problem, is_account,
                                   is_github_name, is_github_repo, start_problem, token_env_problem)

DEFAULT_DATABASE_URL = "sqlite:///partnerscope.db"
CONFIG_ENV = "PARTNERSCOPE_CONFIG"
SOURCE_KINDS = ("jira", "github")
DEPLOYMENTS = ("cloud", "server")


class ConfigError(Exception):
    """A configuration mistake; the message is one sentence naming the file and the key."""


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
    origin: str = "config.toml"

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


@dataclass(frozen=True)
class PersonConfig:
    """A `[[people]]` entry: accounts on several trackers that are one human."""

    name: str
    accounts: tuple[str, ...]


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
    if path is None:
        return demo_config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}.") from None
    return parse_config(data, path)


def demo_config() -> Config:
    """The embedded default: SQLite in the current directory and the demo scenario's organisations."""
    from simulator.scenario import scenario_config

    return parse_config(scenario_config(), None)


_TOP_KEYS = {"database", "organisations", "enrollments", "sources", "workflow", "kinds", "scorecard", "people",
             "github"}


def parse_config(data: Mapping[str, Any], path: Path | None) -> Config:
    """Validate parsed TOML into a `Config`, refusing unknown or malformed keys."""
    origin = str(path) if path else "the demo configuration"
    _no_unknown(data, _TOP_KEYS, origin, "")
    database = _table(data, "database", origin)
    _no_unknown(database, {"url"}, origin, "[database] ")
    url = _str(database, "url", origin, "[database] ", default=DEFAULT_DATABASE_URL)
    if problem := database_url_problem(url):
        raise ConfigError(f"{origin}: [database] key 'url' {problem}.")

    raw_organisations = _array(data, "organisations", origin)
    organisations = tuple(_organisation(o, i, origin) for i, o in enumerate(raw_organisations, 1))
    github_orgs = {o.name: tuple(_str_list(raw, "github_orgs", origin, f"[[organisations]] '{o.name}'"))
                   for o, raw in zip(organisations, raw_organisations) if raw.get("github_orgs")}
    for org_name, logins in github_orgs.items():
        if not all(map(is_github_name, logins)):
            raise ConfigError(f"{origin}: [[organisations]] '{org_name}' key 'github_orgs' must list GitHub "
                              "organisation logins (letters, digits, - _ .).")
    people = tuple(_person(p, i, origin) for i, p in enumerate(_array(data, "people", origin), 1))
    enrollments = tuple(_enrollment(e, i, origin) for i, e in enumerate(_array(data, "enrollments", origin), 1))
    sources = tuple(_source(s, i, origin) for i, s in enumerate(_array(data, "sources", origin), 1))
    names = [s.name for s in sources]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{origin}: [[sources]] name '{name}' is used twice; source names must be unique.")
    try:
        Affiliator(organisations, enrollments)
    except ValueError as exc:
        raise ConfigError(f"{origin}: {exc}") from None

    workflow = _table(data, "workflow", origin)
    _no_unknown(workflow, {"phases", "declining_resolutions"}, origin, "[workflow] ")
    phase_overrides = _str_map(_table(workflow, "phases", origin), origin, "[workflow.phases]")
    for status, phase in phase_overrides.items():
        if phase not in PHASES:
            raise ConfigError(
                f"{origin}: [workflow.phases] \"{status}\" = \"{phase}\": unknown phase; use one of {', '.join(PHASES)}."
            )
    try:
        phase_map = PhaseMap(phase_overrides)
    except ValueError as exc:
        raise ConfigError(f"{origin}: [workflow.phases] {exc}") from None
    kinds = _str_map(_table(data, "kinds", origin), origin, "[kinds]")
    try:
        kind_map = KindMap(kinds)
    except ValueError as exc:
        raise ConfigError(f"{origin}: [kinds] {exc}") from None

    scorecard = _table(data, "scorecard", origin)
    _no_unknown(scorecard, {"win_win_at", "win_lose_at", "min_samples"}, origin, "[scorecard] ")
    try:
        thresholds = Thresholds(**{k: scorecard[k] for k in scorecard})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: [scorecard] {exc}") from None
    github = _table(data, "github", origin)
    _no_unknown(github, {"verification_labels", "acceptance_labels"}, origin, "[github] ")
    settings: dict[str, Any] = {k: tuple(_str_list(github, k, origin, "[github]")) for k in github}
    if "declining_resolutions" in workflow:
        settings["declining_resolutions"] = tuple(_str_list(workflow, "declining_resolutions", origin, "[workflow]"))
    try:
        rules = RuleSettings(**settings)
    except ValueError as exc:
        raise ConfigError(f"{origin}: [github] {exc}") from None
    return Config(
        path=path,
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
    )


def _organisation(raw: Any, index: int, origin: str) -> Organisation:
    where = f"[[organisations]] #{index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: {where} must be a table.")
    _no_unknown(raw, {"name", "side", "domains", "accounts", "github_orgs"}, origin, f"{where} ")
    name = _str(raw, "name", origin, f"{where} ")
    where = f"[[organisations]] '{name}'"
    side = _str(raw, "side", origin, f"{where} ")
    if side not in ("client", "partner"):
        raise ConfigError(f"{origin}: {where} key 'side' is '{side}'; use 'client' or 'partner'.")
    domains = _str_list(raw, "domains", origin, where)
    accounts = _str_list(raw, "accounts", origin, where)
    for ref in accounts:
        if not is_account(ref):
            raise ConfigError(f"{origin}: {where} key 'accounts' has '{ref}'; write accounts as 'jira:ID' or 'github:LOGIN'.")
    return Organisation(name=name, side=side, domains=tuple(d.lower() for d in domains), accounts=tuple(accounts))


def _enrollment(raw: Any, index: int, origin: str) -> Enrollment:
    where = f"[[enrollments]] #{index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: {where} must be a table.")
    _no_unknown(raw, {"account", "organisation", "from", "until"}, origin, f"{where} ")
    account = _str(raw, "account", origin, f"{where} ")
    if not (is_account(account) or ("@" in account and ":" not in account)):
        raise ConfigError(f"{origin}: {where} key 'account' has '{account}'; write 'jira:ID', 'github:LOGIN' or an email address.")
    return Enrollment(
        account=account,
        organisation=_str(raw, "organisation", origin, f"{where} "),
        start=_date(raw, "from", origin, where),
        until=_date(raw, "until", origin, where),
    )


def _person(raw: Any, index: int, origin: str) -> PersonConfig:
    where = f"[[people]] #{index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: {where} must be a table.")
    _no_unknown(raw, {"name", "accounts"}, origin, f"{where} ")
    name = _str(raw, "name", origin, f"{where} ")
    accounts = _str_list(raw, "accounts", origin, f"[[people]] '{name}'")
    for ref in accounts:
        if not is_account(ref):
            raise ConfigError(f"{origin}: [[people]] '{name}' key 'accounts' has '{ref}'; write accounts as 'jira:ID' or 'github:LOGIN'.")
    if len(set(accounts)) < 2:
        raise ConfigError(f"{origin}: [[people]] '{name}' key 'accounts' must name at least two different accounts to merge.")
    return PersonConfig(name, tuple(accounts))


_SOURCE_KEYS = {
    "jira": {"name", "kind", "url", "deployment", "jql", "email", "token_env", "start"},
    "github": {"name", "kind", "repos", "org", "base_url", "token_env", "start"},
}


def _source(raw: Any, index: int, origin: str) -> SourceConfig:
    where = f"[[sources]] #{index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{origin}: {where} must be a table.")
    name = _str(raw, "name", origin, f"{where} ")
    where = f"[[sources]] '{name}'"
    kind = _str(raw, "kind", origin, f"{where} ")
    if kind not in SOURCE_KINDS:
        raise ConfigError(f"{origin}: {where} key 'kind' is '{kind}'; use one of {', '.join(SOURCE_KINDS)}.")
    _no_unknown(raw, _SOURCE_KEYS[kind], origin, f"{where} ")
    token_env = _str(raw, "token_env", origin, f"{where} ")
    if problem := token_env_problem(token_env):
        raise ConfigError(f"{origin}: {where} key 'token_env' {problem}.")
    start = _date(raw, "start", origin, where)
    if start is not None and (problem := start_problem(start, date.today())):
        raise ConfigError(f"{origin}: {where} key 'start' {problem}.")
    if kind == "github":
        return _github_source(raw, name, where, origin, token_env, start)
    url = _url(raw, "url", origin, where)
    deployment = _str(raw, "deployment", origin, f"{where} ", default="cloud")
    if deployment not in DEPLOYMENTS:
        raise ConfigError(f"{origin}: {where} key 'deployment' is '{deployment}'; use 'cloud' or 'server'.")
    email = _str(raw, "email", origin, f"{where} ") if "email" in raw else None
    if deployment == "cloud" and not email:
        raise ConfigError(f"{origin}: {where} key 'email' is missing; Jira Cloud authenticates with the account's email and an API token.")
    jql = _str(raw, "jql", origin, f"{where} ", default="", allow="\t\n\r")
    if problem := jql_problem(jql):
        raise ConfigError(f"{origin}: {where} key 'jql' {problem}.")
    return SourceConfig(
        name=name, kind=kind, url=url, deployment=deployment, jql=jql,
        email=email, token_env=token_env, start=start, origin=origin,
    )


def _github_source(raw: Mapping[str, Any], name: str, where: str, origin: str, token_env: str,
                   start: date | None) -> SourceConfig:
    repos = _str_list(raw, "repos", origin, where)
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
        base_url=base_url, origin=origin,
    )


def _url(raw: Mapping[str, Any], key: str, origin: str, where: str) -> str:
    url = _str(raw, key, origin, f"{where} ").rstrip("/")
    if problem := http_url_problem(url):
        raise ConfigError(f"{origin}: {where} key '{key}' {problem}.")
    return url


def _no_unknown(table: Mapping[str, Any], allowed: set[str], origin: str, where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{origin}: {where}key '{key}' is not a known setting; known: {', '.join(sorted(allowed))}.")


def _table(data: Mapping[str, Any], key: str, origin: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{origin}: [{key}] must be a table.")
    return value


def _array(data: Mapping[str, Any], key: str, origin: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{origin}: '{key}' must be an array of tables ([[{key}]]).")
    return value


def _str(table: Mapping[str, Any], key: str, origin: str, where: str, default: str | None = None,
         allow: str = "") -> str:
    value = table.get(key, default)
    if value is None:
        raise ConfigError(f"{origin}: {where}key '{key}' is missing.")
    if not isinstance(value, str) or (not value.strip() and default is None):
        raise ConfigError(f"{origin}: {where}key '{key}' must be a non-empty string.")
    if has_control(value.strip(), allow):  # names and ids are printed on terminals and in one-line errors
        raise ConfigError(f"{origin}: {where}key '{key}' must not contain control characters.")
    return value.strip()


def _str_list(table: Mapping[str, Any], key: str, origin: str, where: str) -> list[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() and not has_control(v.strip())
                                              for v in value):
        raise ConfigError(f"{origin}: {where} key '{key}' must be a list of strings without control characters.")
    return [v.strip() for v in value]


def _str_map(table: Mapping[str, Any], origin: str, where: str) -> dict[str, str]:
    for key, value in table.items():
        if not isinstance(value, str):
            raise ConfigError(f"{origin}: {where} \"{key}\" must map to a string.")
    return dict(table)


def _date(table: Mapping[str, Any], key: str, origin: str, where: str) -> date | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{origin}: {where} key '{key}' is {value!r}; write a date as 2025-01-31.")
