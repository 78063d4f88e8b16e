"""Configuration: every mistake is one sentence naming the file, the key and what is wrong."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from service.cli import main
from service.config import ConfigError, SourceConfig, load_config, parse_config

GOOD = """
[database]
url = "sqlite:///x.db"

[[organisations]]
name = "Acme"
side = "client"
domains = ["acme.example"]
accounts = ["jira:abc"]

[[organisations]]
name = "Nordlys"
side = "partner"

[[enrollments]]
account = "jira:712020:aa11"
organisation = "Nordlys"
from = 2025-01-01
until = 2025-06-30

[[sources]]
name = "acme-jira"
kind = "jira"
url = "https://acme.atlassian.net/"
deployment = "cloud"
jql = "project in (SHOP, PAY)"
email = "sync-bot@acme.example"
token_env = "PARTNERSCOPE_TEST_TOKEN"
start = 2024-01-01

[workflow.phases]
"Klar for test" = "test"

[kinds]
"Defect" = "bug"

[scorecard]
win_win_at = 0.8
win_lose_at = 0.2
min_samples = 5
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_is_read_key_by_key(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), environ={})
    assert config.database_url == "sqlite:///x.db"
    assert [o.name for o in config.organisations] == ["Acme", "Nordlys"]
    assert config.enrollments[0].start == date(2025, 1, 1) and config.enrollments[0].until == date(2025, 6, 30)
    source = config.source("acme-jira")
    assert source.url == "https://acme.atlassian.net" and source.start == date(2024, 1, 1)
    assert config.phases.phase("klar for test") == "test"
    assert config.phases.phase("In QA") == "test"  # defaults stay underneath
    assert config.kinds.kind("Defect", ()) == "bug"
    assert (config.thresholds.win_win_at, config.thresholds.win_lose_at, config.thresholds.min_samples) == (0.8, 0.2, 5)
    assert source.token({"PARTNERSCOPE_TEST_TOKEN": "s3cret"}) == "s3cret"


def test_example_config_in_the_repository_is_valid() -> None:
    config = load_config(Path(__file__).parents[2] / "config.example.toml", environ={})
    assert config.sources[0].token_env == "JIRA_API_TOKEN"


def test_no_file_means_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, environ={})
    assert config.is_demo
    assert {o.name for o in config.organisations} == {"Acme", "Nordlys"}


def test_environment_variable_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    path = write(tmp_path, GOOD)
    config = load_config(None, environ={"PARTNERSCOPE_CONFIG": str(path)})
    assert config.path == path


@pytest.mark.parametrize(
    "old, new, expected",
    [
        pytest.param('side = "client"', 'side = "vendor"', "[[organisations]] 'Acme' key 'side' is 'vendor'", id="unknown-side"),
        pytest.param('"Klar for test" = "test"', '"Klar for test" = "testing"', "\"Klar for test\" = \"testing\": unknown phase", id="unknown-phase"),
        pytest.param('url = "https://acme.atlassian.net/"\n', "", "[[sources]] 'acme-jira' key 'url' is missing", id="missing-url"),
        pytest.param('kind = "jira"', 'kind = "gitlab"', "key 'kind' is 'gitlab'", id="unknown-source-kind"),
        pytest.param('deployment = "cloud"', 'deployment = "onprem"', "key 'deployment' is 'onprem'", id="bad-deployment"),
        pytest.param('organisation = "Nordlys"', 'organisation = "Nobody"', "Nobody", id="enrollment-unknown-org"),
        pytest.param("from = 2025-01-01", 'from = "first of may"', "key 'from' is 'first of may'", id="bad-date"),
        pytest.param("min_samples = 5", "min_samples = 5\nmax_samples = 9", "key 'max_samples' is not a known setting", id="unknown-key"),
        pytest.param('win_lose_at = 0.2', 'win_lose_at = 0.9', "[scorecard]", id="thresholds-crossed"),
        pytest.param('[kinds]', '[kinds\n', "TOML syntax error", id="toml-syntax"),
        pytest.param('"Defect" = "bug"', '"Defect" = 3', "[kinds] \"Defect\" must map to a string", id="kind-not-string"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert expected in message
    assert "\n" not in message


def test_missing_token_is_named_when_a_sync_needs_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace("sqlite:///x.db", f"sqlite:///{tmp_path}/x.db"))
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "sync"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "token_env" in err and "PARTNERSCOPE_TEST_TOKEN" in err and "is not set" in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cli_config_error_exits_2_with_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace('side = "client"', 'side = "vendor"'))
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "report"])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("partnerscope: ") and str(path) in err and "'side'" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_missing_explicit_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(tmp_path / "nope.toml"), "report"])
    assert exited.value.code == 2
    assert "does not exist" in capsys.readouterr().err


