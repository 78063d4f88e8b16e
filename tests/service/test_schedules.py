"""Timing keys of [[sources]]: `schedule` (cron, UTC), `every` and `index_lag`, refused by name
when absurd, and ticks that every process works out alike."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from service.config import ConfigError, parse_config
from service.config_sources import SourceConfig
from service.jobs.schedules import Schedules, grace, tick_of, trigger_of

UTC = timezone.utc


def source(**keys: Any) -> dict[str, Any]:
    return {"sources": [{"name": "acme-jira", "kind": "jira", "url": "https://acme.atlassian.net", "email": "a@b.c",
                         "token_env": "ACME_TOKEN", **keys}]}


@pytest.mark.parametrize("keys, schedule, every", [
    ({"schedule": "*/15 * * * *"}, "*/15 * * * *", None),
    ({"schedule": "  0   6 * *   mon-fri "}, "0 6 * * mon-fri", None),
    ({"every": "15m"}, None, 900),
    ({"every": "30s"}, None, 30),
    ({"every": "2h"}, None, 7200),
    ({"every": "168h"}, None, 604800),
    ({}, None, None),
])
def test_schedule_and_every_are_read(keys: dict[str, Any], schedule: str | None, every: int | None) -> None:
    (read,) = parse_config(source(**keys), None).sources
    assert (read.schedule, read.every, read.scheduled) == (schedule, every, schedule is not None or every is not None)


@pytest.mark.parametrize("keys, message", [
    ({"schedule": "*/15 * * * *", "every": "15m"}, "has both 'schedule' and 'every'; keep one of them"),
    ({"schedule": "* * * *"}, "key 'schedule' must have five fields"),
    ({"schedule": "* * * * * *"}, "key 'schedule' must have five fields"),
    ({"schedule": "61 * * * *"}, "key 'schedule' is not a cron expression APScheduler accepts"),
    ({"schedule": "*/0 * * * *"}, "key 'schedule' is not a cron expression"),
    ({"schedule": "a b c d e"}, "key 'schedule' is not a cron expression"),
    ({"schedule": "0 6 * * 1-5"}, "key 'schedule' must name weekdays, as 'mon-fri', not number them"),
    ({"schedule": "0 6 * * 0"}, "must name weekdays"),
    ({"schedule": "0\x00 * * * *"}, "key 'schedule' must not contain control characters"),
    ({"schedule": ""}, "key 'schedule' must be a non-empty string"),
    ({"schedule": 15}, "key 'schedule' must be a non-empty string"),
    ({"schedule": "x" * 10_000}, "key 'schedule' must have five fields"),
    ({"every": "0s"}, "key 'every' must be a whole number and a unit"),
    ({"every": "169h"}, "from 1s to 168h"),
    ({"every": "15"}, "key 'every' must be a whole number and a unit"),
    ({"every": "15 m"}, "key 'every'"),
    ({"every": "1.5m"}, "key 'every'"),
    ({"every": "-1m"}, "key 'every'"),
    ({"every": "15d"}, "key 'every'"),
    ({"every": "１５m"}, "key 'every'"),
    ({"every": "9" * 400 + "s"}, "key 'every'"),
    ({"every": 900}, "key 'every' must be a non-empty string"),
    ({"every": True}, "key 'every' must be a non-empty string"),
    ({"every": "15m\x07"}, "key 'every' must not contain control characters"),
])
def test_absurd_schedules_are_one_sentence_naming_the_key(keys: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(source(**keys), None)
    assert message in str(refused.value) and "[[sources]] 'acme-jira'" in str(refused.value)
    assert "\n" not in str(refused.value) and "\x00" not in str(refused.value)


def scheduled(**keys: Any) -> SourceConfig:
    return SourceConfig(name="s", kind="jira", url="https://x.example", **keys)


@pytest.mark.parametrize("now, expected", [
    (datetime(2026, 12, 7, 23, 45, 0, 1000, tzinfo=UTC), datetime(2026, 12, 7, 23, 45, tzinfo=UTC)),
    (datetime(2026, 12, 7, 23, 45, 29, tzinfo=UTC), datetime(2026, 12, 7, 23, 45, tzinfo=UTC)),
])
def test_a_cron_tick_is_the_minute_it_fired(now: datetime, expected: datetime) -> None:
    spec = scheduled(schedule="*/15 * * * *")
    assert tick_of(trigger_of(spec), now, grace(spec)) == expected


def test_every_counts_from_a_fixed_instant_so_processes_started_apart_agree() -> None:
    spec = scheduled(every=7)
    fired = datetime(2026, 12, 7, 23, 45, 0, tzinfo=UTC)
    ticks = set()
    for started in (fired - timedelta(seconds=40), fired - timedelta(days=3, seconds=1)):  # two processes
        trigger = trigger_of(spec)
        next_fire = trigger.get_next_fire_time(None, started)
        while next_fire < fired - timedelta(seconds=7):
            next_fire = trigger.get_next_fire_time(next_fire, next_fire)
        ticks.add(tick_of(trigger, next_fire + timedelta(milliseconds=250), grace(spec)))
    assert len(ticks) == 1 and (ticks.pop() - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds() % 7 == 0
    assert grace(spec) == 3.5 and grace(scheduled(every=900)) == 30


def test_only_scheduled_sources_get_a_job() -> None:
    fired: list[Any] = []
    schedules = Schedules((scheduled(every=60), SourceConfig(name="manual", kind="jira", url="https://x.example")),
                          lambda s, t: fired.append((s.name, t)))
    assert [job.id for job in schedules.scheduler.get_jobs()] == ["sync:s"]
    schedules.stop()


@pytest.mark.parametrize("keys, seconds", [
    ({}, 900), ({"deployment": "server", "email": None}, 0), ({"index_lag": "0s"}, 0), ({"index_lag": "30m"}, 1800),
    ({"index_lag": "24h"}, 86400),
])
def test_index_lag_defaults_by_deployment(keys: dict[str, Any], seconds: int) -> None:
    raw = source(**keys)
    raw["sources"][0] = {k: v for k, v in raw["sources"][0].items() if v is not None}
    (read,) = parse_config(raw, None).sources
    assert read.lag == timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["25h", "-1m", "15", "1.5m", "", "ten", 900, True, "15m\x00"])
def test_absurd_index_lags_are_one_sentence(value: Any) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(source(index_lag=value), None)
    assert "[[sources]] 'acme-jira' key 'index_lag'" in str(refused.value) and "\x00" not in str(refused.value)


def test_github_sources_have_no_index_lag() -> None:
    github = {"sources": [{"name": "gh", "kind": "github", "repos": ["a/b"], "token_env": "GH_TOKEN",
                           "index_lag": "15m"}]}
    with pytest.raises(ConfigError, match="key 'index_lag' is not a known setting"):
        parse_config(github, None)


@pytest.mark.parametrize("keys, every", [
    ({}, timedelta(days=1)), ({"deployment": "server", "email": None}, None), ({"reconcile_every": "0s"}, None),
    ({"reconcile_every": "6h"}, timedelta(hours=6)), ({"reconcile_every": "1m"}, timedelta(minutes=1)),
])
def test_reconcile_every_defaults_to_daily_on_cloud(keys: dict[str, Any], every: timedelta | None) -> None:
    raw = source(**keys)
    raw["sources"][0] = {k: v for k, v in raw["sources"][0].items() if v is not None}
    (read,) = parse_config(raw, None).sources
    assert read.sweep_every == every


@pytest.mark.parametrize("value", ["30s", "721h", "-1h", "1d", "", 86400, False, "24h\\x1b"])
def test_absurd_reconcile_every_is_one_sentence(value: Any) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(source(reconcile_every=value), None)
    assert "[[sources]] 'acme-jira' key 'reconcile_every'" in str(refused.value)
