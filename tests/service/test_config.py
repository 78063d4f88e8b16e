"""Configuration: every mistake is one sentence naming the file, the key and what is wrong."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from service.cli import main
from service.config import ConfigError, SourceConfig, load_config

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

