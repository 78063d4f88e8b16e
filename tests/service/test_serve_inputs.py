"""`partnerscope serve`'s inputs: `[server] workers` and `--host`, refused in one sentence that
names the key or the option, before anything listens."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.service.test_report_inputs import cli


@pytest.mark.parametrize("value", [
    pytest.param("0", id="zero"), pytest.param("-1", id="negative"), pytest.param('"two"', id="word"),
    pytest.param("1e9", id="float-billion"), pytest.param("true", id="boolean"), pytest.param("65", id="too-many"),
    pytest.param("2.0", id="whole-float"), pytest.param("[2]", id="array"), pytest.param("9999999999999999999", id="huge"),
    pytest.param('"2"', id="number-as-text"),
])
def test_bad_workers_are_refused_naming_file_and_key(tmp_path: Path, db_url: str, capsys, value: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[server]\nworkers = {value}\n', encoding="utf-8")
    code, out, err = cli(capsys, config, "serve", "--port", "8000")
    assert code == 2 and out == ""
    assert err == f"partnerscope: {config}: [server] key 'workers' must be a whole number of processes from 1 to 64.\n"


@pytest.mark.parametrize("host, expected", [
    pytest.param("", "Invalid value for '--host':  is not a host name or address of this machine.", id="empty"),
    pytest.param("x" * 300, "is not a host name or address of this machine.", id="label-too-long"),
    pytest.param("10.255.255.1", "Error: cannot serve on 10.255.255.1 port 8000: Cannot assign requested address.",
                 id="not-this-machine"),
])
def test_a_host_that_cannot_be_served_is_one_sentence(tmp_path: Path, db_url: str, capsys, host: str,
                                                      expected: str) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    code, out, err = cli(capsys, config, "serve", "--host", host, "--port", "8000")
    assert code in (1, 2) and out == "" and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("Error: ") and expected in err.strip().splitlines()[-1]