def test_declining_resolutions_come_from_the_workflow_table() -> None:
    from service.config import ConfigError, parse_config

    config = parse_config({"workflow": {"declining_resolutions": ["Не будет исправлено"]}}, Path("c.toml"))
    assert config.rules.declines("не будет  исправлено") and not config.rules.declines("Won't Fix")
    assert parse_config({}, Path("c.toml")).rules.declines("won’t_fix")
    with pytest.raises(ConfigError, match=r"\[workflow\] key 'declining_resolutions' must be a list of strings"):
        parse_config({"workflow": {"declining_resolutions": "Won't Fix"}}, Path("c.toml"))


@pytest.mark.parametrize("jql, expected", [
    pytest.param("project = SHOP) OR (project = PAY", "key 'jql' has a ')' at character 15 that closes no '('", id="unbalanced"),
    pytest.param("(project = SHOP", "key 'jql' has 1 '(' that is never closed", id="unclosed"),
    pytest.param("project = SHOP ORDER BY created DESC", "key 'jql' has an ORDER BY of its own", id="order-by"),
])
def test_jql_that_would_escape_the_sync_bound_is_refused_at_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], jql: str, expected: str,
) -> None:
    path = write(tmp_path, GOOD.replace('jql = "project in (SHOP, PAY)"', f'jql = "{jql}"'))
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "report"])
    err = capsys.readouterr().err.strip()
    assert exited.value.code == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"partnerscope: {path}: [[sources]] 'acme-jira' {expected}"), err

# Values a user may paste into token_env by mistake: never repeated in any message.
SECRETS = [
    pytest.param("ATATT3xFfGF0T4nKq9Zr8LmW2YpQ7sV1dE5hJ6kN0oP=3C1A2B4D", id="atlassian-api-token"),
    pytest.param("ghp_R2d2C3po4Bb8Yoda9Luke7Leia6Han5Solo", id="github-classic-token"),
    pytest.param("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", id="github-fine-grained-token"),
    pytest.param("NjM0MTk2ODU3OTc5OkR4Yk1vZ3VlZ0pmS0FhZXp2", id="jira-server-pat-base64"),
    pytest.param("3f2a9c0d8b7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a", id="forty-hex-starting-with-a-digit"),
    pytest.param("f2a9c0d8b7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a1", id="forty-hex-starting-with-a-letter"),
    pytest.param("s3cr3t p4ss/w0rd+=", id="spaces-and-symbols"),
    pytest.param("A_" + "B" * 80, id="longer-than-any-variable-name"),
]


@pytest.mark.parametrize("secret", SECRETS)
def test_token_pasted_into_token_env_is_refused_and_never_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], secret: str,
) -> None:
    path = write(tmp_path, GOOD.replace("PARTNERSCOPE_TEST_TOKEN", secret))
    for command in ("sync", "report"):
        with pytest.raises(SystemExit) as exited:
            main(["--config", str(path), command])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert secret not in err and secret[:12] not in err
        assert f"{path}: [[sources]] 'acme-jira' key 'token_env' must hold the NAME of an environment variable" in err
        assert "looks like a secret" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("secret", SECRETS)
