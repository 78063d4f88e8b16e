"""GitHubConnector.pages: what it asks GitHub, how it pages, and how few requests a run costs."""
from __future__ import annotations

import json
import math
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
from responses import matchers

from connectors.errors import FatalError, RetriableError
from connectors.github_graphql import DEPLOYMENTS_QUERY, MORE_STATUSES_QUERY, NODES_QUERY
from connectors.github_http import next_link
from tests.connectors.github_fakes import (
    API, GRAPHQL, REPO, TOKEN, FakeRepository, Waits, add_quiet_activity, asks, asks_deployments, asks_nodes,
    comment_nodes, connector, deployment_node, deployments_answer, event, graphql_ids, issue, issue_node, link, load,
    pull_node, pull_object, repository, review_nodes, status_node,
)

UTC = timezone.utc
ISSUES = f"{API}/repos/{REPO}/issues"
EVENTS = f"{API}/repos/{REPO}/issues/events"
FIRST_QUERY = {"state": "all", "sort": "updated", "direction": "asc", "per_page": "100"}


def query_of(call: Any) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(call.request.url).query))


def add_repo(http: responses.RequestsMock, data: dict[str, Any] | None = None, name: str = REPO) -> None:
    http.get(f"{API}/repos/{name}", json=data or repository(name))


# -- a whole small repository -------------------------------------------------------------------

