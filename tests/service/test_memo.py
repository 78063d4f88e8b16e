"""Remembered results: handed out while nothing is committed, computed afresh after any commit,
from this engine or any other, and never shared as one object."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from service.store.db import make_engine, session_factory, transaction
from service.store.memo import remembered
from service.store.report import responsibility_report
from tests.service.builders import bug_through_qa
from tests.service.test_store import ingest


class Counted:
    """A computation that says how often it ran."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self) -> dict[str, list[int]]:
        self.runs += 1
        return {"runs": [self.runs]}


def test_a_result_is_remembered_until_a_commit_from_anywhere(sessions, db_url) -> None:
    compute, owner = Counted(), object()
    with sessions() as s:
        assert remembered(s, owner, "k", compute) == {"runs": [1]}
    with sessions() as s:
        assert remembered(s, owner, "k", compute) == {"runs": [1]}
        assert remembered(s, object(), "k", compute) == {"runs": [2]}  # another owner, another result
    other = make_engine(db_url)  # as another process would: its own connections
    with other.begin() as c:
        c.execute(text("INSERT INTO settings (key, value) VALUES ('memo-test', 'x')"))
    other.dispose()
    with sessions() as s:
        assert remembered(s, owner, "k", compute) == {"runs": [3]}


def test_a_session_that_has_written_computes_afresh(sessions) -> None:
    compute, owner = Counted(), object()
    with sessions() as s:
        remembered(s, owner, "k", compute)
    with transaction(sessions) as s:
        s.execute(text("INSERT INTO settings (key, value) VALUES ('memo-test', 'x')"))
        assert remembered(s, owner, "k", compute) == {"runs": [2]}
        assert remembered(s, owner, "k", compute) == {"runs": [3]}


def test_every_caller_gets_its_own_copy(sessions) -> None:
    compute, owner = Counted(), object()
    with sessions() as s:
        first = remembered(s, owner, "k", compute)
        first["runs"].append(99)
        assert remembered(s, owner, "k", compute) == {"runs": [1]}


def test_a_database_in_memory_remembers_nothing() -> None:
    engine = make_engine("sqlite://")
    compute = Counted()
    with session_factory(engine)() as s:
        remembered(s, None, "k", compute)
        remembered(s, None, "k", compute)
    engine.dispose()
    assert compute.runs == 2


@pytest.mark.parametrize("writer", ["same engine", "another engine"])
def test_the_report_counts_what_was_committed_since_it_was_last_asked(sessions, config, db_url, writer: str) -> None:
    ingest(sessions, config, [bug_through_qa(1)])
    with sessions() as s:
        assert responsibility_report(s, config)["roles"]["deploy"]["client"] == 1
    if writer == "same engine":
        ingest(sessions, config, [bug_through_qa(2)])
    else:
        other = make_engine(db_url)
        ingest(session_factory(other), config, [bug_through_qa(2)])
        other.dispose()
    with sessions() as s:
        assert responsibility_report(s, config)["roles"]["deploy"]["client"] == 2
