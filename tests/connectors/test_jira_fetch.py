"""JiraConnector.pages: the queries it sends, paging, and completing truncated changelogs and comments."""
from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import responses
from responses import matchers

from connectors.errors import FatalError, RetriableError
from connectors.jira import SEARCH_FIELDS, incremental_jql
from connectors.jira_waiting import Resume
from tests.connectors.jira_fakes import (
    CLOUD, SERVER, TOKEN, Waits, cloud_page, comment, connector, history, issue, server_page,
)

UTC = timezone.utc
API3, API2 = f"{CLOUD}/rest/api/3", f"{SERVER}/rest/api/2"
FIRST_JQL = '(project = ACME) AND updated >= "2024-01-01" ORDER BY updated ASC'


def search_params(jql: str = FIRST_JQL, **extra: str) -> dict[str, str]:
    return {"jql": jql, "maxResults": "2", "fields": SEARCH_FIELDS, "expand": "changelog", **extra}


def add_cloud_search(http: responses.RequestsMock, body: dict, jql: str = FIRST_JQL, **extra: str) -> None:
    http.get(f"{API3}/search/jql", json=body, match=[matchers.query_param_matcher(search_params(jql, **extra))])


def add_count(http: responses.RequestsMock, count: int, jql: str = '(project = ACME) AND updated >= "2024-01-01"') -> None:
    http.post(f"{API3}/search/approximate-count", json={"count": count}, match=[matchers.json_params_matcher({"jql": jql})])


# -- Cloud paging -------------------------------------------------------------------------------

def test_cloud_pages_follow_next_page_token(http: responses.RequestsMock, waits: Waits) -> None:
    add_count(http, 3)
    add_cloud_search(http, cloud_page([issue(1, updated="2024-03-01T10:00:00.000+0000"),
                                       issue(2, updated="2024-03-02T10:00:00.000+0100")], token="tok-2"))
    add_cloud_search(http, cloud_page([issue(3, updated="2024-03-03T10:00:00.000+0000")]), nextPageToken="tok-2")

    pages = list(connector(waits).pages(None))

    assert [[t.ticket.key for t in page.tickets] for page in pages] == [["ACME-1", "ACME-2"], ["ACME-3"]]
    assert [page.bookmark for page in pages] == [datetime(2024, 3, 2, 9, tzinfo=UTC), datetime(2024, 3, 3, 10, tzinfo=UTC)]
    assert [page.total for page in pages] == [3, 3]
    assert waits.progress == [(2, 3), (3, 3)]
    auth = http.calls[1].request.headers["Authorization"]
    assert auth == "Basic " + base64.b64encode(f"bot@acme.example:{TOKEN}".encode()).decode()


def test_cloud_without_start_or_bookmark_asks_for_everything_in_the_jql(http: responses.RequestsMock, waits: Waits) -> None:
    add_count(http, 0, jql="(project = ACME)")
    add_cloud_search(http, cloud_page([]), jql="(project = ACME) ORDER BY updated ASC")

    assert list(connector(waits, start=None).pages(None)) == []
    assert waits.progress == [(0, 0)]


def test_repeated_page_token_is_a_loop(http: responses.RequestsMock, waits: Waits) -> None:
    add_count(http, 6)
    add_cloud_search(http, cloud_page([issue(1), issue(2)], token="again"))
    add_cloud_search(http, cloud_page([issue(3), issue(4)], token="again"), nextPageToken="again")

    pages = connector(waits).pages(None)
    assert len(next(pages).tickets) == 2
    assert len(next(pages).tickets) == 2
    with pytest.raises(RetriableError, match="page token 'again' twice"):
        next(pages)
    assert len(http.calls) == 3  # the repeated token was not asked for again


# -- Server paging ------------------------------------------------------------------------------