def test_first_run_of_a_small_repository(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(f"{API}/repos/{REPO}", json=load("repo.json"), headers={"ETag": '"repo-v1"'})
    http.post(GRAPHQL, json=load("graphql_deployments.json"),
              match=asks_deployments(first=100, after=None))
    http.get(f"{API}/repos/{REPO}/releases", json=load("releases.json"))
    http.get(ISSUES, json=load("issues.json"), match=[matchers.query_param_matcher(FIRST_QUERY)])
    http.get(EVENTS, json=load("issue_events.json"), match=[matchers.query_param_matcher({"per_page": "100"})])
    http.post(GRAPHQL, json=load("graphql_nodes.json"), match=[asks_nodes])

    github = connector(waits)
    pages = list(github.pages(None))

    deployments_and_releases = [t.ticket.key for t in pages[0].tickets]
    assert deployments_and_releases and all(key.startswith("acme/widgets@") for key in deployments_and_releases)
    assert [t.ticket.key for t in pages[1].tickets] == ["acme/widgets#12", "acme/widgets#13", "acme/widgets#14"]
    assert [page.bookmark for page in pages] == [None, datetime(2024, 5, 7, 11, tzinfo=UTC)]
    assert sum(len(t.events) for t in pages[0].tickets) == 7
    assert json.loads(http.calls[1].request.body)["query"] == DEPLOYMENTS_QUERY
    pull = pages[1].tickets[1]
    assert pull.links == ("acme/widgets#12", "acme/api#7", "PAY-91", "PAY-88")
    assert [e.kind for e in pull.events].count("review") == 2
    # Issue 14 has no comments and is no pull request: GraphQL is not asked about it.
    assert graphql_ids(http.calls[-1]) == ["I_kwDOAcme12", "PR_kwDOAcme13"]
    assert "fullDatabaseId" in json.loads(http.calls[-1].request.body)["query"]
    assert github.requests_by_endpoint == {
        "GET /repos/{owner}/{repo}": 1,
        "GET /repos/{owner}/{repo}/releases": 1,
        "GET /repos/{owner}/{repo}/issues": 1,
        "GET /repos/{owner}/{repo}/issues/events": 1,
        "POST /graphql": 2,  # the deployments with their statuses; the page's comments and reviews
    }
    assert github.requests == 6
    headers = http.calls[0].request.headers
    assert (headers["Authorization"], headers["X-GitHub-Api-Version"]) == (f"token {TOKEN}", "2022-11-28")
    assert waits.progress == [(3, None)]
    assert waits.sleeps == []
    assert github.etags[f"https://api.github.com/repos/{REPO}"][0] == '"repo-v1"'


def test_incremental_run_asks_since_the_bookmark_less_overlap_and_stops_listings_there(
    http: responses.RequestsMock, waits: Waits,
) -> None:
    add_repo(http, load("repo.json"))
    # Deployments and releases are newest first: the first page reaching back past `since` is the last asked.
    more = load("graphql_deployments.json")
    more["data"]["repository"]["deployments"]["pageInfo"]["hasNextPage"] = True
    http.post(GRAPHQL, json=more, match=asks_deployments(after=None))
    http.get(f"{API}/repos/{REPO}/releases", json=load("releases.json"),
             headers=link(f"{API}/repositories/44/releases", page=2))
    since = {**FIRST_QUERY, "since": "2024-05-06T15:45:00Z"}
    http.get(ISSUES, json=[issue(20, "2024-05-06T16:10:00Z")], match=[matchers.query_param_matcher(since)])
    events = [event(9100, 20, "labeled", "2024-05-06T16:10:00Z", label={"name": "bug"}),
              event(9099, 7, "closed", "2024-05-06T15:00:00Z")]
    http.get(EVENTS, json=events, headers=link(f"{API}/repositories/44/issues/events", page=2))

    github = connector(waits)
    pages = list(github.pages(datetime(2024, 5, 6, 15, 50, tzinfo=UTC)))

    activity = [e.external_id for t in pages[0].tickets for e in t.events]
    # 7701 and its status are older than `since`: it is left out, and no next page is asked.
    assert activity == ["rel6602", "d7702", "ds7702@20240506T160100Z:in_progress", "ds7702@20240506T160400Z:success"]
    assert [e.external_id for e in pages[1].tickets[0].events] == ["created", "e9100"]
    assert [page.bookmark for page in pages] == [datetime(2024, 5, 6, 15, 50, tzinfo=UTC),
                                                 datetime(2024, 5, 6, 16, 10, tzinfo=UTC)]
    # One GraphQL query for the deployments; no second page of them, of releases or of events; none for issues.
    assert github.requests == 5


def test_start_date_bounds_the_first_run(http: responses.RequestsMock, waits: Waits) -> None:
    add_repo(http)
    add_quiet_activity(http)
    http.get(ISSUES, json=[], match=[matchers.query_param_matcher({**FIRST_QUERY, "since": "2024-02-01T00:00:00Z"})])

    pages = list(connector(waits, start=date(2024, 2, 1)).pages(None))

    assert pages == []  # no issues: not even the events listing is asked
    assert len(http.calls) == 4


# -- paging -------------------------------------------------------------------------------------

def minutes(n: int) -> str:
    return f"2024-01-{10 + n // 1440:02d}T{n // 60 % 24:02d}:{n % 60:02d}:00Z"


@pytest.mark.parametrize("deployment_count", [pytest.param(0, id="no-deployments"), pytest.param(1, id="one"),
                                              pytest.param(100, id="one-full-page"), pytest.param(250, id="three-pages")])
def test_request_count_formula_for_a_repository(http: responses.RequestsMock, waits: Waits, deployment_count: int) -> None:
    """I issues (half pull requests, one comment each), 5 events per issue, D deployments with 2 statuses each.

    Every listing page holds 100; a GraphQL page of deployments holds 100 with all their
    statuses, so D deployments cost ceil(D / 100) queries (at least one) and no REST request.
    """
    count = 250
    issues = [issue(n, minutes(n), pull=n % 2 == 0, comments=1) for n in range(1, count + 1)]
    events = [event(n * 10 + k, n, "labeled", minutes(n), label={"name": f"l{k}"}) for n in range(1, count + 1) for k in range(5)]
    nodes = {**{f"I_node{n}": issue_node(n, comment_nodes(n)) for n in range(1, count + 1, 2)},
             **{f"PR_node{n}": pull_node(n, comments=comment_nodes(n), reviews=review_nodes(n * 7, n * 7 + 1))
                for n in range(2, count + 1, 2)}}
    deployments = [deployment_node(d, minutes(d), status_node("IN_PROGRESS", minutes(d)),
                                   status_node("SUCCESS", minutes(d + 1)))
                   for d in range(deployment_count, 0, -1)]  # newest first
    server = FakeRepository(issues, events, nodes, deployments=deployments)
    server.install(http)
    add_repo(http)
    http.get(f"{API}/repos/{REPO}/releases", json=[])

    github = connector(waits)
    pages = list(github.pages(None))

    tickets = [t for page in pages for t in page.tickets if "#" in t.ticket.key]
    assert sorted(int(t.ticket.key.split("#")[1]) for t in tickets) == list(range(1, count + 1))  # each once
    assert sum(len(t.events) for t in tickets) == count * (1 + 5 + 1) + (count // 2) * 2
    activity = [t for page in pages for t in page.tickets if "@" in t.ticket.key]
    assert sum(len(t.events) for t in activity) == 3 * deployment_count
    # Each issues request restarts one second before the last item it saw (keyset paging).
    assert [q.get("since") for q in server.issue_queries] == [None, "2024-01-10T01:39:59Z", "2024-01-10T03:18:59Z"]
    deployment_pages = max(1, math.ceil(deployment_count / 100))
    assert [q["after"] for q in server.deployment_queries] == [None, *(str(100 * k) for k in range(1, deployment_pages))]
    issue_pages = math.ceil((count - 1) / 99)
    expected = {
        "GET /repos/{owner}/{repo}": 1,
        "GET /repos/{owner}/{repo}/releases": 1,
        "GET /repos/{owner}/{repo}/issues": issue_pages,
        "GET /repos/{owner}/{repo}/issues/events": math.ceil(5 * count / 100),
        "POST /graphql": issue_pages + deployment_pages,
    }
    assert github.requests_by_endpoint == expected
    assert github.requests == 2 + 2 * issue_pages + math.ceil(5 * count / 100) + deployment_pages


def test_items_sharing_one_second_are_paged_by_link(http: responses.RequestsMock, waits: Waits) -> None:
    same = "2024-01-10T10:00:00Z"
    server = FakeRepository([issue(n, same) for n in (1, 2, 3)] + [issue(4, "2024-01-10T10:05:00Z")], [], {})
    server.install(http, issue_links=True, event_links=False, graphql=False)
    add_repo(http)
    add_quiet_activity(http)

    pages = list(connector(waits, per_page=2).pages(None))

    assert [[t.ticket.key.split("#")[1] for t in page.tickets] for page in pages] == [["1", "2"], ["3", "4"]]
    assert [(q.get("since"), q.get("page")) for q in server.issue_queries] == [
        (None, None), ("2024-01-10T09:59:59Z", None), ("2024-01-10T09:59:59Z", "2"),
    ]


@pytest.mark.parametrize("header, following", [
    pytest.param('<https://api.github.com/repositories/44/issues?page=2>; rel="next", '
                 '<https://api.github.com/repositories/44/issues?page=5>; rel="last"',
                 "https://api.github.com/repositories/44/issues?page=2", id="next-then-last"),
    pytest.param('<https://x.example/a?page=1>; rel="prev", <https://x.example/a?labels=bug,ui&page=3>; rel="next"',
                 "https://x.example/a?labels=bug,ui&page=3", id="comma-inside-url"),
    pytest.param('<https://x.example/a?page=1>; rel="first", <https://x.example/a?page=4>; rel="prev"', None, id="last-page"),
    pytest.param(None, None, id="no-header"),
])
def test_next_link(header: str | None, following: str | None) -> None:
    assert next_link(header) == following


def test_repeated_next_link_is_a_loop(http: responses.RequestsMock, waits: Waits) -> None:
    add_repo(http)
    add_quiet_activity(http)
    same = [issue(1, "2024-01-10T10:00:00Z"), issue(2, "2024-01-10T10:00:00Z")]
    again = link(f"{API}/repositories/44/issues", page=2)
    http.get(ISSUES, json=same, headers=again, match=[matchers.query_param_matcher({**FIRST_QUERY, "per_page": "2"})])
    http.get(ISSUES, json=same, headers=again,
             match=[matchers.query_param_matcher({**FIRST_QUERY, "per_page": "2", "since": "2024-01-10T09:59:59Z"})])
    http.get(EVENTS, json=[])
    http.get(f"{API}/repositories/44/issues", json=same, headers=again)

    with pytest.raises(RetriableError, match="page link .* twice"):
        list(connector(waits, per_page=2).pages(None))


# -- events -------------------------------------------------------------------------------------

def test_events_are_read_again_for_issues_updated_after_the_events_were_read(http: responses.RequestsMock, waits: Waits) -> None:
    add_repo(http)
    add_quiet_activity(http)
    query = {**FIRST_QUERY, "per_page": "2"}
    http.get(ISSUES, json=[issue(1, "2024-01-10T10:00:00Z"), issue(2, "2024-01-10T10:01:00Z")],
             headers=link(f"{API}/repositories/44/issues", page=2), match=[matchers.query_param_matcher(query)])
    http.get(ISSUES, json=[issue(2, "2024-01-10T10:01:00Z"), issue(3, "2024-01-10T11:58:00Z")],
             match=[matchers.query_param_matcher({**query, "since": "2024-01-10T10:00:59Z"})])
    first = [event(11, 1, "closed", "2024-01-10T10:00:00Z")]
    http.get(EVENTS, json=first, headers={"Date": "Wed, 10 Jan 2024 12:00:00 GMT", "ETag": '"events-1"'})
    later = [event(31, 3, "closed", "2024-01-10T11:58:00Z"), event(12, 2, "closed", "2024-01-10T10:01:00Z")] + first
    http.get(EVENTS, json=later, headers={"Date": "Wed, 10 Jan 2024 12:01:00 GMT"},
             match=[matchers.header_matcher({"If-None-Match": '"events-1"'})])

    pages = list(connector(waits, per_page=2).pages(None))

    by_key = {t.ticket.key: [e.external_id for e in t.events] for page in pages for t in page.tickets}
    assert by_key == {"acme/widgets#1": ["created", "e11"], "acme/widgets#2": ["created"],
                      "acme/widgets#3": ["created", "e31"]}
    # One read after the first page, one more for issue 3, updated within the overlap of that read;
    # the second read asked with the first's ETag.
    assert sum(1 for call in http.calls if call.request.url.startswith(EVENTS)) == 2


def test_an_unchanged_events_listing_answers_304_from_the_kept_etag(http: responses.RequestsMock, waits: Waits) -> None:
    add_repo(http)
    add_quiet_activity(http)
    http.get(ISSUES, json=[issue(1, "2024-01-10T10:00:00Z")])
    http.get(EVENTS, json=[event(11, 1, "closed", "2024-01-10T10:00:00Z")], headers={"ETag": '"events-1"'})
    first = connector(waits)
    list(first.pages(None))
    add_repo(http)
    add_quiet_activity(http)
    http.get(ISSUES, json=[issue(1, "2024-01-10T10:00:00Z")])
    http.get(EVENTS, status=304, body="", match=[matchers.header_matcher({"If-None-Match": '"events-1"'})])

    second = connector(waits, etags=first.etags)
    pages = list(second.pages(None))

    assert [e.external_id for e in pages[0].tickets[0].events] == ["created", "e11"]  # the kept body
    assert second.http.not_modified == 1


def test_events_older_than_github_pages_are_read_issue_by_issue(http: responses.RequestsMock, waits: Waits) -> None:
    add_repo(http)
    add_quiet_activity(http)
    http.get(ISSUES, json=[issue(1, "2024-03-01T10:00:00Z", created="2023-01-01T00:00:00Z"),
                           issue(2, "2024-03-02T10:00:00Z", created="2024-02-20T00:00:00Z")])
    http.get(EVENTS, json=[event(22, 2, "closed", "2024-03-02T10:00:00Z"), event(13, 1, "closed", "2024-02-15T00:00:00Z")],
             headers=link(f"{API}/repositories/44/issues/events", page=2))
    http.get(f"{API}/repositories/44/issues/events", status=422, json={
        "message": "In order to keep the API fast for everyone, pagination is limited for this resource.",
        "documentation_url": "https://docs.github.com/rest"})
    http.get(f"{ISSUES}/1/events", json=[event(12, 1, "labeled", "2023-01-02T00:00:00Z", label={"name": "bug"}),
                                         event(13, 1, "closed", "2024-02-15T00:00:00Z")])

    pages = list(connector(waits).pages(None))

    by_key = {t.ticket.key: [e.external_id for e in t.events] for t in pages[0].tickets}
    assert by_key == {"acme/widgets#1": ["created", "e12", "e13"], "acme/widgets#2": ["created", "e22"]}


# -- GraphQL ------------------------------------------------------------------------------------

def test_graphql_batches_and_follows_long_connections(http: responses.RequestsMock, waits: Waits) -> None:
    add_repo(http)
    add_quiet_activity(http)
    http.get(ISSUES, json=[issue(1, "2024-01-10T10:00:00Z", pull=True), issue(2, "2024-01-10T10:01:00Z", pull=True),
                           issue(3, "2024-01-10T10:02:00Z", comments=101)])
    http.get(EVENTS, json=[])
    def asks(variables: dict[str, Any]) -> list[Any]:
        return [matchers.json_params_matcher({"variables": variables}, strict_match=False)]

    http.post(GRAPHQL, match=asks({"ids": ["PR_node1", "PR_node2"]}), json={"data": {"nodes": [
        pull_node(1, branch="PAY-5-fix", reviews=review_nodes(1, more="r-cursor")), pull_node(2, reviews=review_nodes(1))]}})
    http.post(GRAPHQL, match=asks({"id": "PR_node1", "after": "r-cursor"}),
              json={"data": {"node": {"reviews": review_nodes(2, state="DISMISSED")}}})
    http.post(GRAPHQL, match=asks({"ids": ["I_node3"]}),
              json={"data": {"nodes": [issue_node(3, comment_nodes(100, more="c-cursor"))]}})
    http.post(GRAPHQL, match=asks({"id": "I_node3", "after": "c-cursor"}),
              json={"data": {"node": {"comments": comment_nodes(101)}}})

    pages = list(connector(waits, graphql_batch=2).pages(None))

    asked = [json.loads(call.request.body) for call in http.calls if call.request.url == GRAPHQL]
    asked = [a for a in asked if "owner" not in a["variables"]]  # not the deployments
    assert [a["variables"] for a in asked] == [
        {"ids": ["PR_node1", "PR_node2"]}, {"id": "PR_node1", "after": "r-cursor"},
        {"ids": ["I_node3"]}, {"id": "I_node3", "after": "c-cursor"},
    ]
    assert asked[0]["query"] == NODES_QUERY.replace("DATABASE_ID", "fullDatabaseId")
    events = {t.ticket.key: [(e.external_id, e.to_value) for e in t.events if e.kind != "created"] for t in pages[0].tickets}
    assert events == {
        "acme/widgets#1": [("r1", "APPROVED"), ("r2", "DISMISSED")],
        "acme/widgets#2": [("r1", "APPROVED")],
        "acme/widgets#3": [("c100", None), ("c101", None)],
    }
    assert pages[0].tickets[0].links == ("PAY-5",)


def test_pulls_api_objects_are_asked_for_their_reviews(http: responses.RequestsMock, waits: Waits) -> None:
    """A pull request read from the pulls API (an export, a webhook) has no `pull_request` key; it is one still."""
    http.post(GRAPHQL, match=asks(ids=["PR_kwDOAcme21"]),
              json={"data": {"nodes": [{**pull_node(21, reviews=review_nodes(5)), "id": "PR_kwDOAcme21"}]}})

    found = connector(waits).details.of([pull_object(21, "2024-03-02T10:00:00Z")], REPO)

    assert [review["id"] for review in found["PR_kwDOAcme21"].reviews] == ["5"]


def test_a_merge_the_events_listing_missed_is_credited_to_graphqls_merged_by(
    http: responses.RequestsMock, waits: Waits,
) -> None:
    add_repo(http)
    add_quiet_activity(http)
    merged = issue(1, "2024-01-10T10:00:00Z", pull=True)
    merged["pull_request"]["merged_at"] = "2024-01-10T09:00:00Z"
    http.get(ISSUES, json=[merged])
    http.get(EVENTS, json=[])  # the merged event is not (or no longer) in the repository's listing
    http.post(GRAPHQL, match=[asks_nodes], json={"data": {"nodes": [
        pull_node(1, reviews=review_nodes(9), merged_at="2024-01-10T09:00:00Z", merged_by="c-lind")]}})

    pages = list(connector(waits).pages(None))

    assert "mergedBy" in json.loads(http.calls[-1].request.body)["query"]
    ticket = pages[0].tickets[0]
    assert ticket.ticket.status == "merged"
    assert [(e.external_id, e.kind, e.actor) for e in ticket.events if e.kind == "merge"] == [
        ("merged", "merge", "github:c-lind")]


# Legacy global ids (base64 of "011:PullRequest1", "05:Issue2") and the newer format GitHub may answer with.
LEGACY = {"pull": "MDExOlB1bGxSZXF1ZXN0MQ==", "issue": "MDU6SXNzdWUy"}
NEXT = {"pull": "PR_kwDOAcmeWi5ZAAAB", "issue": "I_kwDOAcmeWi5ZAAAC"}


@pytest.mark.parametrize("asked, answered, numbered", [
    pytest.param(LEGACY, NEXT, True, id="legacy-asked-next-answered"),
    pytest.param(NEXT, LEGACY, True, id="next-asked-legacy-answered"),
    pytest.param(LEGACY, NEXT, False, id="by-position-alone"),
])
def test_graphql_answers_in_the_other_global_id_format_keep_their_comments_and_reviews(
    http: responses.RequestsMock, waits: Waits, asked: dict[str, str], answered: dict[str, str], numbered: bool,
) -> None:
    add_repo(http)
    add_quiet_activity(http)
    http.get(ISSUES, json=[{**issue(1, "2024-01-10T10:00:00Z", pull=True), "node_id": asked["pull"]},
                           {**issue(2, "2024-01-10T10:01:00Z", comments=1), "node_id": asked["issue"]}])
    http.get(EVENTS, json=[])
    nodes = [{**pull_node(1, reviews=review_nodes(9)), "id": answered["pull"]},
             {**issue_node(2, comment_nodes(7)), "id": answered["issue"]}]
    if numbered:
        nodes = [{**nodes[0], "number": 1}, {**nodes[1], "number": 2}]
    http.post(GRAPHQL, match=asks(ids=[asked["pull"], asked["issue"]]), json={"data": {"nodes": nodes}})

    pages = list(connector(waits).pages(None))

    events = {t.ticket.key: [e.external_id for e in t.events] for t in pages[0].tickets}
    assert events == {"acme/widgets#1": ["created", "r9"], "acme/widgets#2": ["created", "c7"]}


@pytest.mark.parametrize("nodes", [
    pytest.param([{**pull_node(9), "id": "PR_kwDOOther9", "number": 9}, None], id="a-number-not-asked"),
    pytest.param([{**pull_node(9), "id": "PR_kwDOOther9"}], id="unknown-id-and-no-order-to-go-by"),
    pytest.param([{**pull_node(1), "id": "PR_kwDOAcme1", "number": 1},
                  {**pull_node(1), "id": "PR_kwDOAcme1", "number": 1}], id="one-pull-request-answered-twice"),
])
def test_a_graphql_answer_matching_nothing_asked_is_fatal(
    http: responses.RequestsMock, waits: Waits, nodes: list[Any],
) -> None:
    add_repo(http)
    add_quiet_activity(http)
    http.get(ISSUES, json=[issue(1, "2024-01-10T10:00:00Z", pull=True), issue(2, "2024-01-10T10:01:00Z", pull=True)])
    http.get(EVENTS, json=[])
    http.post(GRAPHQL, match=[asks_nodes], json={"data": {"nodes": nodes}})

    with pytest.raises(FatalError, match=r"GitHub source 'acme-github': GraphQL answered for acme/widgets with node"):
        list(connector(waits).pages(None))


def test_enterprise_server_without_full_database_id_uses_database_id(http: responses.RequestsMock, waits: Waits) -> None:
    add_repo(http)
    add_quiet_activity(http)
    http.get(ISSUES, json=[issue(1, "2024-01-10T10:00:00Z", comments=1)])
    http.get(EVENTS, json=[])
    http.post(GRAPHQL, match=[asks_nodes], json={"errors": [{
        "path": ["query"], "extensions": {"code": "undefinedField"},
        "message": "Field 'fullDatabaseId' doesn't exist on type 'IssueComment'"}]})
    node = issue_node(1, {"pageInfo": {"hasNextPage": False},
                          "nodes": [{"databaseId": 42, "createdAt": "2024-01-10T10:00:00Z", "author": None}]})
    http.post(GRAPHQL, json={"data": {"nodes": [node]}}, match=[asks_nodes])

    pages = list(connector(waits).pages(None))

    queries = [json.loads(call.request.body)["query"] for call in http.calls if call.request.url == GRAPHQL]
    queries = [query for query in queries if query != DEPLOYMENTS_QUERY]
    assert "fullDatabaseId" in queries[0] and "fullDatabaseId" not in queries[1] and "databaseId" in queries[1]
    assert [e.external_id for e in pages[0].tickets[0].events] == ["created", "c42"]


def test_graphql_node_deleted_meanwhile_is_skipped_other_errors_are_fatal(http: responses.RequestsMock, waits: Waits) -> None:
    add_repo(http)
    add_quiet_activity(http)
    http.get(ISSUES, json=[issue(1, "2024-01-10T10:00:00Z", pull=True), issue(2, "2024-01-10T10:01:00Z", pull=True)])
    http.get(EVENTS, json=[])
    http.post(GRAPHQL, json={"data": {"nodes": [None, pull_node(2, reviews=review_nodes(5))]},
                             "errors": [{"type": "NOT_FOUND", "message": "Could not resolve to a node with the global id of 'PR_node1'"}]})

    pages = list(connector(waits).pages(None))
    assert [len(t.events) for t in pages[0].tickets] == [1, 2]

    add_repo(http)
    add_quiet_activity(http)
    http.get(ISSUES, json=[issue(1, "2024-01-10T10:00:00Z", pull=True)])
    http.get(EVENTS, json=[])
    http.post(GRAPHQL, json={"data": None, "errors": [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]})
    with pytest.raises(FatalError, match="GraphQL query failed: Resource not accessible by integration"):
        list(connector(waits).pages(None))


# -- repositories, organisations and bookmarks --------------------------------------------------

def test_organisation_repositories_and_a_bookmark_held_until_the_last_repository(
    http: responses.RequestsMock, waits: Waits,
) -> None:
    http.get(f"{API}/repos/ACME/Widgets", json=repository(REPO))  # GitHub's spelling wins
    http.get(f"{API}/orgs/acme/repos", json=load("org_repos.json"),
             match=[matchers.query_param_matcher({"per_page": "100", "type": "all"})])
    for name, updated in ((REPO, "2024-05-08T00:00:00Z"), ("acme/api", "2024-05-03T00:00:00Z")):
        add_quiet_activity(http, name)
        http.get(f"{API}/repos/{name}/issues", json=[issue(1, updated, repo=name)])
        http.get(f"{API}/repos/{name}/issues/events", json=[])

    bookmark = datetime(2024, 5, 1, tzinfo=UTC)
    pages = list(connector(waits, repos=["ACME/Widgets"], org="acme").pages(bookmark))

    assert [(page.repository, page.tickets[0].ticket.key, page.bookmark) for page in pages] == [
        # acme/widgets is done first; committing it must not let the next run skip acme/api.
        (REPO, "acme/widgets#1", bookmark),
        ("acme/api", "acme/api#1", datetime(2024, 5, 3, tzinfo=UTC)),
    ]


def test_missing_repository_is_fatal(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(f"{API}/repos/acme/gone", status=404, json={"message": "Not Found"})

    with pytest.raises(FatalError, match="repository acme/gone does not exist or the token in GITHUB_TOKEN cannot see it"):
        list(connector(waits, repos=["acme/gone"]).pages(None))


@pytest.mark.parametrize("answer, message", [
    pytest.param({"json": {"data": {"repository": {"deployments": None}}, "errors": [{
        "type": "FORBIDDEN", "path": ["repository", "deployments"],
        "message": "Resource not accessible by personal access token"}]}},
        "refused: Resource not accessible by personal access token", id="graphql-forbidden"),
    pytest.param({"json": {"data": {"repository": None}, "errors": [{
        "type": "NOT_FOUND", "path": ["repository"],
        "message": "Could not resolve to a Repository with the name 'acme/widgets'."}]}},
        "GraphQL found no deployments of acme/widgets", id="graphql-not-found"),
    pytest.param({"status": 403, "json": {"message": "Resource protected by organization SAML enforcement."}},
                 "refused (HTTP 403): Resource protected by organization SAML enforcement", id="http-403"),
])
def test_deployments_refused_skip_the_activity_not_the_issues(
    http: responses.RequestsMock, waits: Waits, answer: dict[str, Any], message: str,
) -> None:
    add_repo(http)
    http.post(GRAPHQL, match=asks_deployments(), **answer)
    http.get(ISSUES, json=[issue(1, "2024-01-10T10:00:00Z")])
    http.get(EVENTS, json=[])

    pages = list(connector(waits).pages(None))

    assert pages[0].tickets == [] and message in pages[0].skipped[0][1]
    assert pages[0].skipped[0][0] == "acme/widgets@deployments"
    assert [t.ticket.key for t in pages[1].tickets] == ["acme/widgets#1"]  # releases are not asked either


# -- deployments --------------------------------------------------------------------------------

def test_deployments_are_read_back_to_the_first_page_with_one_wholly_unchanged(
    http: responses.RequestsMock, waits: Waits,
) -> None:
    """Newest first, two a page: a status given later to an older deployment is seen while its page is read."""
    add_repo(http)
    pages_of = [
        # d5 is new; d4 is older than `since` but got a status after it: both changed, so read on.
        [deployment_node(5, "2024-05-06T16:00:00Z", status_node("SUCCESS", "2024-05-06T16:03:00Z")),
         deployment_node(4, "2024-05-01T10:00:00Z", status_node("SUCCESS", "2024-05-01T10:05:00Z"),
                         status_node("INACTIVE", "2024-05-06T16:03:00Z", "github-actions", "Bot"))],
        # d3 changed the same way; d2 has nothing since: this is the last page asked.
        [deployment_node(3, "2024-04-20T10:00:00Z", status_node("FAILURE", "2024-05-06T15:55:00Z", environment="staging"),
                         environment="staging", ref=None),
         deployment_node(2, "2024-04-10T10:00:00Z", status_node("SUCCESS", "2024-04-10T10:05:00Z"))],
    ]
    http.post(GRAPHQL, json=deployments_answer(*pages_of[0], more="c2"), match=asks_deployments(first=2, after=None))
    http.post(GRAPHQL, json=deployments_answer(*pages_of[1], more="c4"), match=asks_deployments(first=2, after="c2"))
    http.get(f"{API}/repos/{REPO}/releases", json=[])
    http.get(ISSUES, json=[])

    pages = list(connector(waits, per_page=2).pages(datetime(2024, 5, 6, 15, 50, tzinfo=UTC)))

    events = [(e.external_id, e.actor, e.field, e.from_value, e.to_value) for t in pages[0].tickets for e in t.events]
    assert sorted(events) == sorted([
        ("d3", "github:p-berg", "staging", None, "5e1f0c2a9b7d4e3f8a6c1b0d2e4f6a8c0b1d3e5f"),  # no ref: the commit
        ("ds3@20240506T155500Z:failure", "github:p-berg", "staging", "d3", "failure"),
        ("d4", "github:p-berg", "production", None, "v1.0.0"),
        ("ds4@20240501T100500Z:success", "github:p-berg", "production", "d4", "success"),
        ("ds4@20240506T160300Z:inactive", "github:github-actions[bot]", "production", "d4", "inactive"),
        ("d5", "github:p-berg", "production", None, "v1.0.0"),
        ("ds5@20240506T160300Z:success", "github:p-berg", "production", "d5", "success"),
    ])
    assert [json.loads(call.request.body)["query"] for call in http.calls if call.request.url == GRAPHQL] == [
        DEPLOYMENTS_QUERY, DEPLOYMENTS_QUERY]


def test_a_deployment_with_more_than_a_page_of_statuses_is_asked_for_the_rest(
    http: responses.RequestsMock, waits: Waits,
) -> None:
    add_repo(http)
    first = [status_node("IN_PROGRESS", f"2024-05-06T16:{m:02d}:00Z") for m in range(59, -1, -1)]
    http.post(GRAPHQL, match=asks_deployments(),
              json=deployments_answer(deployment_node(9, "2024-05-06T15:00:00Z", *first, more="s100")))
    http.post(GRAPHQL, match=asks(id="DE_node9", after="s100"), json={"data": {"node": {"statuses": {
        "pageInfo": {"hasNextPage": False, "endCursor": "s101"},
        "nodes": [status_node("QUEUED", "2024-05-06T15:00:30Z")]}}}})
    http.get(f"{API}/repos/{REPO}/releases", json=[])
    http.get(ISSUES, json=[])

    pages = list(connector(waits).pages(None))

    statuses = [e for e in pages[0].tickets[0].events if e.external_id.startswith("ds")]
    assert len(statuses) == 61 and statuses[0].to_value == "queued" and statuses[0].from_value == "d9"
    asked = [json.loads(call.request.body) for call in http.calls if call.request.url == GRAPHQL]
    assert asked[1]["query"] == MORE_STATUSES_QUERY


def test_a_repeated_deployments_cursor_is_a_loop(http: responses.RequestsMock, waits: Waits) -> None:
    add_repo(http)
    page = deployments_answer(deployment_node(7, "2024-05-06T15:00:00Z"), more="same")
    http.post(GRAPHQL, json=page, match=asks_deployments(after=None))
    http.post(GRAPHQL, json=page, match=asks_deployments(after="same"))

    with pytest.raises(RetriableError, match="deployments cursor same twice"):
        list(connector(waits).pages(None))


def test_malformed_issue_is_skipped_and_reported(http: responses.RequestsMock, waits: Waits) -> None:
    add_repo(http)
    add_quiet_activity(http)
    http.get(ISSUES, json=[{**issue(1, "2024-01-10T10:00:00Z"), "created_at": None}, issue(2, "2024-01-10T10:01:00Z")])
    http.get(EVENTS, json=[])

    pages = list(connector(waits).pages(None))

    assert [t.ticket.key for t in pages[0].tickets] == ["acme/widgets#2"]
    assert pages[0].skipped == [("acme/widgets#1", "created_at is None, not a time")]


@pytest.mark.parametrize("options, message", [
    pytest.param({"token": ""}, "has no token; set GITHUB_TOKEN", id="no-token"),
    pytest.param({"repos": ["widgets"]}, "repository 'widgets'; write repositories as 'owner/repo'", id="bad-repo-name"),
    pytest.param({"repos": [], "org": None}, "names no repositories and no organisation", id="nothing-to-read"),
    pytest.param({"per_page": 500}, "between 1 and 100", id="page-too-large"),
])
def test_bad_configuration_is_fatal(waits: Waits, options: dict[str, Any], message: str) -> None:
    with pytest.raises(FatalError, match=message):
        connector(waits, **options)

