"""The delivery applier's claims and pace: a claim left by a stopped applier is taken over after
the claim timeout (PARTNERSCOPE_CLAIM_TIMEOUT in tests that kill a server), and deliveries that
arrive while it applies are gathered into the next batch instead of each paying for a batch."""
from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from service.config import ConfigError, claim_timeout, load_config
from service.config_sources import SourceConfig
from service.jobs.deliveries import DeliveryApplier
from service.store.deliveries import CLAIM_TIMEOUT, claim, now, store_delivery
from service.store.models import WebhookDelivery


def store(sessions: Any, *ids: str) -> None:
    with sessions.begin() as session:
        for delivery_id in ids:
            store_delivery(session, source="acme-jira", tracker="jira", delivery_id=delivery_id,
                           event="jira:issue_updated", headers={}, body=b"{}")


def claimed_ids(sessions: Any, **given: Any) -> list[str]:
    with sessions.begin() as session:
        return [d.delivery_id for d in claim(session, 10, **given)]


def test_a_claim_is_taken_over_only_after_the_timeout(sessions: Any) -> None:
    store(sessions, "a", "b")
    start = now()
    assert claimed_ids(sessions, at=start) == ["a", "b"]
    assert claimed_ids(sessions, at=start + timedelta(seconds=2), timeout=timedelta(seconds=3)) == []
    assert claimed_ids(sessions, at=start + timedelta(seconds=4)) == []  # the default: two minutes
    assert claimed_ids(sessions, at=start + timedelta(seconds=4), timeout=timedelta(seconds=3)) == ["a", "b"]
    assert claimed_ids(sessions, at=start + CLAIM_TIMEOUT + timedelta(seconds=5)) == ["a", "b"]


@pytest.mark.parametrize(("value", "seconds"), [
    pytest.param(None, None, id="unset"),
    pytest.param("", None, id="empty"),
    pytest.param("3", 3.0, id="whole"),
    pytest.param(" 2.5 ", 2.5, id="decimal-with-spaces"),
    pytest.param("86400", 86400.0, id="a-day"),
])
def test_the_claim_timeout_comes_from_the_environment(value: str | None, seconds: float | None) -> None:
    found = claim_timeout({} if value is None else {"PARTNERSCOPE_CLAIM_TIMEOUT": value})
    assert found == (None if seconds is None else timedelta(seconds=seconds))


@pytest.mark.parametrize("value", [
    pytest.param("0", id="zero"), pytest.param("0.5", id="under-a-second"), pytest.param("-3", id="negative"),
    pytest.param("86401", id="over-a-day"), pytest.param("abc", id="not-a-number"), pytest.param("inf", id="infinite"),
    pytest.param("nan", id="nan"), pytest.param("2m", id="with-a-unit"), pytest.param("\x1b[31m", id="control"),
])
def test_a_bad_claim_timeout_is_one_sentence_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^PARTNERSCOPE_CLAIM_TIMEOUT is .*a number from 1 to 86400\.$") as refused:
        claim_timeout({"PARTNERSCOPE_CLAIM_TIMEOUT": value})
    assert "\x1b" not in str(refused.value)


def test_the_applier_uses_the_configured_claim_timeout(tmp_path: Path, sessions: Any) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[database]\nurl = "sqlite:///x.db"\n', encoding="utf-8")
    config = load_config(path, {"PARTNERSCOPE_CLAIM_TIMEOUT": "3"})
    assert DeliveryApplier(sessions, config).claim_timeout == timedelta(seconds=3)
    assert DeliveryApplier(sessions, load_config(path, {})).claim_timeout == CLAIM_TIMEOUT


def test_a_batch_is_smaller_on_sqlite_where_it_holds_the_write_lock(sessions: Any, hook_config: Any,
                                                                     db_url: str) -> None:
    expected = 50 if db_url.startswith("sqlite") else 200
    assert DeliveryApplier(sessions, hook_config).batch == expected
    assert DeliveryApplier(sessions, hook_config, batch=7).batch == 7


class Recording(DeliveryApplier):
    """An applier that remembers the size of every batch it claimed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[int] = []

    def apply_once(self, limit: int = 50) -> int:
        done = super().apply_once(limit)
        if done:
            self.batches.append(done)
        return done


def settle(sessions: Any, within: float = 30.0) -> None:
    """Wait until no delivery waits or is being applied."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with sessions() as s:
            if not s.scalar(select(func.count()).select_from(WebhookDelivery)
                            .where(WebhookDelivery.state.in_(("received", "applying")))):
                return
        time.sleep(0.02)
    raise AssertionError(f"deliveries still waiting after {within} s")


@pytest.fixture
def hook_config(config: Any) -> Any:
    return replace(config, sources=(SourceConfig(name="acme-jira", kind="jira", url="https://acme.atlassian.net"),))


def test_deliveries_stored_while_the_applier_works_share_the_next_batch(sessions: Any, hook_config: Any) -> None:
    applier = Recording(sessions, hook_config, gather=0.5)
    applier.start()
    try:
        store(sessions, "first")
        applier.wake()
        settle(sessions)  # applied at once, alone: nothing else was waiting
        for delivery_id in ("b", "c", "d"):  # each stored and announced apart, as requests are
            store(sessions, delivery_id)
            applier.wake()
            time.sleep(0.05)
        settle(sessions)
    finally:
        applier.stop()
    assert applier.batches == [1, 3]


def test_a_full_batch_is_followed_by_the_next_at_once(sessions: Any, hook_config: Any) -> None:
    store(sessions, *"abcde")
    applier = Recording(sessions, hook_config, batch=2, gather=60.0)  # a wait after a full batch would show
    applier.start()
    try:
        settle(sessions, within=20.0)
    finally:
        applier.stop()
    assert applier.batches == [2, 2, 1]
