"""The fake GitHub over HTTP, and Partnerscope's GitHub connector run against it end to end.

Each test starts its own server on 127.0.0.1 (port 0) over a fresh 150-ticket scenario (touches
change the data). Waits go through a fake clock shared by the server's rate budgets and the
connector, so nothing sleeps for real.
"""
from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

from connectors.errors import FatalError
from connectors.github import GitHubConnector, GitHubPage
from connectors.github_graphql import DEPLOYMENTS_QUERY
from connectors.github_parse import EVENT_TYPES
from service.config import parse_config
from simulator.__main__ import build_parser
from simulator.faults import FaultPlan, RateBudget
from simulator.github_people import LOGINS, PERSON_OF_LOGIN, github_scenario_config
from simulator.github_scenario import GitHubScenario, fingerprint, generate
from simulator.github_server import GitHubServer
from simulator.people import PARTNER_ORG

TICKETS = 150
START = date(2024, 1, 1)  # the scenario ends well before today, as a real history does
TOKEN = "ghp_fake0123456789abcdefFAKE"
TOKEN_ENV = "ACME_GITHUB_TOKEN"
REPOS = ["acme/webshop", "acme/payments"]
NOW = datetime.now(timezone.utc).timestamp()


def scenario() -> GitHubScenario:
    return generate(TICKETS, start=START)


