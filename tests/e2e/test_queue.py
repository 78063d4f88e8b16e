"""The queue path on the real Redis: ticks and deliveries as RQ jobs, run by `partnerscope
worker`; a Redis that is down delays deliveries but loses none. Skipped without
PARTNERSCOPE_TEST_REDIS_URL (.ci/run sets it)."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from service.config import QueueConfig
from service.jobs.queue import PENDING, QUEUE, Consumer, JobQueue, Runtime, serve_jobs
from service.store.deliveries import counts
from service.web import create_app
from tests.e2e.conftest import TICKETS
from tests.e2e.worker_processes import command, run_rows, sigterm_once, write_config
from tests.service.test_webhooks import GH_SECRET as SECRET, fixture, hooks_config  # noqa: F401 (a fixture)


def signed_github(client: Any, delivery: str) -> int:
    body = fixture("github", "issues.opened")
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/webhooks/github/acme-github", data=body, headers={
        "Content-Type": "application/json", "X-GitHub-Event": "issues", "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature}).status_code


@pytest.fixture
def queued_app(hooks_config: Any, engine: Any, redis_url: str) -> Any:
    config = replace(hooks_config, queue=QueueConfig(redis_url))
    return create_app(config, engine=engine), config


def test_a_delivery_becomes_one_apply_job_and_a_worker_applies_it(queued_app: Any, sessions: Any,
                                                                   redis_url: str) -> None:
    app, config = queued_app
    client = app.test_client()
    assert [signed_github(client, f"d-{n}") for n in range(3)] == [202, 202, 202]
    redis = Redis.from_url(redis_url)
    assert redis.llen(f"rq:queue:{QUEUE}") == 1 and redis.get(PENDING)  # one job announces all three
    with sessions() as s:
        assert counts(s)["received"] == 3  # stored before anything else, nothing applied in the web process
    serve_jobs(Runtime(sessions, config, threading.Event()))
    assert Consumer([QUEUE], connection=redis).work(burst=True)
    with sessions() as s:
        assert counts(s)["applied"] == 3 and counts(s)["received"] == 0
    assert not redis.get(PENDING)


def test_with_redis_down_a_delivery_is_stored_and_the_sweep_applies_it(
        hooks_config: Any, engine: Any, sessions: Any, redis_url: str, caplog: pytest.LogCaptureFixture) -> None:
    down = replace(hooks_config, queue=QueueConfig("redis://127.0.0.1:9/0"))
    with caplog.at_level(logging.WARNING):
        assert signed_github(create_app(down, engine=engine).test_client(), "lost-job") == 202
    assert "queue.unavailable: delivery stored, its job not queued (ConnectionError)" in caplog.text
    redis = Redis.from_url(redis_url)
    JobQueue(redis).apply()  # the worker's sweep, once Redis is back
    serve_jobs(Runtime(sessions, replace(hooks_config, queue=QueueConfig(redis_url)), threading.Event()))
    Consumer([QUEUE], connection=redis).work(burst=True)
    with sessions() as s:
        assert counts(s)["applied"] == 1


def test_the_worker_runs_its_ticks_through_the_queue(db_url: str, sessions: Any, fake_jira: Any, tmp_path: Path,
                                                      redis_url: str) -> None:
    server = fake_jira(latency_ms=20)
    cfg = write_config(tmp_path, db_url, server.url, extra=f'[queue]\nurl = "{redis_url}"\n',
                       source_keys='every = "2s"')
    log = tmp_path / "worker.log"
    proc = command(cfg, "worker", log=log, env={"PARTNERSCOPE_LOG_FORMAT": "json"})
    status, output = sigterm_once(proc, log, lambda: len([r for r in run_rows(sessions) if r.outcome == "ok"]) >= 2,
                                  "two ticks run from the queue")
    assert status == 0, output
    lines = [json.loads(line) for line in output.splitlines()]  # every line one JSON object, RQ's too
    events = {(line["logger"], line["event"]) for line in lines}
    assert {("service.jobs.worker", "worker.started"), ("service.jobs.ticks", "sync.ok"),
            ("service.jobs.worker", "worker.stopped")} <= events
    assert any(line["logger"] == "rq.worker" and "service.jobs.queue.sync_job('acme-jira'" in line["event"]
               for line in lines)  # RQ's own line for the job it took
    started = next(line for line in lines if line["event"] == "worker.started")
    assert started["message"] == "1 scheduled sources (acme-jira), consuming the queue"
    assert "fake-token" not in output
    rows = [r for r in run_rows(sessions) if r.outcome == "ok"]
    assert rows[0].tickets == TICKETS and len({r.tick for r in rows}) == len(rows)


@pytest.mark.parametrize("url, message", [
    ("http://127.0.0.1:6379", "must be a redis:// or rediss:// URL"),
    ("redis://", "must be a redis:// or rediss:// URL with a host"),
    ("redis://:hunter2@127.0.0.1:6379/0", "must not carry a password; name the environment variable"),
    ("redis://127.0.0.1:99999/0", "is not a URL"),
    ("redis://127.0.0.1:0/0", "has a port outside 1 to 65535"),
    ("redis://127.0.0.1:6379/zero", "names a database that is not a number"),
    ("redis://127.0.0.1:6379/\x00", "must not contain control characters"),
    ("redis://[::1", "is not a URL"),
])
def test_absurd_queue_urls_are_one_sentence_never_showing_a_password(url: str, message: str) -> None:
    from service.config import ConfigError, parse_config

    with pytest.raises(ConfigError) as refused:
        parse_config({"queue": {"url": url}}, None)
    assert message in str(refused.value) and "[queue] key 'url'" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_the_queue_password_comes_from_the_environment_only() -> None:
    from service.config import ConfigError, parse_config

    queue = parse_config({"queue": {"url": "redis://cache.internal:6379/2", "password_env": "REDIS_PASSWORD"}},
                         None).queue
    assert queue is not None and queue.connection_url({"REDIS_PASSWORD": "p@ss/word"}) == \
        "redis://:p%40ss%2Fword@cache.internal:6379/2"
    with pytest.raises(ConfigError, match="names REDIS_PASSWORD, which is not set"):
        queue.connection_url({})
    with pytest.raises(ConfigError, match="key 'user' is not a known setting"):
        parse_config({"queue": {"url": "redis://h:1/0", "user": "x"}}, None)
