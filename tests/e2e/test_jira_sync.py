"""Partnerscope syncing the fake Jira over real HTTP: complete data, counted requests, faults, increments, 401."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.errors import RetriableError, FatalError
from connectors.jira import JiraConnector
from connectors.retry import RetryPolicy
from service.store.models import Event, Ticket
from service.jobs.sync import make_connector, read_bookmark, sync_source
from simulator.faults import FaultPlan
from tests.e2e.conftest import SOURCE_NAME, TOKEN, TOKEN_ENV, source_for
from tests.e2e.expected import cloud_requests, events_of, rows, wipe


class Recording:
    """A connector wrapper that remembers which issue keys each run's pages carried."""

    def __init__(self, inner: JiraConnector) -> None:
        self.inner = inner
        self.keys: list[str] = []

    @property
    def requests(self) -> int:
        return self.inner.requests

    def pages(self, bookmark: datetime | None):  # type: ignore[no-untyped-def]
        for page in self.inner.pages(bookmark):
            self.keys += [parsed.ticket.key for parsed in page.tickets]
            yield page


def counts(sessions) -> tuple[int, int]:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(Ticket)), s.scalar(select(func.count()).select_from(Event))


def test_cloud_sync_stores_every_ticket_with_the_fewest_requests(sessions, config, fake_jira, issues, monkeypatch):
    server = fake_jira(embedded_comments=3)  # cut comments too, so the comment endpoint is exercised
    source = source_for(server, monkeypatch)
    connector = make_connector(source, config)

    result = sync_source(sessions, config, source, connector=connector)

    expected = cloud_requests(issues, embedded_comments=3)
    assert "POST /rest/api/3/changelog/bulkfetch" in expected and "GET /rest/api/3/issue/{id}/comment" in expected
    assert server.stats["by_endpoint"] == connector.requests_by_endpoint == expected
    assert result.requests == server.stats["requests"] == sum(expected.values())
    assert counts(sessions) == (len(issues), sum(events_of(i) for i in issues))
    with sessions() as s:
        assert sorted(s.scalars(select(Ticket.key))) == sorted(i["key"] for i in issues)
        assert read_bookmark(s, SOURCE_NAME) == max(t for t in s.scalars(select(Ticket.updated)))


@pytest.mark.parametrize(("server_histories", "extra_issue_requests"), [
    pytest.param(None, 0, id="whole-changelog-embedded"),
    pytest.param(40, None, id="changelog-cut-at-40-fetched-per-issue"),
])
def test_server_mode_sync_reads_the_v2_search(sessions, config, fake_jira, issues, monkeypatch,
                                              server_histories, extra_issue_requests):
    # deployment="server": the Cloud-only endpoints answer 404, so using one would fail the sync.
    server = fake_jira(deployment="server", server_histories=server_histories)
    source = source_for(server, monkeypatch, deployment="server")
    connector = make_connector(source, config)

    sync_source(sessions, config, source, connector=connector)

    long = sum(1 for i in issues if len(i["changelog"]["histories"]) > 40)
    used = dict(connector.requests_by_endpoint)
    assert server.stats["by_endpoint"] == used
    # Each page restarts the query from its newest minute, which re-reads the few issues of
    # that minute: one search page per 100 issues, plus at most one more per page.
    pages = math.ceil(len(issues) / 100)
    assert pages <= used.pop("GET /rest/api/2/search") <= 2 * pages
    expected = {"GET /rest/api/2/myself": 1}
    if extra_issue_requests is None:
        expected["GET /rest/api/2/issue/{id}"] = long
    assert used == expected
    assert counts(sessions) == (len(issues), sum(events_of(i) for i in issues))


def test_server_issue_updated_during_the_sync_is_not_lost(sessions, config, fake_jira, issues, monkeypatch):
    server = fake_jira(deployment="server")
    source = source_for(server, monkeypatch, deployment="server")
    connector = make_connector(source, config)
    pages = connector.pages

    def touching(bookmark):
        for number, page in enumerate(pages(bookmark)):
            if number == 0:  # someone edits an issue the first page already returned
                server.touch(keys=[page.tickets[0].ticket.key])
            yield page

    connector.pages = touching
    sync_source(sessions, config, source, connector=connector)
    assert counts(sessions)[0] == len(issues)


def fast_connector(source, config, sleeps: list[float]) -> JiraConnector:
    """The real connector with a short timeout, its waits recorded instead of slept."""
    return JiraConnector(
        source.name, source.url, source.deployment, source.jql, email=source.email, token=source.token(),
        token_env=source.token_env or "", start=source.start, kind_of=config.kinds.kind, sleep=sleeps.append,
        timeout=0.5, policy=RetryPolicy(attempts=4, first_delay=0.01, max_delay=0.05),
    )


@pytest.mark.parametrize(("faults", "waits"), [
    pytest.param({2: "429", 4: "503", 6: "500"}, [1.0, 1.0, 0.01], id="429-503-500"),
    pytest.param({2: "502", 4: "disconnect", 5: "disconnect", 7: "timeout"}, [0.01, 0.01, 0.02, 0.01],
                 id="502-two-drops-in-a-row-timeout"),
    pytest.param({3: "truncate"}, [0.01], id="truncated-body"),
])
def test_faults_are_waited_out_without_changing_a_row(sessions, config, fake_jira, monkeypatch, faults, waits):
    clean_server = fake_jira()
    clean_source = source_for(clean_server, monkeypatch)
    sync_source(sessions, config, clean_source, connector=fast_connector(clean_source, config, []))
    clean_rows, clean_requests = rows(sessions, clean_server.url), clean_server.stats["requests"]
    wipe(sessions)

    server = fake_jira(faults=FaultPlan(at=faults, retry_after=1, hang_seconds=3))
    source = source_for(server, monkeypatch)
    sleeps: list[float] = []
    connector = fast_connector(source, config, sleeps)
    sync_source(sessions, config, source, connector=connector)

    assert rows(sessions, server.url) == clean_rows
    assert sleeps == waits  # Retry-After for 429/503, the policy's backoff otherwise
    assert server.stats["faults"] == {kind: list(faults.values()).count(kind) for kind in set(faults.values())}
    assert connector.requests == server.stats["requests"] == clean_requests + len(faults)


