"""Partnerscope commands in processes of their own against the fake trackers, for the worker's
tests: config files, a process that holds a source's lock, and waiting on the database."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select

from service.store.models import SyncRun

ROOT = Path(__file__).resolve().parents[2]
TOKEN_ENV, TOKEN = "ACME_FAKE_JIRA_TOKEN", "fake-token-7f3b9e"
EMAIL = "sync-bot@acme.example"

HOLDER = """
import sys, time
from service.store.db import make_engine, session_factory
from service.store.locks import source_lock
from service.store.runs import recorded
engine = make_engine(sys.argv[1])
with source_lock(engine, sys.argv[2]) as taken, recorded(session_factory(engine), sys.argv[2], "schedule"):
    print("held" if taken else "busy", flush=True)
    time.sleep(120)
"""


def write_config(tmp_path: Path, db_url: str, jira_url: str, extra: str = "", source_keys: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n\n[[organisations]]\nname = "Acme"\nside = "client"\n'
                    f'domains = ["acme.example"]\n\n{extra}\n[[sources]]\nname = "acme-jira"\nkind = "jira"\n'
                    f'url = "{jira_url}"\nemail = "{EMAIL}"\ntoken_env = "{TOKEN_ENV}"\nstart = 2024-01-01\n'
                    f'{source_keys}\n', encoding="utf-8")
    return path


def command(config: Path, *args: str, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`partnerscope --config CONFIG ARGS…` started now, its output in `log`."""
    environ = dict(os.environ, **{TOKEN_ENV: TOKEN}, **(env or {}))
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "service.cli", "--config", str(config), *args], stdout=out,
                                stderr=subprocess.STDOUT, env=environ, cwd=ROOT)


def holder(db_url: str, source: str) -> subprocess.Popen[str]:
    """A process holding `source`'s lock with a run `running`, until killed; it has the lock on return."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, db_url, source], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def kill(proc: subprocess.Popen[Any]) -> None:
    """SIGKILL, as when a machine loses a process: nothing of it runs a `finally`."""
    proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def wait_for(check: Callable[[], Any], within: float = 60.0, what: str = "the condition",
             proc: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> Any:
    """Poll `check` until it gives something true; fails early, with its log, if `proc` ends."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the process ended ({proc.returncode}) before {what}: "
                                 f"{log.read_text()[-3000:] if log else ''}")
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"{what} did not come within {within} s")


def sigterm_once(proc: subprocess.Popen[bytes], log: Path, check: Callable[[], Any], what: str,
                 within: float = 60.0) -> tuple[int, str]:
    """Wait until `check` holds, then SIGTERM `proc`; its exit status (within the 20 s a stop may
    take) and its log. A process still running then is killed, and the test fails."""
    try:
        wait_for(check, within=within, what=what, proc=proc, log=log)
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return status, log.read_text()


def run_rows(sessions: Any) -> list[SyncRun]:
    with sessions() as s:
        return list(s.scalars(select(SyncRun).order_by(SyncRun.started, SyncRun.id)))
