"""The command line end to end on a small demo: every command answers, errors are one sentence."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli, main
from simulator.people import scenario_toml


@pytest.fixture
def demo_config(db_url: str, tmp_path: Path) -> Path:
    """The demo's organisations, written as a user's config file, on the test database."""
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n\n' + scenario_toml(), encoding="utf-8")
    return path


def invoke(config: Path, *args: str):
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_then_every_reading_command(demo_config: Path) -> None:
    out = invoke(demo_config, "demo", "--tickets", "80")
    assert "demo: 80 tickets" in out
    report = json.loads(invoke(demo_config, "report", "--format", "json"))
    assert set(report["areas"]) >= {"requirements", "quality_assurance", "issue_management", "improvements", "deployment"}
    assert sum(report["roles"]["detect"].values()) > 0
    assert invoke(demo_config, "statuses", "--unmapped").strip() == ""
    people = invoke(demo_config, "people", "--unaffiliated")
    assert "unaffiliated" in people and "(partner)" not in people and "(client)" not in people
    again = invoke(demo_config, "classify")
    assert "classified 80 tickets" in again
    assert json.loads(invoke(demo_config, "report", "--format", "json")) == report
    assert "is up to date" in invoke(demo_config, "db", "upgrade")


def test_demo_no_shift_keeps_the_partner_share_steady(demo_config: Path) -> None:
    assert "demo: 300 tickets" in invoke(demo_config, "demo", "--tickets", "300", "--no-shift")

    def deploy_share(*bounds: str) -> float:
        deploy = json.loads(invoke(demo_config, "report", "--format", "json", *bounds))["roles"]["deploy"]
        return deploy["partner"] / (deploy["partner"] + deploy["client"])

    # The default scenario deploys about 0.2 by the partner before the middle and 0.8 after.
    first, second = deploy_share("--until", "2025-09-30"), deploy_share("--since", "2025-10-01")
    assert 0.35 < first < 0.65 and 0.35 < second < 0.65 and abs(first - second) < 0.15


def test_sync_without_sources_is_a_config_error(demo_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(demo_config), "sync"])
    assert exited.value.code == 2
    assert "no [[sources]] are configured" in capsys.readouterr().err


def test_unreachable_database_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[database]\nurl = "postgresql+psycopg://nobody:hunter2@127.0.0.1:9/none"\n', encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "report"])
    err = capsys.readouterr().err.strip()
    assert exited.value.code == 1
    assert err.startswith("partnerscope: database error") and "Traceback" not in err
    assert "hunter2" not in err


def test_batch_jobs_make_full_collections_rare_and_restore_the_pace() -> None:
    import gc

    from service.jobs.heap import RARE_FULL_COLLECTIONS, batch_collections

    before = gc.get_threshold()
    with batch_collections():
        assert gc.get_threshold() == (before[0], before[1], max(before[2], RARE_FULL_COLLECTIONS))
    assert gc.get_threshold() == before


@pytest.mark.parametrize("error, expected", [
    ("locked", "the database stayed busy with another process's writes for longer than this command waits; "
               "everything committed before is kept, so run the command again."),
    ("integrity", "another process wrote the same rows at the same moment, so this command's last transaction was "
                  "rolled back (IntegrityError); everything committed before is kept, so run it again."),
])
def test_a_sync_that_loses_a_race_ends_with_a_sentence(demo_config: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch, error: str,
                                                       expected: str) -> None:
    import sqlite3

    from sqlalchemy.exc import IntegrityError, OperationalError

    raised = (OperationalError("UPDATE sync_state", {}, sqlite3.OperationalError("database is locked"))
              if error == "locked" else
              IntegrityError("INSERT INTO accounts", {}, sqlite3.IntegrityError("UNIQUE constraint failed: accounts.ref")))

    def losing(*_args: object, **_kwargs: object) -> None:
        raise raised
    monkeypatch.setattr("service.commands.ingest.run_sync", losing)
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(demo_config), "sync"])
    err = capsys.readouterr().err
    assert exited.value.code == 1 and err == f"partnerscope: {expected}\n"