def test_server_pages_restart_from_the_newest_update(http: responses.RequestsMock, waits: Waits) -> None:
    server_issues = [issue(n, project="OPS", base=SERVER, updated=f"2024-02-0{n}T10:00:00.000+0000") for n in (1, 2, 3)]
    http.get(f"{API2}/search", json=server_page(server_issues[:2], 0, 3),
             match=[matchers.query_param_matcher(search_params(startAt="0"))])
    http.get(f"{API2}/myself", json={"name": "bot", "timeZone": "UTC"})
    # The second query starts at the first page's newest minute: OPS-2 comes again and is dropped.
    restart = '(project = ACME) AND updated >= "2024-02-02 10:00" ORDER BY updated ASC'
    http.get(f"{API2}/search", json=server_page(server_issues[1:], 0, 2),
             match=[matchers.query_param_matcher(search_params(restart, startAt="0"))])

    pages = list(connector(waits, "server").pages(None))

    assert [[t.ticket.key for t in page.tickets] for page in pages] == [["OPS-1", "OPS-2"], ["OPS-3"]]
    assert [page.total for page in pages] == [3, 3]
    assert waits.progress == [(2, 3), (3, 3)]
    assert pages[1].tickets[0].ticket.url == f"{SERVER}/browse/OPS-3"
    assert http.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_server_issue_updated_during_the_run_is_not_skipped(http: responses.RequestsMock, waits: Waits) -> None:
    # With offsets alone, OPS-1 moving to the end would slide OPS-3 into the page already read.
    first = [issue(n, project="OPS", base=SERVER, updated=f"2024-02-0{n}T10:00:00.000+0000") for n in (1, 2)]
    later = [issue(n, project="OPS", base=SERVER, updated=f"2024-02-0{n}T10:00:00.000+0000") for n in (2, 3)]
    moved = issue(1, project="OPS", base=SERVER, updated="2024-02-09T10:00:00.000+0000")
    http.get(f"{API2}/search", json=server_page(first, 0, 3), match=[matchers.query_param_matcher(search_params(startAt="0"))])
    http.get(f"{API2}/myself", json={"name": "bot", "timeZone": "UTC"})
    restart = '(project = ACME) AND updated >= "2024-02-02 10:00" ORDER BY updated ASC'
    http.get(f"{API2}/search", json=server_page(later, 0, 3),
             match=[matchers.query_param_matcher(search_params(restart, startAt="0"))])
    third = '(project = ACME) AND updated >= "2024-02-03 10:00" ORDER BY updated ASC'
    http.get(f"{API2}/search", json=server_page([later[1], moved], 0, 2),
             match=[matchers.query_param_matcher(search_params(third, startAt="0"))])

    keys = [t.ticket.key for page in connector(waits, "server").pages(None) for t in page.tickets]

    assert keys == ["OPS-1", "OPS-2", "OPS-3", "OPS-1"]  # OPS-3 seen; OPS-1 again as its newer copy


def test_server_page_shorter_than_asked_stops_at_total(http: responses.RequestsMock, waits: Waits) -> None:
    # Server may cap maxResults below what was asked; a full minute pages on by offset.
    same_minute = "2024-03-04T10:00:00.000+0000"
    http.get(f"{API2}/search", json=server_page([issue(1, project="OPS", updated=same_minute)], 0, 2, max_results=1),
             match=[matchers.query_param_matcher(search_params(startAt="0"))])
    http.get(f"{API2}/myself", json={"name": "bot", "timeZone": "UTC"})
    restart = '(project = ACME) AND updated >= "2024-03-04 10:00" ORDER BY updated ASC'
    http.get(f"{API2}/search", json=server_page([issue(1, project="OPS", updated=same_minute),
                                                 issue(2, project="OPS", updated=same_minute)], 0, 2, max_results=2),
             match=[matchers.query_param_matcher(search_params(restart, startAt="0"))])

    assert sum(len(page.tickets) for page in connector(waits, "server").pages(None)) == 2


# -- Incremental JQL ----------------------------------------------------------------------------

