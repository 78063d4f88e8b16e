"""`partnerscope serve` as the `webhooks` case runs it: a process of its own on loopback, its
deliveries read back from its database, and PostgreSQL databases made and dropped for it."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from service.store.db import make_engine, session_factory
from service.store.models import WebhookDelivery

HOST = "127.0.0.1"


class Served:
    """One `partnerscope --config CONFIG serve` process; `stop()` returns its CPU seconds and peak RSS."""

    def __init__(self, command: list[str], config: Path, port: int, env: dict[str, str], log: Path, cwd: Path) -> None:
        self.cmd = command + ["--config", str(config), "serve", "--host", HOST, "--port", str(port)]
        self.port, self.env, self.log, self.cwd = port, env, log, cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, within: float = 60.0) -> Served:
        """Start the process and wait until it answers HTTP."""
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd)
        out.close()
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"partnerscope serve exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=2)
                connection.request("GET", "/webhooks/jira/-")  # any answer will do: the app is up
                connection.getresponse().read()
                connection.close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"partnerscope serve did not answer within {within:.0f} s")

    def cpu_s(self) -> float:
        """CPU seconds the running server has used so far, its gunicorn workers and delivery
        applier included (Linux: /proc/PID/stat of the process and its children)."""
        assert self.proc is not None
        return sum(_cpu_s(pid) for pid in [self.proc.pid, *_children(self.proc.pid)])

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine loses power."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> dict[str, Any]:
        """Ctrl+C (the applier stops between batches); the process's own CPU seconds and peak RSS."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            _, _, usage = os.wait4(self.proc.pid, 0)
        except ChildProcessError:
            return {}
        self.proc.returncode = 0
        return {"cpu_s": round(usage.ru_utime + usage.ru_stime, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # ended meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for task in Path(f"/proc/{pid}/task").glob("*")
                for child in (task / "children").read_text().split()]
    except OSError:
        return []


def delivery_rows(url: str) -> list[Any]:
    """Every stored delivery: tracker id, state, received and applied times."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return list(s.execute(select(WebhookDelivery.delivery_id, WebhookDelivery.state,
                                         WebhookDelivery.received_at, WebhookDelivery.applied_at,
                                         WebhookDelivery.attempts, WebhookDelivery.error)))
    finally:
        engine.dispose()


def wait_applied(url: str, within: float) -> tuple[float, dict[str, int]]:
    """Wait until no delivery is waiting or being applied; the seconds waited and the states then."""
    engine = make_engine(url)
    started = time.monotonic()
    try:
        while True:
            with session_factory(engine)() as s:
                states = dict(s.execute(select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)).all())
            if not states.get("received") and not states.get("applying"):
                return round(time.monotonic() - started, 2), states
            if time.monotonic() - started > within:
                return round(time.monotonic() - started, 2), states
            time.sleep(0.5)
    finally:
        engine.dispose()


def applying_now(url: str) -> int:
    """How many deliveries an applier has claimed and not finished (a batch in flight)."""
    engine = make_engine(url)
    try:
        with session_factory(engine)() as s:
            return s.scalar(select(func.count()).select_from(WebhookDelivery)
                            .where(WebhookDelivery.state == "applying")) or 0
    finally:
        engine.dispose()


def postgres_answers(admin_url: str) -> str | None:
    """None when the PostgreSQL server at `admin_url` answers, else why not (one line)."""
    engine = make_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # any failure to connect means: no server to measure on
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'no detail'}"
    finally:
        engine.dispose()


def recreate_database(admin_url: str, name: str, drop_only: bool = False) -> str:
    """Drop the database `name` (and create it afresh unless `drop_only`); its URL."""
    engine = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if not drop_only:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name
