"""Jira Cloud's search is eventually consistent: a change can reach search results minutes after
newer changes have. The bookmark a Cloud sync keeps stays `index_lag` behind the run's start, so a
change indexed late is read by a later sync, and a sync before the change is searchable plus one
after end with what one clean sync stores. `index_lag = "0s"` shows the change lost without it,
until the reconciliation sweep (`sync --reconcile`) reads it; and a change a webhook named is read
at once, through `reconcileIssues`, lag or no lag."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from service.jobs.sync import sync_source
from tests.e2e.conftest import source_for
from tests.e2e.expected import rows, wipe


@pytest.mark.parametrize("index_lag, kept", [(None, True), (0, False)], ids=["default-15m", "no-lag"])
def test_a_change_indexed_late_is_read_by_the_next_sync(
        index_lag: int | None, kept: bool, sessions: Any, config: Any, fake_jira: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = fake_jira()
    source = replace(source_for(server, monkeypatch), index_lag=index_lag)
    sync_source(sessions, config, source)
    late, newer = sorted(entry.raw["key"] for entry in server.store.entries())[:2]
    now = datetime.now(timezone.utc)
    server.store.touch(keys=[late], at=now - timedelta(minutes=10))  # changed ten minutes ago …
    server.store.lag_index([late])  # … and not searchable yet, while a newer change is
    server.store.touch(keys=[newer], at=now - timedelta(minutes=2))

    before = sync_source(sessions, config, source)
    assert before.tickets == 1  # the newer change only
    server.store.catch_up()
    sync_source(sessions, config, source)
    after = rows(sessions, server.url)
    sync_source(sessions, config, source, reread=timedelta(days=2))  # the reconciliation sweep
    swept = rows(sessions, server.url)

    wipe(sessions)
    sync_source(sessions, config, source)
    clean = rows(sessions, server.url)
    assert (after == clean) is kept and swept == clean
    if not kept:  # without the lag the late change is missing until the sweep, and nothing says so
        assert {t[2] for t in clean["tickets"] - after["tickets"]} == {late}


def test_reconcile_issues_reads_a_late_change_at_once(fake_jira: Any) -> None:
    import requests

    server = fake_jira()
    entry = sorted(server.store.entries(), key=lambda e: e.raw["key"])[0]
    server.store.lag_index([entry.raw["key"]])
    auth = ("sync-bot@acme.example", "fake-token-7f3b9e")
    jql = f'key = {entry.raw["key"]}'
    url = f"{server.url}/rest/api/3/search/jql"
    assert requests.post(url, json={"jql": jql}, auth=auth, timeout=10).json()["issues"] == []
    found = requests.post(url, json={"jql": jql, "reconcileIssues": [int(entry.id)]}, auth=auth, timeout=10).json()
    assert [issue["id"] for issue in found["issues"]] == [entry.id]
    refused = requests.post(url, json={"jql": jql, "reconcileIssues": list(range(51))}, auth=auth, timeout=10)
    assert refused.status_code == 400 and "at most 50" in refused.text


def test_sync_reconcile_reads_the_last_two_days_again_and_keeps_the_bookmark(
        db_url: str, sessions: Any, fake_jira: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import select

    from service.cli import main
    from service.store.models import SyncState
    from tests.e2e.worker_processes import TOKEN, TOKEN_ENV, write_config

    server = fake_jira()
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    cfg = write_config(tmp_path, db_url, server.url)
    main(["--config", str(cfg), "sync"])
    now = datetime.now(timezone.utc)
    server.store.touch(keys=[sorted(e.raw["key"] for e in server.store.entries())[0]], at=now - timedelta(hours=30))
    with sessions() as s, s.begin():  # as if a sync had already read past that change
        s.get(SyncState, "acme-jira").bookmark = now - timedelta(hours=1)
    capsys.readouterr()
    main(["--config", str(cfg), "sync", "--reconcile"])
    assert "acme-jira: 1 tickets, " in capsys.readouterr().out  # the change of 30 hours ago, read again
    with sessions() as s:
        assert s.scalar(select(SyncState.bookmark)) == now - timedelta(hours=1)


def test_a_change_a_webhook_named_is_read_through_reconcile_issues(
        sessions: Any, config: Any, fake_jira: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from service.store.db import transaction
    from service.store.deliveries import APPLIED, store_delivery

    server = fake_jira()
    source = replace(source_for(server, monkeypatch), index_lag=0)  # no lag window: reconcileIssues alone
    sync_source(sessions, config, source)
    late = sorted(server.store.entries(), key=lambda e: e.raw["key"])[0]
    now = datetime.now(timezone.utc)
    server.store.touch(keys=[late.raw["key"]], at=now - timedelta(minutes=10))
    server.store.lag_index([late.raw["key"]])
    server.store.touch(keys=[sorted(e.raw["key"] for e in server.store.entries())[1]], at=now - timedelta(minutes=2))
    with transaction(sessions) as s:  # Jira told us of the change by webhook, as it happened
        store_delivery(s, source=source.name, tracker="jira", delivery_id="d-late", event="jira:issue_updated",
                       headers={}, state=APPLIED,
                       body=b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "%s"}}' % late.id.encode())

    before = sync_source(sessions, config, source)
    assert before.tickets == 2  # the late change, read by id through reconcileIssues, and the newer one
    server.store.catch_up()
    sync_source(sessions, config, source)
    after = rows(sessions, server.url)
    wipe(sessions)
    sync_source(sessions, config, source)
    assert after == rows(sessions, server.url)


def test_a_sweep_of_a_source_never_synced_reads_all_of_it(sessions: Any, config: Any, fake_jira: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.e2e.conftest import TICKETS

    source = source_for(fake_jira(), monkeypatch)
    assert sync_source(sessions, config, source, reread=timedelta(days=2)).tickets == TICKETS


def test_the_workers_ticks_sweep_once_per_reconcile_every(sessions: Any, config: Any, fake_jira: Any,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from service.jobs.ticks import run_tick
    from service.store.db import transaction
    from service.store.models import SyncState

    server = fake_jira()
    source = replace(source_for(server, monkeypatch), index_lag=0, reconcile_every=3600)
    stop, now = threading.Event(), datetime.now(timezone.utc)
    ticks = iter(now.replace(microsecond=0) + timedelta(minutes=n) for n in range(10))
    assert run_tick(sessions, config, source, next(ticks), stop) == "ok"  # the first sync is a sweep too
    late = sorted(e.raw["key"] for e in server.store.entries())[0]
    server.store.touch(keys=[late], at=now - timedelta(minutes=10))
    server.store.lag_index([late])
    server.store.touch(keys=[sorted(e.raw["key"] for e in server.store.entries())[1]], at=now - timedelta(minutes=2))
    run_tick(sessions, config, source, next(ticks), stop)
    server.store.catch_up()
    run_tick(sessions, config, source, next(ticks), stop)  # within the hour since the sweep: no sweep
    missed = rows(sessions, server.url)
    with transaction(sessions) as s:  # an hour on
        s.get(SyncState, source.name).reconciled_at = now - timedelta(hours=1, seconds=1)
    run_tick(sessions, config, source, next(ticks), stop)
    swept = rows(sessions, server.url)
    with sessions() as s:
        assert s.get(SyncState, source.name).reconciled_at > now
    wipe(sessions)
    sync_source(sessions, config, source)
    clean = rows(sessions, server.url)
    assert missed != clean and swept == clean
