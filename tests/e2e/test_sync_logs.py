"""A real `partnerscope sync` with JSON logs, debug on: every stderr line is a JSON object and the
token appears nowhere, though the command read it, sent it and logged every request."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import EMAIL, SOURCE_NAME, TOKEN, TOKEN_ENV

ROOT = Path(__file__).resolve().parents[2]


def test_a_json_logged_sync_shows_no_token(fake_jira, db_url: str, tmp_path: Path) -> None:
    server = fake_jira()
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n\n[[sources]]\nname = "{SOURCE_NAME}"\nkind = "jira"\n'
                      f'url = "{server.url}"\ndeployment = "cloud"\njql = "project in (SHOP, PAY)"\n'
                      f'email = "{EMAIL}"\ntoken_env = "{TOKEN_ENV}"\nstart = 2024-01-01\n', encoding="utf-8")
    env = dict(os.environ, **{TOKEN_ENV: TOKEN, "PARTNERSCOPE_LOG_FORMAT": "json"})
    done = subprocess.run([sys.executable, "-m", "service.cli", "--debug", "--config", str(config), "sync"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{SOURCE_NAME}: 200 tickets" in done.stdout
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert all({"timestamp", "level", "logger", "event"} <= set(line) for line in lines)
    assert any(line["logger"] == "urllib3.connectionpool" for line in lines)  # the requests were logged
    basic = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    for text in (done.stdout, done.stderr):
        assert TOKEN not in text and basic not in text