@pytest.mark.parametrize("bookmark, zone, bound", [
    pytest.param(datetime(2024, 3, 4, 10, 15, tzinfo=UTC), "Europe/Oslo", "2024-03-04 11:10", id="oslo-winter"),
    pytest.param(datetime(2024, 7, 4, 10, 15, tzinfo=UTC), "Europe/Oslo", "2024-07-04 12:10", id="oslo-summer"),
    pytest.param(datetime(2024, 3, 4, 10, 15, 45, tzinfo=UTC), "Asia/Kolkata", "2024-03-04 15:40", id="half-hour-zone-truncated"),
    pytest.param(datetime(2024, 3, 4, 2, 0, tzinfo=UTC), "America/New_York", "2024-03-03 20:55", id="previous-day"),
    pytest.param(datetime(2024, 3, 4, 11, 15, tzinfo=ZoneInfo("Europe/Oslo")), "UTC", "2024-03-04 10:10", id="aware-bookmark"),
    pytest.param(datetime(2024, 3, 4, 10, 15, tzinfo=UTC), "Mars/Olympus_Mons", "2024-03-03 20:10", id="unknown-zone-widens-14h"),
    pytest.param(datetime(2024, 3, 4, 10, 15, tzinfo=UTC), None, "2024-03-03 20:10", id="no-zone-widens-14h"),
])
def test_incremental_jql_uses_overlap_and_account_time_zone(
    http: responses.RequestsMock, waits: Waits, bookmark: datetime, zone: str | None, bound: str,
) -> None:
    me = {"accountId": "bot", "displayName": "Sync bot"} | ({"timeZone": zone} if zone else {})
    http.get(f"{API3}/myself", json=me)
    add_count(http, 0, jql=f'(project = ACME) AND updated >= "{bound}"')
    add_cloud_search(http, cloud_page([]), jql=f'(project = ACME) AND updated >= "{bound}" ORDER BY updated ASC')

    assert list(connector(waits).pages(bookmark)) == []


