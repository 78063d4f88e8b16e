"""Two workers and two web processes on one database, with the fake Jira: the schedules fire in
both workers, yet each tick of the source runs once, no two runs of it overlap in time, and
every webhook delivery sent to either web process is applied once. In process, on each backend;
through the queue on PostgreSQL and the real Redis."""
from __future__ import annotations

import re
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from service.store.models import WebhookDelivery
from simulator.jira_hook_replay import replay
from tests.e2e.test_webhook_restart import SECRET, SECRET_ENV, Server, free_port, send
from tests.e2e.worker_processes import command, run_rows, wait_for, write_config

TICKS = 4  # ticks each worker must have seen run before the test stops them


def delivery_rows(sessions: Any) -> list[Any]:
    with sessions() as s:
        return list(s.execute(select(WebhookDelivery.delivery_id, WebhookDelivery.state, WebhookDelivery.attempts)))


@pytest.mark.parametrize("mode", ["in-process", "queue"])
def test_two_workers_and_two_web_processes_run_each_tick_once(
        mode: str, db_url: str, sessions: Any, fake_jira: Any, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if mode == "queue":
        if not db_url.startswith("postgresql"):
            pytest.skip("the queue's race runs on PostgreSQL, as it is deployed")
        queue = f'[queue]\nurl = "{request.getfixturevalue("redis_url")}"\n'
    else:
        queue = ""
    server = fake_jira(latency_ms=20)
    cfg = write_config(tmp_path, db_url, server.url, extra=queue,
                       source_keys=f'every = "2s"\nwebhook_secret_env = "{SECRET_ENV}"')
    env = {SECRET_ENV: SECRET}
    logs = [tmp_path / f"worker-{n}.log" for n in (1, 2)]
    workers = [command(cfg, "worker", log=log, env=env) for log in logs]
    webs = [Server(cfg, free_port(), tmp_path / f"web-{n}.log") for n in (1, 2)]
    sendings = [s for s in replay(120, seed=11).sendings if s.delivery.event != "comment_updated"]
    try:
        for web in webs:
            web.start()
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda pair: send(webs[pair[0] % 2].port, pair[1]), enumerate(sendings)))
        assert all(status is not None and 200 <= status < 300 for status in statuses), statuses
        wait_for(lambda: len({r.tick for r in run_rows(sessions) if r.outcome == "ok"}) >= TICKS, within=90,
                 what=f"{TICKS} ticks run", proc=workers[0], log=logs[0])
        wait_for(lambda: all(r.state == "applied" for r in delivery_rows(sessions)), within=60,
                 what="every delivery applied")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        stopped = [worker.wait(timeout=20) for worker in workers]
        for web in webs:
            web.stop()
    outputs = [log.read_text() for log in logs]
    assert stopped == [0, 0], outputs

    runs = [r for r in run_rows(sessions) if r.outcome != "skipped"]
    assert len({r.tick for r in runs}) == len(runs)  # one run per tick
    for earlier, later in zip(runs, runs[1:]):
        assert earlier.ended is not None and earlier.ended <= later.started, "two runs of the source overlapped"
    fired = [set(re.findall(r"tick (\S+?):", out)) for out in outputs]
    assert fired[0] & fired[1], "the schedules did not fire in both workers"
    rows = delivery_rows(sessions)
    assert len(rows) == len({s.identifier for s in sendings}) and {r.state for r in rows} == {"applied"}
    # Each applied once, by one process: a delivery tried more than once was tried again because
    # its earlier try failed and rolled back (two writers inserting one new ticket at once, say).
    printed = "".join(log.read_text() for log in logs + [web.log for web in webs])
    for row in rows:
        for attempt in range(1, row.attempts):
            assert f"delivery {row.delivery_id}, attempt {attempt}: " in printed, row