def test_token_of_a_source_built_by_hand_never_echoes_token_env(secret: str) -> None:
    source = SourceConfig(name="s", kind="jira", url="https://x.example", token_env=secret)
    with pytest.raises(ConfigError) as caught:
        source.token({})
    assert secret not in str(caught.value) and "looks like a secret" in str(caught.value)


@pytest.mark.parametrize("name", [
    pytest.param("JIRA_API_TOKEN", id="upper"),
    pytest.param("jira_token", id="lower"),
    pytest.param("_PRIVATE", id="leading-underscore"),
    pytest.param("GITHUB_TOKEN_2", id="digit"),
    pytest.param("PARTNERSCOPE_ACME_JIRA_CLOUD_TOKEN", id="long-with-underscores"),
])
def test_ordinary_variable_names_are_accepted_and_named(name: str) -> None:
    source = SourceConfig(name="s", kind="jira", url="https://x.example", token_env=name)
    with pytest.raises(ConfigError) as caught:
        source.token({})
    assert f"key 'token_env' names {name}, which is not set" in str(caught.value)


# Absurd values, each one sentence naming the file and the key; none may echo a password.
@pytest.mark.parametrize(
    "old, new, expected",
    [
        pytest.param('url = "sqlite:///x.db"', 'url = ""', "[database] key 'url' is not a database URL", id="database-url-empty"),
        pytest.param('url = "sqlite:///x.db"', 'url = "nonsense"', "[database] key 'url' is not a database URL", id="database-url-nonsense"),
        pytest.param('url = "sqlite:///x.db"', 'url = "mysql://u:hunter2@db/x"', "driver 'mysql', which Partnerscope does not support",
                     id="database-unsupported-driver"),
        pytest.param('url = "sqlite:///x.db"', 'url = "postgresql://u:hunter2@db:99999/x"', "[database] key 'url' has port 99999",
                     id="database-port-out-of-range"),
        pytest.param('url = "https://acme.atlassian.net/"', 'url = "https://bot:hunter2@acme.atlassian.net"',
                     "key 'url' must not carry a user name or password", id="source-url-with-credentials"),
        pytest.param('url = "https://acme.atlassian.net/"', 'url = "ftp://bot:hunter2@acme.atlassian.net"',
                     "key 'url' must not carry a user name or password", id="source-url-other-scheme-with-credentials"),
        pytest.param('url = "https://acme.atlassian.net/"', 'url = "https://[::1"', "key 'url' is not a valid URL", id="source-url-broken-ipv6"),
        pytest.param('url = "https://acme.atlassian.net/"', 'url = "https://acme.example:99999"', "key 'url' is not a valid URL",
                     id="source-url-port-out-of-range"),
        pytest.param('url = "https://acme.atlassian.net/"', 'url = "https://acme example"', "key 'url' must be a URL without spaces",
                     id="source-url-with-space"),
        pytest.param('url = "https://acme.atlassian.net/"', 'url = "https://"', "key 'url' must be an https:// (or http://) URL with a host",
                     id="source-url-without-host"),
        pytest.param('url = "https://acme.atlassian.net/"', 'url = "https://acme.example/?jql=x"', "key 'url' must not carry a query",
                     id="source-url-with-query"),
        pytest.param('email = "sync-bot@acme.example"', "email = 5", "key 'email' must be a non-empty string", id="email-number"),
        pytest.param('email = "sync-bot@acme.example"', "email = true", "key 'email' must be a non-empty string", id="email-boolean"),
        pytest.param("start = 2024-01-01", "start = 0001-01-01", "key 'start' is 0001-01-01; use a date from 1970-01-01 up to today",
                     id="start-year-one"),
        pytest.param("start = 2024-01-01", "start = 9999-12-31", "key 'start' is 9999-12-31; use a date from 1970-01-01 up to today",
                     id="start-last-day"),
        pytest.param("start = 2024-01-01", "start = 10:30:00", "key 'start' is datetime.time(10, 30)", id="start-time-of-day"),
        pytest.param("min_samples = 5", "min_samples = -1", "[scorecard] min_samples must be at least 1", id="min-samples-negative"),
        pytest.param("min_samples = 5", "min_samples = 2.5", "[scorecard] min_samples must be a whole number", id="min-samples-fraction"),
        pytest.param("win_win_at = 0.8", "win_win_at = nan", "win_win_at nan", id="threshold-nan"),
        pytest.param("win_win_at = 0.8", "win_win_at = inf", "win_win_at inf", id="threshold-inf"),
        pytest.param("win_lose_at = 0.2", "win_lose_at = -inf", "win_lose_at -inf", id="threshold-minus-inf"),
        pytest.param("win_win_at = 0.8", 'win_win_at = "0.8"', "win_win_at must be a number", id="threshold-string"),
        pytest.param('"Klar for test" = "test"', '"" = "test"', "[workflow.phases] the status name '' is empty", id="phase-empty-status"),
        pytest.param('name = "Acme"', 'name = "Ac\\u001b[2Jme"', "key 'name' must not contain control characters", id="name-escape"),
        pytest.param('name = "Acme"', 'name = "Ac\\u202eme"', "key 'name' must not contain control characters", id="name-bidi-override"),
        pytest.param('accounts = ["jira:abc"]', 'accounts = ["jira:"]', "key 'accounts' has 'jira:'", id="account-without-id"),
        pytest.param('accounts = ["jira:abc"]', 'accounts = ["gitlab:abc"]', "key 'accounts' has 'gitlab:abc'", id="account-unknown-tracker"),
        pytest.param('account = "jira:712020:aa11"', 'account = "nobody"', "key 'account' has 'nobody'", id="enrollment-account-neither"),
        pytest.param('domains = ["acme.example"]', 'domains = [""]', "key 'domains' must be a list of strings", id="domain-empty"),
        pytest.param("min_samples = 5", "min_samples = 5\nrecent_months = 0", "[scorecard] key 'recent_months' must be a whole number of months from 1 to 120", id="recent-zero"),
        pytest.param("min_samples = 5", "min_samples = 5\nrecent_months = 1e9", "key 'recent_months'", id="recent-huge-float"),
        pytest.param("min_samples = 5", 'min_samples = 5\nrecent_months = "6"', "key 'recent_months'", id="recent-string"),
        pytest.param("min_samples = 5", "min_samples = 5\nshift_alpha = 0", "[scorecard] key 'shift_alpha' must be a number between 0 and 0.5", id="alpha-zero"),
        pytest.param("min_samples = 5", "min_samples = 5\nshift_alpha = nan", "key 'shift_alpha'", id="alpha-nan"),
        pytest.param("min_samples = 5", "min_samples = 5\nshift_alpha = true", "key 'shift_alpha'", id="alpha-boolean"),
        pytest.param("min_samples = 5", "min_samples = 5\n[scorecard.signals.vibes]\nwin_win_at = 1", "[scorecard.signals] key 'vibes' is not a known setting", id="signal-unknown"),
        pytest.param("min_samples = 5", "min_samples = 5\n[scorecard.signals.project_management]\nwin_win_at = 0.6", "[scorecard.signals.project_management] win_win_at (0.6) must be below win_lose_at (0.5)", id="signal-lower-is-better-crossed"),
        pytest.param("min_samples = 5", "min_samples = 5\n[scorecard.signals.communication]\nmin_samples = 0", "[scorecard.signals.communication] min_samples", id="signal-min-samples-zero"),
        pytest.param("min_samples = 5", "min_samples = 5\n[scorecard.signals.focus]\nwin_win_at = inf", "[scorecard.signals.focus] win_win_at must be a number", id="signal-inf"),
        pytest.param("min_samples = 5", "min_samples = 5\n[scorecard.signals.focus]\nmood = 1", "[scorecard.signals.focus] key 'mood' is not a known setting", id="signal-unknown-key"),
        pytest.param("min_samples = 5", "min_samples = 5\n[scorecard.signals.contract_type]\nwin_win_at = 1", "contract_type is declared, not judged", id="declared-thresholds"),
        pytest.param("min_samples = 5", "min_samples = 5\n[scorecard.signals]\nfocus = 3", "[scorecard.signals.focus] must be a table", id="signal-not-a-table"),
        pytest.param("[scorecard]", '[declared]\ncontract_type = "SLA\\u001b[2J"\n[scorecard]', "[declared] key 'contract_type' must not contain control characters", id="declared-escape"),
        pytest.param("[scorecard]", '[declared]\ncontract_type = 5\n[scorecard]', "[declared] key 'contract_type' must be a non-empty string", id="declared-number"),
        pytest.param("[scorecard]", '[declared]\nprice = "low"\n[scorecard]', "[declared] key 'price' is not a known setting", id="declared-unknown"),
    ],
)
def test_absurd_values_are_one_sentence_naming_file_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, expected: str,
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and expected in message, message
    assert "hunter2" not in message and "\n" not in message
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(path), "report"])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.startswith("partnerscope: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and "hunter2" not in err


@pytest.mark.parametrize("old, new", [
    pytest.param('name = "Acme"', 'name = "株式会社アクメ 🚀"', id="unicode-organisation"),
    pytest.param('name = "acme-jira"', 'name = "jira-ÆØÅ-日本"', id="unicode-source"),
    pytest.param('jql = "project in (SHOP, PAY)"', 'jql = """\nproject in (SHOP, PAY)\n  AND summary ~ "a ) b"\n"""',
                 id="multi-line-jql-with-quoted-paren"),
    pytest.param("min_samples = 5", "min_samples = 9223372036854775807", id="huge-min-samples"),
    pytest.param("from = 2025-01-01", "from = 0001-01-01", id="enrollment-from-year-one"),
    pytest.param("until = 2025-06-30", "until = 9999-12-31", id="enrollment-until-last-day"),
])
def test_unusual_but_meaningful_values_are_accepted(tmp_path: Path, old: str, new: str) -> None:
    assert old in GOOD
    load_config(write(tmp_path, GOOD.replace(old, new, 1)), environ={})


GITHUB = GOOD + """
[[sources]]
name = "nordlys-github"
kind = "github"
repos = ["nordlys-dev/shop"]
token_env = "GITHUB_TOKEN"

[[people]]
name = "Ola"
accounts = ["jira:aa11", "github:olan"]
"""


@pytest.mark.parametrize("old, new, expected", [
    pytest.param('repos = ["nordlys-dev/shop"]', 'repos = ["nordlys-dev/.."]', "key 'repos' has 'nordlys-dev/..'", id="repo-dot-dot"),
    pytest.param('repos = ["nordlys-dev/shop"]', 'repos = ["nordlys dev/shop"]', "key 'repos' has 'nordlys dev/shop'", id="repo-space"),
    pytest.param('repos = ["nordlys-dev/shop"]', 'repos = ["nordlys-dev/shop?per_page=1"]', "key 'repos' has", id="repo-query"),
    pytest.param('repos = ["nordlys-dev/shop"]', 'org = "nordlys/dev"', "key 'org' must be a GitHub organisation login", id="org-slash"),
    pytest.param('repos = ["nordlys-dev/shop"]', 'repos = ["a/b"]\nbase_url = "https://bot:hunter2@ghe.example/api/v3"',
                 "key 'base_url' must not carry a user name or password", id="base-url-with-credentials"),
    pytest.param('side = "partner"', 'side = "partner"\ngithub_orgs = ["nordlys dev"]', "key 'github_orgs' must list GitHub",
                 id="github-orgs-space"),
    pytest.param('accounts = ["jira:aa11", "github:olan"]', 'accounts = ["jira:aa11", "jira:aa11"]',
                 "must name at least two different accounts", id="person-same-account-twice"),
    pytest.param('token_env = "GITHUB_TOKEN"', 'token_env = "ghp_R2d2C3po4Bb8Yoda9Luke7Leia6Han5Solo"',
                 "key 'token_env' must hold the NAME", id="github-token-in-token-env"),
])
def test_absurd_github_values_are_one_sentence(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GITHUB
    path = write(tmp_path, GITHUB.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and expected in message, message
    assert "hunter2" not in message and "R2d2C3po" not in message


WEBHOOK_SOURCE = {"name": "acme-gh", "kind": "github", "repos": ["acme/shop"], "token_env": "GITHUB_TOKEN"}


def test_webhook_keys_name_a_variable_and_an_explicit_choice() -> None:
    from service.config import parse_config

    config = parse_config({"sources": [dict(WEBHOOK_SOURCE, webhook_secret_env="ACME_HOOK_SECRET")],
                           "webhooks": {"retention_days": 7}}, Path("c.toml"))
    source = config.source("acme-gh")
    assert (source.webhook_secret_env, source.allow_unsigned, config.webhook_retention_days) == ("ACME_HOOK_SECRET", False, 7)
    assert source.webhook_secret({"ACME_HOOK_SECRET": "s3cret"}) == b"s3cret"
    assert source.webhook_secret({}) is None
    assert parse_config({}, Path("c.toml")).webhook_retention_days == 30


@pytest.mark.parametrize(("change", "message"), [
    pytest.param({"webhook_secret_env": "ghp_0123456789abcdefABCDEF0123456789abcd"}, "key 'webhook_secret_env' must hold the NAME",
                 id="secret-pasted"),
    pytest.param({"allow_unsigned": "yes"}, "key 'allow_unsigned' must be true or false", id="unsigned-string"),
    pytest.param({"webhook_secret": "x"}, "key 'webhook_secret' is not a known setting", id="typo"),
])
def test_bad_webhook_keys_are_one_sentence(change, message) -> None:
    from service.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=message) as caught:
        parse_config({"sources": [dict(WEBHOOK_SOURCE, **change)]}, Path("c.toml"))
    assert "0123456789abcdef" not in str(caught.value)


@pytest.mark.parametrize("days", [0, -1, 3651, 1.5, True, "30"])
def test_retention_must_be_whole_days(days) -> None:
    from service.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=r"\[webhooks\] key 'retention_days' must be a whole number of days"):
        parse_config({"webhooks": {"retention_days": days}}, Path("c.toml"))


def test_web_secure_cookies_is_a_boolean() -> None:
    assert parse_config({}, Path("c.toml")).secure_cookies is False
    assert parse_config({"web": {"secure_cookies": True}}, Path("c.toml")).secure_cookies is True
    for bad in ("yes", 1, "true"):
        with pytest.raises(ConfigError, match=r"\[web\] key 'secure_cookies' must be true or false"):
            parse_config({"web": {"secure_cookies": bad}}, Path("c.toml"))
    with pytest.raises(ConfigError, match=r"\[web\]"):
        parse_config({"web": {"secure_cookie": True}}, Path("c.toml"))


def test_server_workers_default_to_two_and_take_one_to_sixty_four() -> None:
    assert parse_config({}, Path("c.toml")).workers == 2
    assert [parse_config({"server": {"workers": n}}, Path("c.toml")).workers for n in (1, 64)] == [1, 64]
    with pytest.raises(ConfigError, match=r"\[server\] key 'worker' is not a known setting"):
        parse_config({"server": {"worker": 2}}, Path("c.toml"))
    with pytest.raises(ConfigError, match=r"\[server\] must be a table"):
        parse_config({"server": 2}, Path("c.toml"))