def test_server_incremental_jql_asks_myself_on_api_2(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(f"{API2}/myself", json={"name": "bot", "timeZone": "Europe/Berlin"})
    jql = '(project = ACME) AND updated >= "2024-03-04 11:00" ORDER BY updated ASC'
    http.get(f"{API2}/search", json=server_page([], 0, 0), match=[matchers.query_param_matcher(search_params(jql, startAt="0"))])

    list(connector(waits, "server", overlap=timedelta(minutes=15)).pages(datetime(2024, 3, 4, 10, 15, tzinfo=UTC)))

    assert [call.request.method for call in http.calls] == ["GET", "GET"]


def test_datetime_start_is_a_bound_in_the_account_zone(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(f"{API3}/myself", json={"timeZone": "Asia/Tokyo"})
    add_count(http, 0, jql='(project = ACME) AND updated >= "2024-01-01 09:00"')
    add_cloud_search(http, cloud_page([]), jql='(project = ACME) AND updated >= "2024-01-01 09:00" ORDER BY updated ASC')

    list(connector(waits, start=datetime(2024, 1, 1, 0, 0)).pages(None))  # naive means UTC


@pytest.mark.parametrize("jql, since, expected", [
    pytest.param("project = ACME ORDER BY created DESC", date(2024, 1, 2),
                 '(project = ACME) AND updated >= "2024-01-02" ORDER BY updated ASC', id="own-order-by-dropped"),
    pytest.param("  ", None, "ORDER BY updated ASC", id="nothing"),
    pytest.param("", datetime(2024, 1, 2, 3, 4, 59, tzinfo=UTC), 'updated >= "2024-01-02 03:04" ORDER BY updated ASC', id="no-jql"),
    pytest.param('summary ~ "sort order by date"', None, '(summary ~ "sort order by date") ORDER BY updated ASC', id="order-by-in-quotes-kept"),
    pytest.param("project = A OR project = B", None, "(project = A OR project = B) ORDER BY updated ASC", id="or-is-parenthesised"),
])
def test_incremental_jql(jql: str, since: date | datetime | None, expected: str) -> None:
    assert incremental_jql(jql, since) == expected


def test_bookmark_never_moves_backwards(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(f"{API3}/myself", json={"timeZone": "UTC"})
    bound = '(project = ACME) AND updated >= "2024-03-10 11:55"'
    add_count(http, 1, jql=bound)
    # An issue updated just before the bookmark re-appears through the overlap window.
    add_cloud_search(http, cloud_page([issue(1, updated="2024-03-10T11:58:00.000+0000")]), jql=f"{bound} ORDER BY updated ASC")

    bookmark = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    (page,) = connector(waits).pages(bookmark)

    assert page.bookmark == bookmark
    assert page.tickets[0].ticket.key == "ACME-1"


# -- Completing truncated pages -----------------------------------------------------------------

def test_cloud_truncated_changelogs_come_in_one_bulk_request(http: responses.RequestsMock, waits: Waits) -> None:
    a = issue(1, histories=[history(103, "2024-03-03T10:00:00.000+0000")], changelog_total=3)
    b = issue(2, histories=[history(202, "2024-03-02T10:00:00.000+0000")], changelog_total=2)
    whole = issue(3, histories=[history(301, "2024-03-02T10:00:00.000+0000")])
    add_count(http, 3)
    add_cloud_search(http, cloud_page([a, b, whole]), maxResults="3")
    asked = {"issueIdsOrKeys": ["10001", "10002"], "maxResults": 10000}  # only the truncated ones
    http.post(f"{API3}/changelog/bulkfetch", json={
        "issueChangeLogs": [
            {"issueId": "10001", "changeHistories": [history(101, "2024-03-01T10:00:00.000+0000")]},
            {"issueId": "10002", "changeHistories": [history(201, "2024-03-01T11:00:00.000+0000"),
                                                     history(202, "2024-03-02T10:00:00.000+0000")]},
        ],
        "nextPageToken": "more",
    }, match=[matchers.json_params_matcher(asked)])
    http.post(f"{API3}/changelog/bulkfetch", json={
        "issueChangeLogs": [{"issueId": "10001", "changeHistories": [history(102, "2024-03-02T10:00:00.000+0000"),
                                                                    history(103, "2024-03-03T10:00:00.000+0000")]}],
    }, match=[matchers.json_params_matcher({**asked, "nextPageToken": "more"})])

    tickets = [t for page in connector(waits, page_size=3).pages(None) for t in page.tickets]

    transitions = {t.ticket.key: [e.external_id for e in t.events if e.kind == "transition"] for t in tickets}
    assert transitions == {"ACME-1": ["h101.0", "h102.0", "h103.0"], "ACME-2": ["h201.0", "h202.0"], "ACME-3": ["h301.0"]}
    assert [c.request.url.split("?")[0].removeprefix(API3) for c in http.calls] == [
        "/search/approximate-count", "/search/jql", "/changelog/bulkfetch", "/changelog/bulkfetch",
    ]


def test_cloud_truncated_changelogs_wait_across_pages_for_one_bulk_request(
    http: responses.RequestsMock, waits: Waits,
) -> None:
    cut1 = issue(1, updated="2024-03-01T10:00:00.000+0000", histories=[history(102, "2024-03-01T10:00:00.000+0000")],
                 changelog_total=2)
    whole2 = issue(2, updated="2024-03-02T10:00:00.000+0000")
    cut3 = issue(3, updated="2024-03-03T10:00:00.000+0000", histories=[history(302, "2024-03-03T10:00:00.000+0000")],
                 changelog_total=2)
    whole4 = issue(4, updated="2024-03-04T10:00:00.000+0000")
    add_count(http, 4)
    add_cloud_search(http, cloud_page([cut1, whole2], token="tok-2"))
    add_cloud_search(http, cloud_page([cut3, whole4]), nextPageToken="tok-2")
    http.post(f"{API3}/changelog/bulkfetch", json={"issueChangeLogs": [
        {"issueId": "10001", "changeHistories": [history(101, "2024-02-29T10:00:00.000+0000")]},
        {"issueId": "10003", "changeHistories": [history(301, "2024-03-02T11:00:00.000+0000")]},
    ]}, match=[matchers.json_params_matcher({"issueIdsOrKeys": ["10001", "10003"], "maxResults": 10000})])

    pages = list(connector(waits).pages(None))

    assert [[t.ticket.key for t in p.tickets] for p in pages] == [["ACME-2"], ["ACME-4"], ["ACME-1", "ACME-3"]]
    # While ACME-1 waits, committing a page must not move the bookmark past it.
    waiting_since = datetime(2024, 3, 1, 10, tzinfo=timezone.utc)
    assert pages[0].bookmark < waiting_since and pages[1].bookmark < waiting_since
    assert pages[2].bookmark == datetime(2024, 3, 4, 10, tzinfo=timezone.utc)
    assert [len([e for e in t.events if e.kind == "transition"]) for t in pages[2].tickets] == [2, 2]
    assert sum(1 for c in http.calls if c.request.url.endswith("/changelog/bulkfetch")) == 1
    # Each page also says how far the search got and who waits, for a run that dies to resume from.
    assert [page.resume for page in pages] == [
        Resume(datetime(2024, 3, 2, 10, tzinfo=UTC), ("10001",)),
        Resume(datetime(2024, 3, 4, 10, tzinfo=UTC), ("10001", "10003")),
        None,
    ]


def waiting_pair() -> tuple[dict, dict]:
    """ACME-1 and ACME-3, each with one of its two histories embedded."""
    return (issue(1, updated="2024-03-01T10:00:00.000+0000", histories=[history(102, "2024-03-01T10:00:00.000+0000")],
                  changelog_total=2),
            issue(3, updated="2024-03-03T10:00:00.000+0000", histories=[history(302, "2024-03-03T10:00:00.000+0000")],
                  changelog_total=2))


def add_bulk_for_pair(http: responses.RequestsMock) -> None:
    http.post(f"{API3}/changelog/bulkfetch", json={"issueChangeLogs": [
        {"issueId": "10001", "changeHistories": [history(101, "2024-02-29T10:00:00.000+0000")]},
        {"issueId": "10003", "changeHistories": [history(301, "2024-03-02T11:00:00.000+0000")]},
    ]}, match=[matchers.json_params_matcher({"issueIdsOrKeys": ["10001", "10003"], "maxResults": 10000})])


def test_a_resumed_cloud_run_reads_the_waiting_issues_by_id_then_searches_on(
    http: responses.RequestsMock, waits: Waits,
) -> None:
    # The run that died had stored everything up to 4 March but ACME-1 and ACME-3, which waited;
    # its bookmark stayed below ACME-1.
    bookmark = datetime(2024, 3, 1, 10, tzinfo=UTC) - timedelta(microseconds=1)
    resume = Resume(datetime(2024, 3, 4, 10, tzinfo=UTC), ("10001", "10003"))
    add_cloud_search(http, cloud_page(list(waiting_pair())), jql="(project = ACME) AND id in (10001, 10003) ORDER BY updated ASC")
    http.get(f"{API3}/myself", json={"timeZone": "UTC"})
    bound = '(project = ACME) AND updated >= "2024-03-04 09:55"'  # from where the search had got, less the overlap
    add_count(http, 1, jql=bound)
    add_cloud_search(http, cloud_page([issue(5, updated="2024-03-05T10:00:00.000+0000")]), jql=f"{bound} ORDER BY updated ASC")
    add_bulk_for_pair(http)

    pages = list(connector(waits).pages(bookmark, resume))

    assert [[t.ticket.key for t in p.tickets] for p in pages] == [["ACME-5"], ["ACME-1", "ACME-3"]]
    assert pages[0].bookmark == bookmark  # still held below ACME-1
    assert pages[0].resume == Resume(datetime(2024, 3, 5, 10, tzinfo=UTC), ("10001", "10003"))
    assert (pages[1].bookmark, pages[1].resume) == (datetime(2024, 3, 5, 10, tzinfo=UTC), None)
    assert [len([e for e in t.events if e.kind == "transition"]) for t in pages[1].tickets] == [2, 2]


def test_a_waiting_issue_deleted_since_sends_the_resumed_run_back_to_the_bookmark(
    http: responses.RequestsMock, waits: Waits, caplog: pytest.LogCaptureFixture,
) -> None:
    bookmark = datetime(2024, 3, 1, 10, tzinfo=UTC) - timedelta(microseconds=1)
    resume = Resume(datetime(2024, 3, 4, 10, tzinfo=UTC), ("10001", "10003"))
    http.get(f"{API3}/search/jql", status=400, json={
        "errorMessages": ["An issue with key '10003' does not exist for field 'id'."], "errors": {}})
    http.get(f"{API3}/myself", json={"timeZone": "UTC"})
    bound = '(project = ACME) AND updated >= "2024-03-01 09:54"'  # the bookmark less the overlap, to the minute
    add_count(http, 1, jql=bound)
    add_cloud_search(http, cloud_page([waiting_pair()[0]]), jql=f"{bound} ORDER BY updated ASC")
    http.post(f"{API3}/changelog/bulkfetch", json={"issueChangeLogs": [
        {"issueId": "10001", "changeHistories": [history(101, "2024-02-29T10:00:00.000+0000")]}]})

    pages = list(connector(waits).pages(bookmark, resume))

    assert "could not read by id the issues the last run left waiting" in caplog.text
    assert "An issue with key '10003' does not exist" in caplog.text
    assert [[t.ticket.key for t in p.tickets] for p in pages] == [[], ["ACME-1"]]
    assert pages[0].resume == Resume(bookmark, ("10001",))  # the search starts over from the bookmark
    assert pages[-1].resume is None  # the last page clears the stale resume point


def test_a_resume_point_naming_no_issue_id_is_not_put_into_jql(
    http: responses.RequestsMock, waits: Waits, caplog: pytest.LogCaptureFixture,
) -> None:
    # Only a number can have come from Jira as an issue id; anything else sends the run to its bookmark.
    resume = Resume(datetime(2024, 3, 4, 10, tzinfo=UTC), ("10001", "1) OR (project = SECRET"))
    http.get(f"{API3}/myself", json={"timeZone": "UTC"})
    bound = '(project = ACME) AND updated >= "2024-02-29 23:55"'
    add_count(http, 0, jql=bound)
    add_cloud_search(http, cloud_page([]), jql=f"{bound} ORDER BY updated ASC")

    (page,) = connector(waits).pages(datetime(2024, 3, 1, tzinfo=UTC), resume)

    assert "an issue id there is not a number" in caplog.text
    assert (page.tickets, page.resume) == ([], None)


def test_a_resume_point_is_cleared_even_when_nothing_changed(http: responses.RequestsMock, waits: Waits) -> None:
    # The waiting issues have left the configured JQL: the search by id finds none of them.
    resume = Resume(datetime(2024, 3, 4, 10, tzinfo=UTC), ("10001",))
    add_cloud_search(http, cloud_page([]), jql="(project = ACME) AND id in (10001) ORDER BY updated ASC")
    http.get(f"{API3}/myself", json={"timeZone": "UTC"})
    bound = '(project = ACME) AND updated >= "2024-03-04 09:55"'
    add_count(http, 0, jql=bound)
    add_cloud_search(http, cloud_page([]), jql=f"{bound} ORDER BY updated ASC")

    (page,) = connector(waits).pages(datetime(2024, 3, 1, tzinfo=UTC), resume)

    assert (page.tickets, page.resume) == ([], None)
    assert page.bookmark == datetime(2024, 3, 4, 10, tzinfo=UTC)


def test_server_truncated_changelog_is_fetched_per_issue(http: responses.RequestsMock, waits: Waits) -> None:
    a = issue(1, project="OPS", histories=[history(102, "2024-03-02T10:00:00.000+0000")], changelog_total=2)
    b = issue(2, project="OPS", histories=[history(202, "2024-03-02T10:00:00.000+0000")], changelog_total=2)
    http.get(f"{API2}/search", json=server_page([a, b], 0, 2), match=[matchers.query_param_matcher(search_params(startAt="0"))])
    for number, histories in ((1, [101, 102]), (2, [201, 202])):
        full = issue(number, project="OPS", histories=[history(h, f"2024-03-0{h % 100}T09:00:00.000+0000") for h in histories])
        http.get(f"{API2}/issue/{10000 + number}", json=full,
                 match=[matchers.query_param_matcher({"expand": "changelog", "fields": "updated"})])

    (page,) = connector(waits, "server").pages(None)

    assert {t.ticket.key: [e.external_id for e in t.events if e.kind == "transition"] for t in page.tickets} == {
        "OPS-1": ["h101.0", "h102.0"], "OPS-2": ["h201.0", "h202.0"],
    }


def test_comments_beyond_the_embedded_page_are_fetched(http: responses.RequestsMock, waits: Waits) -> None:
    first = comment(501, "2024-03-01T10:00:00.000+0000", author="client")
    truncated = issue(1, comments=[first], comment_total=4)
    add_count(http, 1)
    add_cloud_search(http, cloud_page([truncated]))
    http.get(f"{API3}/issue/10001/comment", json={
        "startAt": 1, "maxResults": 2, "total": 4,
        "comments": [comment(502, "2024-03-01T11:00:00.000+0000", "partner"), comment(503, "2024-03-01T12:00:00.000+0000")],
    }, match=[matchers.query_param_matcher({"startAt": "1", "maxResults": "100"})])
    http.get(f"{API3}/issue/10001/comment", json={
        "startAt": 3, "maxResults": 2, "total": 4, "comments": [comment(504, "2024-03-01T13:00:00.000+0000")],
    }, match=[matchers.query_param_matcher({"startAt": "3", "maxResults": "100"})])

    (page,) = connector(waits).pages(None)

    comments = [(e.external_id, e.actor) for e in page.tickets[0].events if e.kind == "comment"]
    assert comments == [("c501", "jira:client"), ("c502", "jira:partner"), ("c503", "jira:dev"), ("c504", "jira:dev")]


def test_issue_deleted_before_its_comments_are_fetched_is_dropped(http: responses.RequestsMock, waits: Waits) -> None:
    gone = issue(1, comments=[comment(1, "2024-03-01T10:00:00.000+0000")], comment_total=2)
    add_count(http, 2)
    add_cloud_search(http, cloud_page([gone, issue(2)]))
    http.get(f"{API3}/issue/10001/comment", status=404, json={"errorMessages": ["Issue does not exist or you do not have permission to see it."]})

    (page,) = connector(waits).pages(None)

    assert [t.ticket.key for t in page.tickets] == ["ACME-2"]


def test_malformed_issue_is_skipped_and_reported(http: responses.RequestsMock, waits: Waits) -> None:
    broken = issue(1)
    broken["fields"]["created"] = "not a date"
    add_count(http, 2)
    add_cloud_search(http, cloud_page([broken, issue(2)]))

    (page,) = connector(waits).pages(None)

    assert [t.ticket.key for t in page.tickets] == ["ACME-2"]
    assert page.skipped == [("ACME-1", "created 'not a date' is not an ISO 8601 time")]


def test_search_without_issues_list_is_fatal(http: responses.RequestsMock, waits: Waits) -> None:
    add_count(http, 0)
    add_cloud_search(http, {"values": []})

    with pytest.raises(FatalError, match="'acme-jira' answered the search without an 'issues' list"):
        list(connector(waits).pages(None))


# -- Request counting ---------------------------------------------------------------------------

def test_every_request_is_counted_per_endpoint(http: responses.RequestsMock, waits: Waits) -> None:
    add_count(http, 1)
    add_cloud_search(http, cloud_page([issue(1, comments=[comment(1, "2024-03-01T10:00:00.000+0000")], comment_total=2)]))
    http.get(f"{API3}/issue/10001/comment", status=502)
    http.get(f"{API3}/issue/10001/comment", json={"startAt": 1, "total": 2, "comments": [comment(2, "2024-03-01T11:00:00.000+0000")]})

    jira = connector(waits)
    list(jira.pages(None))

    assert jira.requests == len(http.calls) == 4
    assert jira.requests_by_endpoint == {
        "POST /rest/api/3/search/approximate-count": 1,
        "GET /rest/api/3/search/jql": 1,
        "GET /rest/api/3/issue/{id}/comment": 2,
    }
    assert json.loads(http.calls[0].request.body) == {"jql": '(project = ACME) AND updated >= "2024-01-01"'}
