"""The demo tells its story without filters: win-lose before the shift, win-win after, and the month."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli
from simulator.people import scenario_toml

SHIFTING = ("quality_assurance", "issue_management", "deployment")


def build_and_report(folder: Path, *flags: str) -> dict:
    config = folder / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{folder / "demo.db"}"\n\n' + scenario_toml(), encoding="utf-8")
    runner = CliRunner()
    built = runner.invoke(cli, ["--config", str(config), "demo", *flags], catch_exceptions=False)
    assert built.exit_code == 0, built.output
    out = runner.invoke(cli, ["--config", str(config), "report", "--format", "json"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return build_and_report(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def steady_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return build_and_report(tmp_path_factory.mktemp("steady"), "--no-shift")


@pytest.mark.parametrize("name", SHIFTING)
def test_recent_window_reads_win_win_and_the_start_win_lose(demo_report: dict, name: str) -> None:
    signal = demo_report["signals"][name]
    assert (signal["recent"]["from"], signal["recent"]["until"]) == ("2026-01", "2026-06")
    assert signal["recent"]["assessment"] == "win-win"
    assert signal["whole"]["assessment"] == "mixed"
    first_half = [point["value"] for point in signal["series"][:6]]
    assert all(value is not None and value <= 0.3 for value in first_half), first_half


@pytest.mark.parametrize("name", SHIFTING)
def test_change_detection_names_the_halfway_month(demo_report: dict, name: str) -> None:
    # The scenario's partner share flips along a logistic curve centred on 2025-10-01.
    shift = demo_report["signals"][name]["shift"]
    assert shift is not None and shift["month"] in ("2025-09", "2025-10", "2025-11")
    assert shift["before"] < 0.3 and shift["after"] > 0.65 and shift["p_value"] < 1e-6


def test_the_demo_has_one_partner_and_two_projects(demo_report: dict) -> None:
    qa = demo_report["signals"]["quality_assurance"]
    assert set(qa["by_partner"]) == {"Nordlys"} and set(qa["by_project"]) == {"PAY", "SHOP"}
    assert qa["by_partner"]["Nordlys"]["shift"]["month"] == qa["shift"]["month"]


def test_a_steady_collaboration_shows_no_shift(steady_report: dict) -> None:
    """The control scenario: the same people and sizes, each kind of act shared at one constant
    rate. A shift found here would be a false alarm."""
    shifted = {name: entry["shift"] for name, entry in steady_report["signals"].items() if entry["shift"]}
    assert shifted == {}
    for name in SHIFTING:
        entry = steady_report["signals"][name]
        assert entry["recent"]["assessment"] == entry["whole"]["assessment"], name