class Clock:
    """A fake clock: `sleep` moves it on; the server's budgets and the connector both read it."""

    def __init__(self) -> None:
        self.now, self.sleeps = NOW, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake_github(clock: Clock) -> Iterator[Callable[..., GitHubServer]]:
    """Start a fake GitHub over a fresh scenario with the given knobs; all are stopped after the test."""
    started: list[GitHubServer] = []

    def start(**knobs: Any) -> GitHubServer:
        knobs.setdefault("data", scenario())
        server = GitHubServer(token=TOKEN, clock=clock, **knobs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def connect(server: GitHubServer, clock: Clock, **options: Any) -> GitHubConnector:
    return GitHubConnector("acme-github", repos=REPOS, token=options.pop("token", TOKEN), token_env=TOKEN_ENV,
                           base_url=server.url, sleep=clock.sleep, clock=clock, **options)


def content(pages: list[GitHubPage]) -> dict[str, list[tuple[str, str, str | None, str]]]:
    """Every ticket's events as comparable tuples, by key (a ticket seen twice keeps its last copy)."""
    return {t.ticket.key: sorted((e.external_id, e.kind, e.actor, e.at.isoformat()) for e in t.events)
            for page in pages for t in page.tickets}


def api(server: GitHubServer, path: str, token: str | None = TOKEN, **params: Any) -> requests.Response:
    headers = {"Authorization": f"token {token}"} if token else {}
    return requests.get(f"{server.url}{path}", params=params, headers=headers, timeout=10)


def expected_requests(data: GitHubScenario) -> dict[str, int]:
    """The connector's documented cost of a first run, per endpoint, from the scenario's sizes.

    Per repository: the repository; one GraphQL query per 100 deployments (at least one), each
    with all its statuses; releases; issues in keyset pages (100 items, then 99 fresh ones a
    page: ceil((I - 1) / 99)); the repository's issue events in pages of 100; one GraphQL query
    per issues page that holds a pull request or a commented issue.
    """
    cost: Counter[str] = Counter()
    for repo in data.repos:
        tickets = sorted(repo.tickets, key=lambda t: t["updated"])
        restarts = math.ceil((len(tickets) - 1) / 99) - 1
        pages = [tickets[:100]] + [tickets[100 + 99 * k:199 + 99 * k] for k in range(restarts)]
        events = sum(len(t["events"]) for t in tickets)
        cost.update({
            "GET /repos/{owner}/{repo}": 1,
            "GET /repos/{owner}/{repo}/releases": max(1, math.ceil(len(repo.releases) / 100)),
            "GET /repos/{owner}/{repo}/issues": len(pages),
            "GET /repos/{owner}/{repo}/issues/events": max(1, math.ceil(events / 100)),
            "POST /graphql": max(1, math.ceil(len(repo.deployments) / 100))
            + sum(any(t["pull"] or t["comments"] for t in page) for page in pages),
        })
    return dict(cost)


# -- the scenario ------------------------------------------------------------------------------

def test_scenario_is_deterministic_and_has_the_promised_shape() -> None:
    data = scenario()
    assert fingerprint(data) == fingerprint(scenario())
    assert fingerprint(data) != fingerprint(generate(TICKETS, start=START, seed=8))
    tickets = [t for repo in data.repos for t in repo.tickets]
    pulls = [t for t in tickets if t["pull"]]
    assert len(tickets) == TICKETS and 0.35 < len(pulls) / TICKETS < 0.65
    assert 2.5 <= sum(len(t["comments"]) for t in tickets) / TICKETS <= 3.5
    assert 4.0 <= sum(len(t["events"]) for t in tickets) / TICKETS <= 6.0
    assert 1.6 <= sum(len(t["reviews"]) for t in pulls) / len(pulls) <= 2.2
    assert {r["state"] for t in pulls for r in t["reviews"]} == {"APPROVED", "CHANGES_REQUESTED", "COMMENTED"}
    labels = {e["label"] for t in tickets for e in t["events"] if e["event"] == "labeled"}
    assert {"bug", "enhancement", "feature", "qa-passed", "verified", "accepted"} <= labels
    closing = [e for t in tickets for e in t["events"] if e["event"] == "closed" and e.get("commit_id")]
    assert closing and all(e["state_reason"] == "completed" for e in closing)
    assert any(t["body"] and t["body"].lower().startswith(("fixes #", "closes #", "resolves #")) for t in pulls)
    assert all(t["merged_by"] for t in pulls if t["merged"])
    assert all(r.deployments and r.releases for r in data.repos)
    assert all(d["statuses"] for r in data.repos for d in r.deployments)
    updated = sorted(t["updated"] for t in data.repos[0].tickets)
    assert all(b - a >= 2 for a, b in zip(updated, updated[1:]))  # keyset paging counts stay exact


def test_testing_and_deploying_shift_from_the_client_to_the_partner() -> None:
    data = generate(600, start=START)
    middle = (data.start + data.end) / 2

    def partner_share(acts: list[tuple[int, str]], early: bool) -> float:
        chosen = [login for t, login in acts if (t < middle) == early and login in PERSON_OF_LOGIN]
        return sum(PERSON_OF_LOGIN[login].org == PARTNER_ORG for login in chosen) / len(chosen)

    tested = [(e["t"], e["actor"]) for r in data.repos for t in r.tickets for e in t["events"]
              if e["event"] == "labeled" and e["label"] == "qa-passed"]
    deployed = [(d["t"], d["creator"]) for r in data.repos for d in r.deployments]
    for acts in (tested, deployed):
        assert partner_share(acts, early=True) + 0.3 < partner_share(acts, early=False)


def test_config_lists_every_acting_login_once() -> None:
    config = github_scenario_config()
    parsed = parse_config(config, Path("github-demo.toml"))
    assert parsed.github_orgs == {"Acme": ("acme",), "Nordlys": ("nordlys",)}
    listed = [ref for org in config["organisations"] for ref in org["accounts"]]
    enrolled = {e["account"] for e in config["enrollments"]}
    assert len(listed) == len(set(listed)) and not enrolled & set(listed)
    assert {"github:astrid-acme", "github:henrik-nordlys"} <= set(listed)
    assert enrolled == {f"github:{LOGINS['ingrid']}"}
    merged = {p["name"]: p["accounts"] for p in config["people"]}
    assert merged["Henrik Aas"][1] == "github:henrik-nordlys" and merged["Henrik Aas"][0].startswith("jira:")
    data = scenario()
    actors = {e["actor"] for r in data.repos for t in r.tickets for e in t["events"]} - {None}
    people_logins = {login for login in actors if login in PERSON_OF_LOGIN and PERSON_OF_LOGIN[login].org}
    assert {f"github:{login}" for login in people_logins} <= set(listed)


# -- the connector end to end ------------------------------------------------------------------

def test_connector_gets_every_ticket_complete_at_the_documented_cost(fake_github, clock) -> None:
    data = scenario()
    github = fake_github(data=data)
    connector = connect(github, clock)

    pages = list(connector.pages(None))

    got = content(pages)
    keys = [t.ticket.key for page in pages for t in page.tickets]
    acts = sum(len(repo.deployments) + sum(not r["draft"] for r in repo.releases) for repo in data.repos)
    assert len(keys) == len(set(keys)) == TICKETS + acts  # a pseudo-ticket per deployment and release
    for repo in data.repos:
        name = repo.repo.full_name
        for ticket in repo.tickets:
            events = got[f"{name}#{ticket['number']}"]
            kinds = Counter(kind for _, kind, _, _ in events)
            assert kinds["comment"] == len(ticket["comments"])
            assert kinds["review"] == len(ticket["reviews"])
            assert len(events) == 1 + len(ticket["comments"]) + len(ticket["reviews"]) + sum(
                e["event"] in EVENT_TYPES for e in ticket["events"])
        activity = Counter(kind for key, events in got.items() if key.startswith(f"{name}@")
                           for _, kind, _, _ in events)
        assert activity["deploy"] == sum(1 + len(d["statuses"]) for d in repo.deployments)
        assert activity["release"] == sum(not r["draft"] for r in repo.releases)
    assert connector.requests == github.stats["requests"]
    assert connector.requests_by_endpoint == github.stats["by_endpoint"] == expected_requests(data)
    assert clock.sleeps == []
    assert connector.http.base_url == f"{github.url}/api/v3"  # a bare host is an Enterprise Server
    assert connector.http.graphql_url == f"{github.url}/api/graphql"


def test_incremental_run_fetches_only_touched_and_overlapping_tickets(fake_github, clock) -> None:
    github = fake_github()
    connector = connect(github, clock)
    first = list(connector.pages(None))
    bookmark = first[-1].bookmark
    assert bookmark is not None
    touched = github.touch(["acme/webshop#3", "acme/payments#7", "acme/webshop#40"])
    overlap = bookmark.timestamp() - connector.overlap.total_seconds()
    assert github.store is not None
    recent = {f"{i.data.repo.full_name}#{t['number']}" for i in github.store.repos.values() for t in i.data.tickets
              if t["updated"] >= overlap}
    github.reset_stats()
    sent = connector.requests

    again = list(connector.pages(bookmark))

    got = content(again)
    assert set(got) == recent | set(touched) and set(touched) <= recent  # nothing older, no activity ticket
    before = content(first)
    for key in touched:
        # Older events are already stored: the repository's events are read back to the bookmark only.
        added = set(got[key]) - set(before[key])
        assert sorted(kind for _, kind, _, _ in added) == ["comment", "label"]
    assert again[-1].bookmark is not None and again[-1].bookmark > bookmark
    assert connector.requests - sent == github.stats["requests"]
    # Each repository and its releases are unchanged and asked with their ETags; the deployments
    # cost one GraphQL query a repository (no ETag there), as the 304 they replace cost one request.
    assert github.stats["by_status"]["304"] == 2 * len(REPOS)
    assert github.stats["by_endpoint"]["POST /graphql"] == len(REPOS) + sum(
        any(key.startswith(f"{name}#") for key in got) for name in REPOS)  # deployments; touched tickets' comments


def test_incremental_run_sees_new_statuses_of_deployments_on_the_page_it_reads(fake_github, clock) -> None:
    github = fake_github()
    connector = connect(github, clock, per_page=10)
    bookmark = list(connector.pages(None))[-1].bookmark
    assert github.store is not None and bookmark is not None
    newest_first = sorted(github.store.repo("acme", "webshop").data.deployments, key=lambda d: -d["t"])
    assert len(newest_first) > 10
    # GitHub marks the deployment a newer success replaces inactive, long after it was made.
    seen = github.store.add_status("acme/webshop", newest_first[1]["id"], "inactive", "github-actions[bot]")
    # The documented limit: a status for a deployment beyond the first page with nothing new is not read.
    github.store.add_status("acme/webshop", newest_first[-1]["id"], "inactive", "github-actions[bot]")
    rest = api(github, f"/repos/acme/webshop/deployments/{newest_first[1]['id']}/statuses").json()
    assert (rest[0]["id"], rest[0]["state"]) == (seen["id"], "inactive")  # REST sees it too, newest first
    github.reset_stats()

    again = list(connector.pages(bookmark))

    activity = [t for page in again for t in page.tickets if "@" in t.ticket.key]
    assert [t.ticket.key for t in activity] == [f"acme/webshop@d{newest_first[1]['id']}"]
    events = {e.external_id: e for e in activity[0].events}
    deployment = f"d{newest_first[1]['id']}"
    late = [e for e in events.values() if e.to_value == "inactive"]
    assert [(e.from_value, e.actor, e.at.timestamp()) for e in late] == [
        (deployment, "github:github-actions[bot]", seen["t"])]
    # That deployment comes again whole (the stored copies are unchanged); nothing else does.
    assert {e.from_value or e.external_id for e in events.values()} == {deployment}
    assert len(events) == 1 + len(newest_first[1]["statuses"])
    assert github.stats["by_endpoint"]["POST /graphql"] == len(REPOS) + sum(
        any(t.ticket.key.startswith(f"{name}#") for page in again for t in page.tickets) for name in REPOS)


@pytest.mark.parametrize("min_remaining, refused", [
    pytest.param(0, True, id="runs-dry-gets-rate-limited-and-waits-for-the-reset"),
    pytest.param(10, False, id="waits-before-running-dry"),
])
def test_graphql_rate_limit_is_waited_out_without_losing_data(fake_github, clock, min_remaining, refused) -> None:
    plain = content(list(connect(fake_github(), clock).pages(None)))
    github = fake_github()
    assert github.budgets is not None
    # A first run asks 4 GraphQL queries (each repository's deployments and its issues' details).
    github.budgets["graphql"] = RateBudget(2, 3600, clock=clock)
    connector = connect(github, clock, min_remaining=min_remaining)

    assert content(list(connector.pages(None))) == plain
    assert clock.sleeps and all(0 < s <= 3601 for s in clock.sleeps)
    assert (github.stats["rate_limited"] > 0) is refused  # GraphQL says RATE_LIMITED in a 200 answer
    assert set(github.stats["by_status"]) == {"200"}
    assert github.stats["by_endpoint"]["POST /graphql"] == 4 + github.stats["rate_limited"]
    assert connector.requests == github.stats["requests"]


@pytest.mark.parametrize("min_remaining, refused", [
    pytest.param(0, True, id="runs-dry-gets-403-and-waits-for-the-reset"),
    pytest.param(10, False, id="waits-before-running-dry"),
])
def test_primary_rate_limit_is_waited_out_without_losing_data(fake_github, clock, min_remaining, refused) -> None:
    plain = content(list(connect(fake_github(), clock).pages(None)))
    github = fake_github(rate_limit=(5, 3600))  # a first run asks 14 REST requests
    connector = connect(github, clock, min_remaining=min_remaining)

    assert content(list(connector.pages(None))) == plain
    assert len(clock.sleeps) >= 2 and all(0 < s <= 3601 for s in clock.sleeps)
    assert (github.stats["by_status"].get("403", 0) > 0) is refused
    assert (github.stats["rate_limited"] > 0) is refused
    assert connector.requests == github.stats["requests"]


def test_secondary_limit_and_injected_faults_are_retried(fake_github, clock) -> None:
    plain = content(list(connect(fake_github(), clock).pages(None)))
    github = fake_github(secondary_limit=(6, 60), faults=FaultPlan(at={3: "429", 9: "503", 12: "500"}))
    connector = connect(github, clock)

    assert content(list(connector.pages(None))) == plain
    assert 1 in clock.sleeps and any(s > 30 for s in clock.sleeps)  # Retry-After of the faults; the window's end
    assert github.stats["faults"] == {"429": 1, "500": 1, "503": 1}
    assert github.stats["by_status"]["403"] == github.stats["rate_limited"] > 0
    assert connector.requests == github.stats["requests"]


@pytest.mark.parametrize("knobs", [
    pytest.param({"events_page_limit": 2}, id="events-listing-refuses-deep-pages"),
    pytest.param({"full_database_id": False}, id="graphql-without-fullDatabaseId"),
    pytest.param({"enterprise_no_rate_limit": True}, id="enterprise-without-rate-limits"),
])
def test_server_variants_give_the_connector_the_same_data(fake_github, clock, knobs) -> None:
    plain = content(list(connect(fake_github(), clock).pages(None)))
    github = fake_github(**knobs)
    connector = connect(github, clock)

    assert content(list(connector.pages(None))) == plain
    by_endpoint = github.stats["by_endpoint"]
    if "events_page_limit" in knobs:
        assert github.stats["by_status"]["422"] == len(REPOS)
        assert by_endpoint["GET /repos/{owner}/{repo}/issues/{number}/events"] > 0
    if "full_database_id" in knobs:
        assert by_endpoint["POST /graphql"] == expected_requests(scenario())["POST /graphql"] + 1


def test_wrong_token_is_a_fatal_error_that_does_not_quote_it(fake_github, clock) -> None:
    github = fake_github()
    wrong = "ghp_wrong0000000000000000000"

    with pytest.raises(FatalError, match="401") as raised:
        list(connect(github, clock, token=wrong).pages(None))
    assert wrong not in str(raised.value) and TOKEN_ENV in str(raised.value)


# -- REST over HTTP ----------------------------------------------------------------------------

@pytest.mark.parametrize("header, status, message", [
    pytest.param(None, 401, "Requires authentication", id="no-token"),
    pytest.param("token nope", 401, "Bad credentials", id="wrong-token"),
    pytest.param("Basic dXNlcjpwYXNz", 401, "Bad credentials", id="basic-auth"),
    pytest.param(f"token {TOKEN}", 200, None, id="token-scheme"),
    pytest.param(f"Bearer {TOKEN}", 200, None, id="bearer-scheme"),
])
def test_authentication(fake_github, header, status, message) -> None:
    github = fake_github()
    reply = requests.get(f"{github.url}/repos/acme/webshop", headers={"Authorization": header} if header else {},
                         timeout=10)
    assert reply.status_code == status
    if message:
        assert reply.json()["message"] == message and "documentation_url" in reply.json()
        assert "X-RateLimit-Remaining" not in reply.headers
    else:
        assert reply.json()["full_name"] == "acme/webshop"


@pytest.mark.parametrize("prefix", [pytest.param("", id="github.com"), pytest.param("/api/v3", id="enterprise")])
def test_listing_pages_by_link_headers_in_documented_shapes(fake_github, prefix) -> None:
    github = fake_github()
    repo_id = api(github, "/repos/acme/webshop").json()["id"]
    url: str | None = f"{github.url}{prefix}/repos/acme/webshop/issues?state=all&sort=updated&direction=asc&per_page=30"
    numbers, links = [], []
    while url:
        reply = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        numbers += [item["number"] for item in reply.json()]
        links.append(reply.headers.get("Link", ""))
        url = reply.links.get("next", {}).get("url")
    assert github.store is not None
    tickets = github.store.repo("acme", "webshop").data.tickets
    assert numbers == [t["number"] for t in sorted(tickets, key=lambda t: t["updated"])]
    assert f"{github.url}{prefix}/repositories/{repo_id}/issues?" in links[0] and 'rel="last"' in links[0]
    assert 'rel="next"' not in links[-1] and 'rel="first"' in links[-1]
    repeated = requests.get(f"{github.url}{prefix}/repos/acme/webshop/issues?state=all&per_page=30",
                            params={"state": "all", "per_page": 30}, headers={"Authorization": f"token {TOKEN}"},
                            timeout=10)  # Perceval sends its parameters again with each Link URL
    assert repeated.links["next"]["url"].count("state=") == 1 and repeated.links["next"]["url"].endswith("page=2")
    item = next(i for i in api(github, f"{prefix}/repos/acme/webshop/issues", state="all", per_page=100).json()
                if "pull_request" in i)
    assert {"user", "assignees", "labels", "state_reason", "closed_at", "node_id", "html_url"} <= set(item)
    assert item["pull_request"]["url"] == f"{github.url}/api/v3/repos/acme/webshop/pulls/{item['number']}"


def test_documented_shapes_of_events_comments_pulls_and_deployments(fake_github) -> None:
    github = fake_github()
    events = api(github, "/repos/acme/webshop/issues/events", per_page=100).json()
    assert all({"id", "event", "actor", "created_at", "issue", "commit_id"} <= set(e) for e in events)
    assert [e["created_at"] for e in events] == sorted((e["created_at"] for e in events), reverse=True)
    assigned = next(e for e in events if e["event"] == "assigned")
    assert {"assignee", "assigner"} <= set(assigned)
    labeled = next(e for e in events if e["event"] == "labeled")
    assert set(labeled["label"]) == {"name", "color"}
    comments = api(github, "/repos/acme/webshop/issues/comments", per_page=5).json()
    assert all(c["issue_url"].startswith(f"{github.url}/api/v3/repos/acme/webshop/issues/") for c in comments)
    since = "2025-03-01T00:00:00Z"
    recent = api(github, "/repos/acme/webshop/issues/comments", since=since, sort="updated", direction="asc",
                 per_page=100).json()
    times = [c["updated_at"] for c in recent]
    assert recent and times == sorted(times) and min(times) >= since
    pull = api(github, "/repos/acme/webshop/pulls", state="closed", per_page=1).json()[0]
    whole = api(github, f"/repos/acme/webshop/pulls/{pull['number']}").json()
    assert {"head", "base", "merged", "merged_by", "commits", "review_comments"} <= set(whole)
    assert whole["head"]["ref"] and whole["base"]["ref"] == "main"
    reviews = api(github, f"/repos/acme/webshop/pulls/{pull['number']}/reviews").json()
    assert all(r["state"] in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED") and r["submitted_at"] for r in reviews)
    deployment = api(github, "/repos/acme/webshop/deployments", per_page=1).json()[0]
    statuses = api(github, f"/repos/acme/webshop/deployments/{deployment['id']}/statuses").json()
    assert {"environment", "creator", "ref", "sha"} <= set(deployment) and statuses[0]["state"] in (
        "success", "failure")
    assert api(github, "/repos/acme/webshop/pulls/1234").status_code == 404


def test_etag_answers_304_free_of_charge_until_the_data_changes(fake_github) -> None:
    github = fake_github(rate_limit=(100, 3600))
    path = "/repos/acme/webshop/issues/events"
    first = api(github, path)
    etag = first.headers["ETag"]
    remaining = int(first.headers["X-RateLimit-Remaining"])
    again = requests.get(f"{github.url}{path}", headers={"Authorization": f"token {TOKEN}", "If-None-Match": etag},
                         timeout=10)
    assert again.status_code == 304 and again.content == b""
    assert int(again.headers["X-RateLimit-Remaining"]) == remaining
    github.touch(["acme/webshop#2"])
    changed = requests.get(f"{github.url}{path}", headers={"Authorization": f"token {TOKEN}", "If-None-Match": etag},
                           timeout=10)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert int(changed.headers["X-RateLimit-Remaining"]) == remaining - 1


def test_primary_budget_runs_out_with_403_and_resets(fake_github, clock) -> None:
    github = fake_github(rate_limit=(3, 60))
    answers = [api(github, "/repos/acme/webshop") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 403]
    assert "API rate limit exceeded" in answers[3].json()["message"]
    assert answers[3].headers["X-RateLimit-Remaining"] == "0" and "Retry-After" not in answers[3].headers
    reset = int(answers[3].headers["X-RateLimit-Reset"])
    assert reset == math.ceil(NOW + 60)
    graphql = requests.post(f"{github.url}/graphql", json={"query": "{ rateLimit { cost } }"},
                            headers={"Authorization": f"bearer {TOKEN}"}, timeout=10).json()
    assert graphql == {"data": {"rateLimit": {"cost": 1}}}  # a budget of its own
    limits = api(github, "/rate_limit").json()  # asking costs nothing
    assert limits["resources"]["core"]["remaining"] == 0 and limits["resources"]["graphql"]["used"] == 1
    clock.sleep(reset - clock())
    assert api(github, "/repos/acme/webshop").headers["X-RateLimit-Remaining"] == "2"


def test_graphql_nodes_unknown_ids_and_unknown_fields(fake_github) -> None:
    github = fake_github()
    assert github.store is not None
    pull = next(t for i in github.store.repos.values() for t in i.data.tickets if t["pull"] and t["reviews"])
    query = ("query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on PullRequest { id merged reviews(first: 1) "
             "{ totalCount pageInfo { hasNextPage endCursor } nodes { state author { login } } } } } }")
    answer = requests.post(f"{github.url}/api/graphql", headers={"Authorization": f"bearer {TOKEN}"}, timeout=10,
                           json={"query": query, "variables": {"ids": [pull["node_id"], "X"]}}).json()
    node = answer["data"]["nodes"][0]
    assert node["reviews"]["totalCount"] == len(pull["reviews"])
    assert node["reviews"]["pageInfo"]["hasNextPage"] is (len(pull["reviews"]) > 1)
    assert answer["data"]["nodes"][1] is None and answer["errors"][0]["type"] == "NOT_FOUND"
    wrong = requests.post(f"{github.url}/graphql", json={"query": "{ viewer { login } }"},
                          headers={"Authorization": f"bearer {TOKEN}"}, timeout=10).json()
    assert "data" not in wrong and "viewer" in wrong["errors"][0]["message"]


def graphql(github: GitHubServer, query: str, **variables: Any) -> dict[str, Any]:
    return requests.post(f"{github.url}/api/graphql", headers={"Authorization": f"bearer {TOKEN}"}, timeout=10,
                         json={"query": query, "variables": variables}).json()


def test_graphql_deployments_page_newest_first_with_their_statuses(fake_github) -> None:
    github = fake_github(rate_limit=(100, 3600))
    assert github.store is not None
    deployments = github.store.repo("acme", "payments").data.deployments
    newest_first = sorted(deployments, key=lambda d: -d["t"])
    pages, after = [], None
    while True:
        answer = graphql(github, DEPLOYMENTS_QUERY, owner="acme", name="payments", first=30, after=after)
        connection = answer["data"]["repository"]["deployments"]
        pages.append(connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    nodes = [node for page in pages for node in page]
    assert [len(page) for page in pages] == [30, 14] and len(deployments) == 44
    assert [node["databaseId"] for node in nodes] == [d["id"] for d in newest_first]
    first, record = nodes[0], newest_first[0]
    assert (first["environment"], first["ref"], first["commitOid"]) == (
        record["environment"], {"name": record["ref"]}, record["sha"])
    statuses = first["statuses"]["nodes"]
    assert [(s["state"], s["environment"]) for s in statuses] == [
        (s["state"].upper(), record["environment"]) for s in reversed(record["statuses"])]
    assert {s["creator"]["__typename"] for n in nodes for s in n["statuses"]["nodes"]} == {"User", "Bot"}
    # Each query costs one from the GraphQL budget, as the other queries do.
    assert api(github, "/rate_limit").json()["resources"]["graphql"]["used"] == len(pages)

    oldest = graphql(github, "query { repository(owner: \"acme\", name: \"payments\") { "
                             "deployments(first: 1) { totalCount nodes { databaseId } } } }")
    assert oldest["data"]["repository"]["deployments"] == {"totalCount": 44,
                                                           "nodes": [{"databaseId": newest_first[-1]["id"]}]}
    more = graphql(github, "query($id: ID!) { node(id: $id) { ... on Deployment { statuses(first: 1, after: null) "
                           "{ pageInfo { hasNextPage } nodes { state } } } } }", id=first["id"])
    assert more["data"]["node"]["statuses"]["pageInfo"]["hasNextPage"] is (len(record["statuses"]) > 1)


_PAYMENTS = "repository(owner: \"acme\", name: \"payments\")"


@pytest.mark.parametrize("query, error, data", [
    pytest.param("{ repository(owner: \"acme\", name: \"gone\") { deployments(first: 1) { totalCount } } }",
                 "Could not resolve to a Repository with the name 'acme/gone'.", {"repository": None},
                 id="unknown-repository-is-null-and-not-found"),
    pytest.param("{ " + _PAYMENTS + " { deployments(first: 1) { nodes { statuses(first: 1) { nodes { databaseId } } } } } }",
                 "Field 'databaseId' doesn't exist on type 'DeploymentStatus'", None, id="statuses-have-no-database-id"),
    pytest.param("{ " + _PAYMENTS + " { deployments(first: 101) { totalCount } } }",
                 "exceeds the `first` limit of 100 records", None, id="first-over-100"),
    pytest.param("{ " + _PAYMENTS + " { deployments(first: 1, orderBy: {field: UPDATED_AT, direction: DESC}) "
                 "{ totalCount } } }", "Argument 'orderBy' on Field 'deployments' has an invalid value", None,
                 id="no-such-order"),
])
def test_graphql_deployments_refuse_what_github_refuses(fake_github, query: str, error: str, data: Any) -> None:
    answer = graphql(fake_github(), query)

    assert error in answer["errors"][0]["message"]
    assert answer.get("data") == data  # a refused query has no data at all


def test_users_organisations_and_perceval_endpoints(fake_github) -> None:
    github = fake_github()
    henrik = api(github, "/users/henrik-nordlys").json()
    assert (henrik["name"], henrik["type"]) == ("Henrik Aas", "User")
    assert [o["login"] for o in api(github, "/users/henrik-nordlys/orgs").json()] == ["nordlys"]
    assert "astrid-acme" in [m["login"] for m in api(github, "/orgs/acme/members").json()]
    assert [r["full_name"] for r in api(github, "/orgs/acme/repos").json()] == REPOS
    assert api(github, "/users/nobody-here").status_code == 404
    assert github.store is not None
    commented = next(t for t in github.store.repo("acme", "webshop").data.tickets if t["comments"])
    number = commented["number"]
    assert len(api(github, f"/repos/acme/webshop/issues/{number}/comments").json()) == len(commented["comments"])
    timeline = api(github, f"/repos/acme/webshop/issues/{number}/timeline", per_page=100).json()
    assert Counter(e["event"] for e in timeline)["commented"] == len(commented["comments"])
    open_pull = next(t for t in github.store.repo("acme", "webshop").data.tickets if t["pull"] and t["requested"])
    requested = api(github, f"/repos/acme/webshop/pulls/{open_pull['number']}/requested_reviewers").json()
    assert [u["login"] for u in requested["users"]] == open_pull["requested"] and requested["teams"] == []


def test_control_endpoints_are_free_and_touch_moves_tickets_to_the_end(fake_github) -> None:
    github = fake_github()
    api(github, "/repos/acme/webshop")
    assert requests.get(f"{github.url}/_stats", timeout=10).json()["by_endpoint"] == {"GET /repos/{owner}/{repo}": 1}
    assert len(requests.post(f"{github.url}/_touch", json={"count": 2}, timeout=10).json()["touched"]) == 2
    touched = requests.post(f"{github.url}/_touch", json={"keys": ["acme/webshop#5"]}, timeout=10).json()["touched"]
    newest = api(github, "/repos/acme/webshop/issues", state="all", sort="updated", direction="desc", per_page=1)
    assert touched == ["acme/webshop#5"] and newest.json()[0]["number"] == 5
    assert newest.json()[0]["labels"][-1]["name"] == "touched-2"
    assert requests.post(f"{github.url}/_touch", json={"keys": ["acme/webshop#9999"]}, timeout=10).status_code == 404
    assert requests.post(f"{github.url}/_stats/reset", timeout=10).json()["requests"] == 0
    assert github.stats["requests"] == 0


def test_command_line_flags() -> None:
    args = build_parser().parse_args(["github", "--port", "0", "--tickets", "40", "--latency-ms", "10",
                                      "--rate-limit", "100/60", "--secondary-limit", "5/1", "--fault-rate", "0.1"])
    assert (args.tracker, args.tickets, args.latency_ms, args.rate_limit, args.secondary_limit) == (
        "github", 40, 10.0, (100, 60.0), (5, 1.0))
    assert args.enterprise_no_rate_limit is False and args.token == "fake-github-token"