def test_run_that_dies_resumes_without_loss_or_duplicates(sessions, config, fake_jira, monkeypatch):
    clean_server = fake_jira()
    clean_source = source_for(clean_server, monkeypatch)
    sync_source(sessions, config, clean_source, connector=fast_connector(clean_source, config, []))
    clean_rows, clean_requests = rows(sessions, clean_server.url), clean_server.stats["requests"]
    wipe(sessions)

    # The last request (the bulk changelog for the long issues that waited) fails every attempt.
    dying = fake_jira(faults=FaultPlan(at={n: "500" for n in range(clean_requests, clean_requests + 4)}))
    source = source_for(dying, monkeypatch)
    with pytest.raises(RetriableError):
        sync_source(sessions, config, source, connector=fast_connector(source, config, []))
    # The pages committed before the failure are kept; the long issues that waited are not there yet.
    assert 0 < counts(sessions)[0] < len(clean_rows["tickets"])

    sync_source(sessions, config, source, connector=fast_connector(source, config, []))
    assert rows(sessions, dying.url) == clean_rows


@pytest.mark.parametrize("time_zone", [
    pytest.param("UTC", id="utc"),
    pytest.param("Pacific/Kiritimati", id="utc+14"),
    pytest.param("America/Los_Angeles", id="utc-8"),
])
def test_second_sync_fetches_only_what_changed(sessions, config, fake_jira, monkeypatch, time_zone):
    server = fake_jira(time_zone=time_zone)
    source = source_for(server, monkeypatch)
    sync_source(sessions, config, source)
    before_tickets, before_events = counts(sessions)
    with sessions() as s:
        bookmark = read_bookmark(s, SOURCE_NAME)
    assert bookmark is not None

    touched = server.touch(count=5)
    server.reset_stats()
    connector = Recording(make_connector(source, config))
    sync_source(sessions, config, source, connector=connector)

    # The JQL bound is the bookmark less the 5-minute overlap, on the account's clock, to the minute.
    bound = (bookmark - timedelta(minutes=5)).replace(second=0, microsecond=0)
    assert server.store is not None
    overlap = {e.raw["key"] for e in server.store.entries() if e.facts.updated >= bound.timestamp()}
    assert set(connector.keys) == overlap | set(touched)
    assert len(overlap - set(touched)) <= 2  # the overlap repeats a few, never the whole project
    assert server.stats["by_endpoint"]["GET /rest/api/3/search/jql"] == 1
    assert server.stats["by_endpoint"]["GET /rest/api/3/myself"] == 1  # the zone to write the bound in
    assert counts(sessions) == (before_tickets, before_events + len(touched))  # one label change each
    with sessions() as s:
        rows_ = s.execute(select(Ticket.key, Ticket.labels).where(Ticket.key.in_(touched)))
        labels = {key: value for key, value in rows_}
        assert all("touched-1" in labels[key] for key in touched)
        assert read_bookmark(s, SOURCE_NAME) > bookmark


@pytest.mark.parametrize(("deployment", "token", "email"), [
    pytest.param("cloud", "wrong-token", "sync-bot@acme.example", id="cloud-wrong-token"),
    pytest.param("cloud", TOKEN, "someone-else@acme.example", id="cloud-wrong-email"),
    pytest.param("server", "wrong-token", None, id="server-wrong-bearer-token"),
])
def test_refused_credentials_stop_the_sync_naming_source_and_variable(
        sessions, config, fake_jira, monkeypatch, deployment, token, email):
    server = fake_jira()
    source = source_for(server, monkeypatch, deployment=deployment, token=token, email=email)

    with pytest.raises(FatalError) as raised:
        sync_source(sessions, config, source)

    message = str(raised.value)
    assert SOURCE_NAME in message and TOKEN_ENV in message and "401" in message
    assert token not in message
    assert server.stats["by_status"] == {"401": 1}  # no retry of a refusal
    assert counts(sessions) == (0, 0)


def perceval_issues(url: str, email: str, token: str) -> list[dict[str, Any]]:
    """All issues as Perceval's jira backend fetches them (no archive)."""
    from perceval.backends.core.jira import Jira

    backend = Jira(url, user=email, password=token)
    return list(backend.fetch(from_date=datetime(2020, 1, 1, tzinfo=timezone.utc)))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_perceval_fetches_every_issue_and_comment(fake_jira, issues):
    pytest.importorskip("perceval.backends.core.jira",
                        reason="Perceval is not a project dependency; the benchmark installs it in its own venv")
    from tests.e2e.conftest import EMAIL

    server = fake_jira()
    fetched = perceval_issues(server.url, EMAIL, TOKEN)

    by_key = {item["data"]["key"]: item["data"] for item in fetched}
    assert sorted(by_key) == sorted(i["key"] for i in issues)
    for issue in issues:
        got = by_key[issue["key"]]
        assert len(got["comments_data"]) == len(issue["fields"]["comment"]["comments"])
        assert len(got["changelog"]["histories"]) == len(issue["changelog"]["histories"])
    assert server.stats["by_endpoint"] == {
        "GET /rest/api/2/search": math.ceil(len(issues) / 100),
        "GET /rest/api/2/field": 1,
        "GET /rest/api/2/issue/{id}/comment": len(issues),
    }
