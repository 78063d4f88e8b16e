"""The worker and the sync lock: one sync per source at a time across processes, a killed
holder's lock recovered, busy ticks skipped once, SIGTERM ending a sync after its page with
status 0, and scheduled runs that neither repeat a tick nor overlap."""
from __future__ import annotations

import signal
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from service.cli import main
from service.jobs.sync import make_connector, sync_source
from service.jobs.ticks import run_tick
from service.store.locks import SourceBusy, source_lock
from service.store.models import Event, Ticket
from tests.e2e.conftest import SOURCE_NAME, TICKETS, source_for
from tests.e2e.worker_processes import command, holder, kill, run_rows, sigterm_once, wait_for, write_config


def counts(sessions: Any) -> tuple[int, int]:
    with sessions() as s:
        return (s.scalar(select(func.count()).select_from(Ticket)), s.scalar(select(func.count()).select_from(Event)))


def test_a_source_lock_is_held_once_and_freed_when_its_holder_is_killed(
        engine: Any, sessions: Any, db_url: str, config: Any, fake_jira: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with source_lock(engine, "acme-jira") as first:
        with source_lock(engine, "acme-jira") as second, source_lock(engine, "other") as other:
            assert (first, second, other) == (True, False, True)
    proc = holder(db_url, SOURCE_NAME)  # another process, with a run of its own `running`
    try:
        with source_lock(engine, SOURCE_NAME) as taken:
            assert not taken
    finally:
        kill(proc)

    def free() -> bool:
        with source_lock(engine, SOURCE_NAME) as taken:
            return taken
    wait_for(free, within=10, what="the killed holder's lock to be released")
    source = source_for(fake_jira(), monkeypatch)
    result = sync_source(sessions, config, source, connector=make_connector(source, config))
    killed, done = run_rows(sessions)
    assert (killed.outcome, killed.ended is not None) == ("interrupted", True)
    assert killed.error == "the process running it ended before it finished; what it committed is kept"
    assert done.outcome == "ok" and result.tickets == TICKETS


def test_a_manual_sync_of_a_busy_source_ends_with_a_sentence(
        db_url: str, sessions: Any, fake_jira: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = fake_jira()
    cfg = write_config(tmp_path, db_url, server.url)
    monkeypatch.setenv("ACME_FAKE_JIRA_TOKEN", "fake-token-7f3b9e")
    proc = holder(db_url, SOURCE_NAME)
    try:
        with pytest.raises(SystemExit) as exited:
            main(["--config", str(cfg), "sync"])
    finally:
        kill(proc)
    err = capsys.readouterr().err
    assert exited.value.code == 1 and "Traceback" not in err
    assert err.startswith("partnerscope: source 'acme-jira' is being synced by another process (its run started ")
    assert "so this sync did not start; nothing was changed. Run it again once that sync has ended." in err
    assert [r.outcome for r in run_rows(sessions)] == ["running"]  # the holder's; none of this sync's


def test_a_busy_tick_is_skipped_once_and_a_tick_runs_once(
        engine: Any, sessions: Any, config: Any, fake_jira: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    source = source_for(fake_jira(), monkeypatch)
    tick = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
    stop = threading.Event()
    with source_lock(engine, SOURCE_NAME) as taken:
        assert taken
        assert run_tick(sessions, config, source, tick, stop) == "skipped"
        assert run_tick(sessions, config, source, tick, stop) == "taken"  # a second worker, same tick
    later = tick + timedelta(minutes=15)
    assert run_tick(sessions, config, source, later, stop) == "ok"
    assert run_tick(sessions, config, source, later, stop) == "taken"
    rows = run_rows(sessions)
    assert [(r.outcome, r.trigger, r.tick) for r in rows] == [("skipped", "schedule", tick), ("ok", "schedule", later)]
    assert rows[0].error == "the source was still being synced by an earlier run"
    with pytest.raises(SourceBusy), source_lock(engine, SOURCE_NAME):
        sync_source(sessions, config, source)


def test_sigterm_ends_a_sync_after_its_page_with_status_0_and_the_next_resumes(
        db_url: str, sessions: Any, fake_jira: Any, tmp_path: Path) -> None:
    server = fake_jira(latency_ms=400)  # a page every second or so
    cfg = write_config(tmp_path, db_url, server.url)
    log = tmp_path / "sync.log"
    proc = command(cfg, "sync", log=log)
    try:
        wait_for(lambda: counts(sessions)[0], what="the first committed page", proc=proc, log=log)
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        status = proc.wait(timeout=20)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
    output = log.read_text()
    assert status == 0 and took < 20, output
    assert "acme-jira: stopped on request after its last committed page; the next sync resumes there" in output
    (run,) = run_rows(sessions)
    stored = counts(sessions)
    assert run.outcome == "interrupted" and 0 < run.tickets == stored[0] < TICKETS
    assert command(cfg, "sync", log=log).wait(timeout=120) == 0
    assert counts(sessions)[0] == TICKETS and [r.outcome for r in run_rows(sessions)] == ["interrupted", "ok"]


def test_the_worker_syncs_on_its_schedule_and_stops_on_sigterm(
        db_url: str, sessions: Any, fake_jira: Any, tmp_path: Path) -> None:
    server = fake_jira(latency_ms=30)
    cfg = write_config(tmp_path, db_url, server.url, source_keys='every = "2s"')
    log = tmp_path / "worker.log"
    proc = command(cfg, "worker", log=log)
    status, output = sigterm_once(proc, log, lambda: len([r for r in run_rows(sessions) if r.outcome == "ok"]) >= 3,
                                  "three scheduled runs")
    assert status == 0, output
    rows = [r for r in run_rows(sessions) if r.outcome != "running"]
    assert {r.trigger for r in rows} == {"schedule"} and rows[0].tickets == TICKETS
    ticks = [r.tick for r in rows]
    assert len(set(ticks)) == len(ticks) and all(t.second % 2 == 0 and t.microsecond == 0 for t in ticks)
    for earlier, later in zip(rows, rows[1:]):
        assert earlier.ended <= later.started  # no two runs of the source overlap
    assert "worker.started: 1 scheduled sources (acme-jira), in-process" in output
    assert output.count("sync.ok: source 'acme-jira' tick ") >= 3 and "worker.stopped" in output
    assert "Traceback" not in output and "fake-token" not in output


def test_a_worker_refuses_to_start_without_a_scheduled_sources_token(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write_config(tmp_path, db_url, "http://127.0.0.1:9", source_keys='every = "15m"')
    monkeypatch.delenv("ACME_FAKE_JIRA_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(cfg), "worker"])
    assert exited.value.code == 2
    assert "key 'token_env' names ACME_FAKE_JIRA_TOKEN, which is not set in the environment" in capsys.readouterr().err


def test_stopping_inside_a_rate_limit_wait_commits_nothing_half_fetched(
        sessions: Any, config: Any, fake_jira: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    server = fake_jira(rate_limit=(2, 60))  # two requests, then a 429 asking to wait a minute
    source = source_for(server, monkeypatch)
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    started = time.monotonic()
    result = sync_source(sessions, config, source, stop=stop)
    assert time.monotonic() - started < 10 and result.stopped
    (run,) = run_rows(sessions)
    assert run.outcome == "interrupted" and run.waits >= 1 and run.tickets == counts(sessions)[0]


def test_run_syncs_at_start_then_on_the_schedule_in_one_process_and_stops_on_sigterm(
        db_url: str, sessions: Any, fake_jira: Any, tmp_path: Path) -> None:
    from tests.e2e.test_webhook_restart import free_port

    server = fake_jira(latency_ms=20)
    cfg = write_config(tmp_path, db_url, server.url, source_keys='every = "1s"')
    log = tmp_path / "run.log"
    proc = command(cfg, "run", "--port", str(free_port()), log=log)
    status, output = sigterm_once(
        proc, log, lambda: len([r for r in run_rows(sessions) if r.trigger == "schedule" and r.outcome == "ok"]) >= 2,
        "two scheduled runs")
    assert status == 0, output
    rows = [r for r in run_rows(sessions) if r.outcome != "skipped"]
    assert rows[0].trigger == "startup" and rows[0].tickets == TICKETS
    assert {r.trigger for r in rows[1:]} == {"schedule"} and "serving on http://127.0.0.1:" in output
