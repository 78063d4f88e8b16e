"""`partnerscope serve` killed mid-batch and restarted: no delivery that got a 2xx is lost.

The server runs as a subprocess on a free loopback port, as in production, with a Jira source
whose webhook secret is in its environment. Signed scenario deliveries (`simulator.jira_hook_replay`)
arrive faster than the applier drains them, so it applies full batches back to back; the test
SIGKILLs the process as soon as the database shows a batch claimed, restarts it, sends again
what got no 2xx (as Jira retries), and checks that every acknowledged delivery is stored once and
applied, including the batch the killed process had claimed (taken over after
PARTNERSCOPE_CLAIM_TIMEOUT). On PostgreSQL, where the applier is a process of its own, it must
end with the killed server.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import func, select

from service.store.models import Ticket, WebhookDelivery
from simulator.jira_hook_replay import Sending, replay
from simulator.people import scenario_toml

ROOT = Path(__file__).resolve().parents[2]
SECRET, SECRET_ENV = "e2e-hook-secret", "E2E_JIRA_HOOK_SECRET"
SOURCE = "acme-jira"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`partnerscope serve` in a process of its own; `start()` again after `kill()` restarts it."""

    def __init__(self, config: Path, port: int, log: Path) -> None:
        self.port, self.log = port, log
        self.cmd = [sys.executable, "-m", "service.cli", "--config", str(config), "serve", "--port", str(port)]
        self.env = dict(os.environ, **{SECRET_ENV: SECRET, "PARTNERSCOPE_CLAIM_TIMEOUT": "2"})
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-2000:]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"partnerscope serve did not listen within 60 s: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def children(self) -> list[int]:
        """The server's child processes (on PostgreSQL its delivery applier), from /proc."""
        assert self.proc is not None
        found: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            found += [int(pid) for pid in (task / "children").read_text().split()]
        return found

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def gone(pids: Sequence[int], within: float = 10.0) -> bool:
    """Whether these processes end (or are left only as zombies) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def send(port: int, sending: Sending) -> int | None:
    """POST one signed delivery; its status, or None when no answer came."""
    body = sending.delivery.body
    headers = {"Content-Type": "application/json", "X-Atlassian-Webhook-Identifier": sending.identifier,
               "X-Hub-Signature": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", f"/webhooks/jira/{SOURCE}", body=body, headers=headers)
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def send_all(port: int, sendings: Sequence[Sending]) -> list[int | None]:
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda s: send(port, s), sendings))


def states(sessions: Any) -> Counter[str]:
    with sessions() as s:
        return Counter(dict(s.execute(select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)).all()))


def test_a_server_killed_mid_batch_loses_no_acknowledged_delivery(sessions: Any, db_url: str, tmp_path: Path) -> None:
    # comment_updated deliveries are stored as ignored, by design: leave them out so every one must be applied
    sendings = [s for s in replay(500, seed=5).sendings if s.delivery.event != "comment_updated"]
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n\n{scenario_toml()}\n[[sources]]\nname = "{SOURCE}"\n'
                      'kind = "jira"\nurl = "https://acme.atlassian.net"\njql = "project in (SHOP, PAY)"\n'
                      f'email = "bot@acme.example"\ntoken_env = "E2E_JIRA_TOKEN"\nwebhook_secret_env = "{SECRET_ENV}"\n',
                      encoding="utf-8")
    server = Server(config, free_port(), tmp_path / "serve.log").start()
    left_claimed: list[int] = []
    children: list[int] = []

    def kill_when_a_batch_is_claimed() -> None:
        """Mid-load: once a hundred deliveries are stored, at the first moment a batch is claimed."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not ((now := states(sessions))["applying"] and now.total() >= 100):
            time.sleep(0.002)
        children.extend(server.children())
        server.kill()
        left_claimed.append(states(sessions)["applying"])  # the killed process's claim, still in the database

    try:
        killer = threading.Thread(target=kill_when_a_batch_is_claimed)
        killer.start()
        first = send_all(server.port, sendings[:300])
        killer.join()
        assert left_claimed and left_claimed[0] > 0, "the server was not killed while a batch was claimed"
        assert gone(children), f"the killed server's processes {children} outlived it"
        if db_url.startswith("postgresql"):
            assert children, "on PostgreSQL the server applies deliveries in a process of its own"
        server.start()
        again = [i for i, status in enumerate(first) if status is None or status >= 300]
        retried = send_all(server.port, [sendings[i] for i in again] + sendings[300:])
        deadline = time.monotonic() + 60
        while (waiting := states(sessions))["received"] + waiting["applying"] and time.monotonic() < deadline:
            time.sleep(0.2)
        children = server.children()
    finally:
        server.stop()
    assert gone(children), f"the stopped server's processes {children} outlived it"

    answered = first + [None] * (len(sendings) - 300)
    for i, status in zip(again + list(range(300, len(sendings))), retried):
        answered[i] = status
    acknowledged = {s.identifier for s, status in zip(sendings, answered) if status is not None and 200 <= status < 300}
    assert len(acknowledged) == len({s.identifier for s in sendings})  # every delivery got its 2xx in the end
    with sessions() as s:
        rows = s.execute(select(WebhookDelivery.delivery_id, WebhookDelivery.state, WebhookDelivery.attempts)).all()
        tickets = s.scalar(select(func.count()).select_from(Ticket))
    stored = Counter(r.delivery_id for r in rows)
    assert set(stored) == acknowledged and set(stored.values()) == {1}
    assert {r.state for r in rows} == {"applied"}
    assert sum(1 for r in rows if r.attempts > 1) >= left_claimed[0]  # the killed batch was applied by the restart
    assert tickets == len({s.delivery.key for s in sendings})
