"""A Jira sync killed part-way resumes from what it committed: a second run does not fetch the
committed pages again, and kill plus resume store what one clean sync stores."""
from __future__ import annotations

import math
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from service.jobs.sync import make_connector, read_resume, sync_source
from service.store.models import SyncState, Ticket
from tests.e2e.conftest import SOURCE_NAME, source_for
from tests.e2e.expected import rows, wipe

TICKETS = 800  # eight search pages; one issue in twenty has a changelog longer than the search embeds


@pytest.fixture(scope="module")
def issues() -> list[dict[str, Any]]:
    from simulator.scenario import generate

    return generate(TICKETS, long_history_rate=0.05)


class Killed(Exception):
    """The process dying between two pages, after the first one's commit."""


class Dying:
    """A connector that dies once `after` pages are committed, before it asks for the next."""

    def __init__(self, inner: Any, after: int) -> None:
        self.inner, self.after = inner, after

    @property
    def requests(self) -> int:
        return self.inner.requests

    def pages(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for number, page in enumerate(self.inner.pages(*args, **kwargs), 1):
            yield page
            if number == self.after:
                raise Killed(f"killed after page {number}")


class Recording:
    """A connector wrapper that remembers the issue keys its pages carried."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.keys: list[str] = []

    @property
    def requests(self) -> int:
        return self.inner.requests

    def pages(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for page in self.inner.pages(*args, **kwargs):
            self.keys += [parsed.ticket.key for parsed in page.tickets]
            yield page


def stored_keys(sessions) -> set[str]:
    with sessions() as s:
        return set(s.scalars(select(Ticket.key)))


def clean_sync(sessions, config, fake_jira, monkeypatch, **knobs: Any) -> tuple[dict[str, set[tuple]], int]:
    """The rows and request count of one uninterrupted sync, the database wiped afterwards."""
    server = fake_jira(**knobs)
    source = source_for(server, monkeypatch, deployment=knobs.get("deployment", "cloud"))
    sync_source(sessions, config, source)
    clean = rows(sessions, server.url), server.stats["requests"]
    wipe(sessions)
    return clean


@pytest.mark.parametrize(("deployment", "kill_after"), [
    pytest.param("cloud", 3, id="cloud-early"),
    pytest.param("cloud", 7, id="cloud-late"),
    pytest.param("server", 6, id="server"),
])
def test_a_killed_sync_resumes_from_what_it_committed(sessions, config, fake_jira, monkeypatch, deployment, kill_after):
    clean_rows, clean_requests = clean_sync(sessions, config, fake_jira, monkeypatch, deployment=deployment)
    server = fake_jira(deployment=deployment)
    source = source_for(server, monkeypatch, deployment=deployment)

    with pytest.raises(Killed):
        sync_source(sessions, config, source, connector=Dying(make_connector(source, config), kill_after))
    committed = stored_keys(sessions)
    with sessions() as s:
        resume = read_resume(s, SOURCE_NAME)
    assert (resume is not None) == (deployment == "cloud")  # on Server nothing waits for its changelog
    killed_requests = server.stats["requests"]
    server.reset_stats()
    resumed = Recording(make_connector(source, config))
    sync_source(sessions, config, source, connector=resumed)

    assert rows(sessions, server.url) == clean_rows
    # Redone: the account's time zone (a resumed run writes its bound in it), the count, the
    # long issues that were waiting read again by id (100 a request), and one search page for
    # the overlap; never the committed pages.
    long = sum(1 for entry in server.store.entries() if len(entry.raw["changelog"]["histories"]) > 40)
    waiting_reads = math.ceil(long / 100) if deployment == "cloud" else 0
    redone = killed_requests + server.stats["requests"] - clean_requests
    assert redone <= 3 + waiting_reads, server.stats["by_endpoint"]
    again = committed & set(resumed.keys)
    assert len(again) <= 5, f"{len(again)} committed tickets fetched again"


def test_changes_made_while_the_sync_was_down_are_picked_up(sessions, config, fake_jira, monkeypatch):
    server = fake_jira()
    source = source_for(server, monkeypatch)
    with pytest.raises(Killed):
        sync_source(sessions, config, source, connector=Dying(make_connector(source, config), 4))
    with sessions() as s:
        resume = read_resume(s, SOURCE_NAME)
    assert resume is not None and resume.waiting
    committed = stored_keys(sessions)
    waiting = server.store.get(resume.waiting[0]).raw["key"]
    ahead = next(e.raw["key"] for e in reversed(server.store.entries()) if e.raw["key"] not in committed
                 and e.id not in resume.waiting)
    touched = server.touch(keys=[sorted(committed)[0], waiting, ahead])

    sync_source(sessions, config, source)
    resumed_rows = rows(sessions, server.url)
    wipe(sessions)
    sync_source(sessions, config, source)  # one clean sync of the same issues, touched

    assert resumed_rows == rows(sessions, server.url)
    assert sum(1 for row in resumed_rows["tickets"] if row[2] in touched and "touched-1" in row[-1]) == 3


def test_a_waiting_issue_gone_since_sends_the_resumed_sync_back_to_its_bookmark(
        sessions, config, fake_jira, monkeypatch, caplog):
    clean_rows, clean_requests = clean_sync(sessions, config, fake_jira, monkeypatch)
    server = fake_jira()
    source = source_for(server, monkeypatch)
    with pytest.raises(Killed):
        sync_source(sessions, config, source, connector=Dying(make_connector(source, config), 6))
    with sessions() as s, s.begin():
        state = s.get(SyncState, SOURCE_NAME)
        state.waiting = [*state.waiting, "99999"]  # as if deleted since: Jira refuses a search naming it

    sync_source(sessions, config, source)

    assert "could not read by id the issues the last run left waiting" in caplog.text
    assert rows(sessions, server.url) == clean_rows
    with sessions() as s:
        assert read_resume(s, SOURCE_NAME) is None
