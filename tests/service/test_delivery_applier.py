"""The delivery applier's claims and pace: a claim left by a stopped applier is taken over after
the claim timeout (PARTNERSCOPE_CLAIM_TIMEOUT in tests that kill a server), and deliveries that
arrive while it applies are gathered into the next batch instead of each paying for a batch."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from service.config import ConfigError, claim_timeout, load_config
from service.jobs.deliveries import DeliveryApplier
from service.store.deliveries import CLAIM_TIMEOUT, claim, now, store_delivery


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
