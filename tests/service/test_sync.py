"""The sync loop: a page and its bookmark commit together; a crash resumes without loss or duplicates."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest
from sqlalchemy import func, select

from connectors.errors import RetriableError
from connectors.jira_waiting import Resume
from connectors.records import ParsedTicket
from service.config import SourceConfig
from service.store.models import Attribution, Event, Ticket
from service.jobs.sync import read_bookmark, read_resume, sync_source
from tests.service.builders import at, bug_through_qa

SOURCE = SourceConfig(name="test-jira", kind="jira", url="https://jira.example", deployment="server",
                      token_env="UNUSED")


@dataclass
class Page:
    tickets: list[ParsedTicket]
    bookmark: datetime
    total: int | None = None


@dataclass
class FakeConnector:
    """Serves fixed pages from the bookmark on, and can fail after a number of pages."""

    pages_: list[Page]
    fail_after: int | None = None
    requests: int = 0
    asked_from: list[datetime | None] = field(default_factory=list)

    def pages(self, bookmark: datetime | None):
        self.asked_from.append(bookmark)
        served = 0
        for page in self.pages_:
            if bookmark is not None and page.bookmark < bookmark:
                continue  # like JQL's `updated >= bookmark - overlap`: the page at the bookmark repeats
            if self.fail_after is not None and served == self.fail_after:
                raise RetriableError("Jira answered HTTP 503 five times")
            self.requests += 1
            served += 1
            yield page


def three_pages() -> list[Page]:
    return [
        Page([bug_through_qa(1, updated=10), bug_through_qa(2, updated=11)], at(11)),
        Page([bug_through_qa(3, updated=12), bug_through_qa(4, updated=13)], at(13)),
        Page([bug_through_qa(5, updated=14)], at(14)),
    ]


def snapshot(sessions) -> tuple[int, int, int, list[str]]:
    with sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(Ticket)),
            s.scalar(select(func.count()).select_from(Event)),
            s.scalar(select(func.count()).select_from(Attribution)),
            sorted(s.scalars(select(Ticket.key))),
        )


def test_clean_run_stores_everything_and_sets_the_bookmark(sessions, config) -> None:
    connector = FakeConnector(three_pages())
    result = sync_source(sessions, config, SOURCE, connector=connector)
    assert (result.pages, result.tickets, result.events, result.requests) == (3, 5, 25, 3)
    with sessions() as s:
        assert read_bookmark(s, SOURCE.name) == at(14)


def test_crash_between_pages_resumes_without_loss_or_duplicates(sessions, config) -> None:
    clean_db = snapshot_after_clean_run(config)
    crashing = FakeConnector(three_pages(), fail_after=1)
    with pytest.raises(RetriableError):
        sync_source(sessions, config, SOURCE, connector=crashing)
    with sessions() as s:
        assert read_bookmark(s, SOURCE.name) == at(11)  # the committed page's bookmark, no further
    assert snapshot(sessions)[0] == 2

    resumed = FakeConnector(three_pages())
    result = sync_source(sessions, config, SOURCE, connector=resumed)
    assert resumed.asked_from == [at(11)]
    assert result.tickets == 3  # tickets 3, 4, 5; the repeated page 1 changes nothing
    assert snapshot(sessions) == clean_db
    with sessions() as s:
        assert read_bookmark(s, SOURCE.name) == at(14)


def snapshot_after_clean_run(config) -> tuple[int, int, int, list[str]]:
    """The counts a run without failures ends with, in a database of its own."""
    from sqlalchemy import create_engine

    from service.store.db import session_factory, upgrade

    engine = create_engine("sqlite://")
    upgrade(engine)
    try:
        factory = session_factory(engine)
        sync_source(factory, config, SOURCE, connector=FakeConnector(three_pages()))
        return snapshot(factory)
    finally:
        engine.dispose()


def test_bookmark_never_moves_back(sessions, config) -> None:
    sync_source(sessions, config, SOURCE, connector=FakeConnector(three_pages()))
    stale = FakeConnector([Page([bug_through_qa(1, updated=10)], at(10))])
    sync_source(sessions, config, SOURCE, connector=stale)
    with sessions() as s:
        assert read_bookmark(s, SOURCE.name) == at(14)


@dataclass
class ResumingPage(Page):
    resume: Resume | None = None


@dataclass
class ResumingConnector:
    """Serves fixed pages that carry resume points (as Jira Cloud's do), failing after some."""

    pages_: list[ResumingPage]
    fail_after: int | None = None
    requests: int = 0
    asked: list[tuple[datetime | None, Resume | None]] = field(default_factory=list)

    def pages(self, bookmark: datetime | None, resume: Resume | None = None):
        self.asked.append((bookmark, resume))
        yield from self.pages_[:self.fail_after]
        if self.fail_after is not None:
            raise RetriableError("Jira answered HTTP 503 five times")


def test_a_page_commits_its_resume_point_and_the_next_run_is_handed_it(sessions, config) -> None:
    # Ticket 9 waits for its changelog from the first page on: the bookmark cannot pass it.
    waiting = [ResumingPage([], None, resume=Resume(None, ("9",))),
               ResumingPage([bug_through_qa(1, updated=10)], at(9), resume=Resume(at(10), ("9",))),
               ResumingPage([bug_through_qa(2, updated=12)], at(9), resume=Resume(at(12), ("9", "7")))]
    with pytest.raises(RetriableError):
        sync_source(sessions, config, SOURCE, connector=ResumingConnector(waiting, fail_after=1))
    with sessions() as s:
        assert (read_bookmark(s, SOURCE.name), read_resume(s, SOURCE.name)) == (None, Resume(None, ("9",)))

    with pytest.raises(RetriableError):
        sync_source(sessions, config, SOURCE, connector=ResumingConnector(waiting, fail_after=3))
    with sessions() as s:
        assert (read_bookmark(s, SOURCE.name), read_resume(s, SOURCE.name)) == (at(9), Resume(at(12), ("9", "7")))

    resumed = ResumingConnector([ResumingPage([bug_through_qa(9, updated=8), bug_through_qa(7, updated=11)], at(12))])
    sync_source(sessions, config, SOURCE, connector=resumed)
    assert resumed.asked == [(at(9), Resume(at(12), ("9", "7")))]
    with sessions() as s:
        assert (read_bookmark(s, SOURCE.name), read_resume(s, SOURCE.name)) == (at(12), None)  # nothing waits now
    assert snapshot(sessions)[3] == [f"SHOP-{n}" for n in (1, 2, 7, 9)]
