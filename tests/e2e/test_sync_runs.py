"""Each sync is recorded as a run: its trigger, times, outcome, counts and error sentence, listed
by `partnerscope runs` and on the data-quality page, whether it succeeded, failed or was stopped."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from connectors.errors import FatalError
from service.jobs.sync import make_connector, sync_source
from service.store.runs import recorded, runs
from tests.e2e.conftest import SOURCE_NAME, source_for


def test_a_sync_is_recorded_with_what_it_fetched(sessions, config, fake_jira, monkeypatch) -> None:
    source = source_for(fake_jira(), monkeypatch)
    result = sync_source(sessions, config, source, connector=make_connector(source, config), trigger="schedule")
    with sessions() as s:
        (run,) = runs(s)
    assert (run["source"], run["trigger"], run["outcome"], run["error"]) == (SOURCE_NAME, "schedule", "ok", None)
    assert (run["tickets"], run["events"], run["requests"]) == (result.tickets, result.events, result.requests)
    assert result.tickets > 0 and datetime.fromisoformat(run["started"]) <= datetime.fromisoformat(run["ended"])


def test_a_refused_sync_is_recorded_as_failed_with_its_sentence_and_no_secret(
        sessions, config, fake_jira, monkeypatch) -> None:
    source = source_for(fake_jira(), monkeypatch, token="wrong-token")
    with pytest.raises(FatalError):
        sync_source(sessions, config, source)
    with sessions() as s:
        (run,) = runs(s)
    assert run["outcome"] == "failed" and run["trigger"] == "manual" and run["requests"] == 1
    assert run["error"].startswith("FatalError: ") and "401" in run["error"] and "wrong-token" not in run["error"]


def test_a_stopped_run_says_so_and_a_bad_trigger_is_refused(sessions) -> None:
    with pytest.raises(KeyboardInterrupt), recorded(sessions, "acme", "startup") as counts:
        counts.tickets = 7
        raise KeyboardInterrupt
    with sessions() as s:
        (run,) = runs(s)
    assert (run["outcome"], run["tickets"], run["trigger"]) == ("interrupted", 7, "startup")
    with pytest.raises(ValueError, match="trigger"), recorded(sessions, "acme", "cron"):
        pass
    with pytest.raises(RuntimeError), recorded(sessions, "acme", "manual"):
        raise RuntimeError("a payload said \x00\nhere")
    with sessions() as s:
        assert runs(s)[0]["error"] == "RuntimeError: a payload said \\x00\\x0ahere"


def test_the_runs_command_and_the_quality_page_list_them(sessions, config, db_url, tmp_path, client, capsys) -> None:
    from service.cli import main

    for source, ok in (("acme-jira", True), ("acme-gh", False)):
        try:
            with recorded(sessions, source, "manual") as counts:
                counts.tickets, counts.events, counts.requests = 3, 9, 2
                if not ok:
                    raise RuntimeError("the tracker said <b>no</b>")
        except RuntimeError:
            pass
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    main(["--config", str(cfg), "runs", "--format", "json"])
    listed = json.loads(capsys.readouterr().out)
    assert [(r["source"], r["outcome"]) for r in listed] == [("acme-gh", "failed"), ("acme-jira", "ok")]
    assert set(listed[0]) == {"source", "trigger", "started", "ended", "outcome", "tickets", "events", "requests",
                              "waits", "error", "tick"}
    main(["--config", str(cfg), "runs", "--source", "acme-jira"])
    table = capsys.readouterr().out
    assert "ok          manual   acme-jira  3 tickets, 9 events, 2 requests, 0 waits" in table and "acme-gh" not in table
    main(["--config", str(cfg), "runs", "--source", "nobody"])
    assert "no sync has run yet for source nobody" in capsys.readouterr().err
    page = client.get("/quality").get_data(as_text=True)
    assert "Recent sync runs" in page and "RuntimeError: the tracker said &lt;b&gt;no&lt;/b&gt;" in page
