"""The fake Jira itself, over HTTP: JQL subset, documented shapes, paging, auth, deployments, faults, stats."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import pytest
import requests

from simulator.faults import FaultPlan, RateBudget
from simulator.jira_server import JiraServer
from tests.e2e.conftest import EMAIL, TOKEN

AUTH = (EMAIL, TOKEN)
FIELDS = "summary,status,project,updated,comment"


@pytest.fixture(scope="module")
def jira(issues: list[dict[str, Any]]) -> Iterator[JiraServer]:
    """One server for the tests that only read (and do not look at the counters)."""
    with JiraServer(issues=issues, email=EMAIL, token=TOKEN, embedded_comments=2) as server:
        yield server


def epoch(issue: dict[str, Any], field: str = "updated") -> float:
    return datetime.strptime(issue["fields"][field], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def at(text: str, zone: str = "UTC") -> float:
    layout = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return datetime.strptime(text.replace("/", "-"), layout).replace(tzinfo=ZoneInfo(zone)).timestamp()


def all_keys_v2(server: JiraServer, jql: str) -> list[str]:
    """Every key the v2 search returns for `jql`, following startAt paging."""
    keys: list[str] = []
    while True:
        page = requests.get(f"{server.url}/rest/api/2/search", auth=AUTH, timeout=10,
                            params={"jql": jql, "startAt": len(keys), "maxResults": 100, "fields": "updated"}).json()
        keys += [issue["key"] for issue in page["issues"]]
        if len(keys) >= page["total"] or not page["issues"]:
            return keys


def by_updated(issues: list[dict[str, Any]], keep) -> list[str]:  # type: ignore[no-untyped-def]
    return [i["key"] for i in sorted(issues, key=lambda i: (epoch(i), int(i["id"]))) if keep(i)]


MID = "2025-09-01 12:30"


@pytest.mark.parametrize(("jql", "expected"), [
    pytest.param(f'updated >= "{MID}" ORDER BY updated ASC', lambda i: epoch(i) >= at(MID), id="connector-form"),
    pytest.param(f"updated > {int(at(MID) * 1000)} order by updated asc", lambda i: epoch(i) > at(MID),
                 id="perceval-epoch-millis"),
    pytest.param(f'(project = PAY) AND updated >= "{MID[:10]}" ORDER BY updated ASC',
                 lambda i: i["key"].startswith("PAY-") and epoch(i) >= at(MID[:10]), id="project-and-date"),
    pytest.param(f'project in (shop, "Acme Payments") AND updated < "{MID.replace("-", "/")}" ORDER BY updated',
                 lambda i: epoch(i) < at(MID), id="in-by-key-and-name-slashed-date"),
    pytest.param(f'project != SHOP AND NOT created >= "{MID}" ORDER BY updated',
                 lambda i: i["key"].startswith("PAY-") and epoch(i, "created") < at(MID), id="not-equal-and-not"),
    pytest.param(f'updated <= "2025-03-01" OR updated > "{MID}" ORDER BY updated ASC',
                 lambda i: epoch(i) <= at("2025-03-01") or epoch(i) > at(MID), id="or"),
])
def test_jql_subset_selects_and_orders_like_jira(jira, issues, jql, expected):
    assert all_keys_v2(jira, jql) == by_updated(issues, expected)


def test_default_and_key_order(jira, issues):
    numbered = sorted(issues, key=lambda i: (i["key"].split("-")[0], int(i["key"].split("-")[1])))
    assert all_keys_v2(jira, "ORDER BY key ASC") == [i["key"] for i in numbered]
    assert all_keys_v2(jira, "") == [i["key"] for i in reversed(numbered)]  # the fake's default: key descending


def test_issues_are_named_by_key_or_id(jira, issues):
    # Jira's id, issue, issuekey and key are one field, taking either the key or the numeric id.
    first, second = issues[0], issues[1]
    jql = f"(project in (SHOP, PAY)) AND id in ({second['id']}, {first['key'].lower()}) ORDER BY updated ASC"
    assert all_keys_v2(jira, jql) == [first["key"], second["key"]]
    either = f"issue = {second['id']} OR issuekey = {first['id']} ORDER BY key ASC"
    assert all_keys_v2(jira, either) == sorted([first["key"], second["key"]])


@pytest.mark.parametrize(("jql", "message"), [
    pytest.param("assignee = x", "Field 'assignee' does not exist", id="unknown-field"),
    pytest.param('updated >= "yesterday"', "Date value 'yesterday' for field 'updated' is invalid", id="bad-date"),
    pytest.param("project = NOPE", "The value 'NOPE' does not exist for the field 'project'", id="unknown-project"),
    pytest.param("updated >=", "Expecting either a value, list or function", id="missing-value"),
    pytest.param("project > SHOP", "The operator '>' is not supported by the 'project' field", id="bad-operator"),
    pytest.param('(project = SHOP', "Expecting ')'", id="unclosed-parenthesis"),
    pytest.param("id in (10000, 99999)", "An issue with key '99999' does not exist for field 'id'", id="unknown-id"),
    pytest.param("key = SHOP-99999", "An issue with key 'SHOP-99999' does not exist for field 'key'",
                 id="unknown-key"),
    pytest.param("ORDER BY updated", "Unbounded JQL queries are not allowed", id="unbounded-on-cloud"),
])
def test_jql_outside_the_subset_is_a_400_in_jiras_shape(jira, jql, message):
    response = requests.get(f"{jira.url}/rest/api/3/search/jql", params={"jql": jql}, auth=AUTH, timeout=10)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"errorMessages", "errors"} and message in body["errorMessages"][0]


def test_account_time_zone_reads_jql_times(issues, fake_jira):
    server = fake_jira(time_zone="Pacific/Kiritimati")
    me = requests.get(f"{server.url}/rest/api/3/myself", auth=AUTH, timeout=10).json()
    assert me["timeZone"] == "Pacific/Kiritimati" and me["emailAddress"] == EMAIL
    assert all_keys_v2(server, f'updated >= "{MID}" ORDER BY updated') == \
        by_updated(issues, lambda i: epoch(i) >= at(MID, "Pacific/Kiritimati"))


def test_cloud_search_pages_with_tokens_and_cuts_embedded_lists(jira, issues):
    jql = 'updated >= "2024-01-01" ORDER BY updated ASC'
    params = {"jql": jql, "maxResults": 500, "fields": FIELDS, "expand": "changelog"}
    seen: list[dict[str, Any]] = []
    tokens = []
    while True:
        page = requests.get(f"{jira.url}/rest/api/3/search/jql", params=params, auth=AUTH, timeout=10).json()
        assert len(page["issues"]) <= 100 and "total" not in page
        seen += page["issues"]
        if page["isLast"]:
            assert "nextPageToken" not in page
            break
        tokens.append(page["nextPageToken"])
        params = {**params, "nextPageToken": page["nextPageToken"]}
    assert [i["key"] for i in seen] == by_updated(issues, lambda i: True)
    assert len(set(tokens)) == len(tokens) == 1
    source = {i["key"]: i for i in issues}
    for issue in seen:
        full = source[issue["key"]]
        histories, comments = full["changelog"]["histories"], full["fields"]["comment"]["comments"]
        assert set(issue["fields"]) == set(FIELDS.split(","))
        assert issue["changelog"]["total"] == len(histories)
        assert len(issue["changelog"]["histories"]) == issue["changelog"]["maxResults"] == min(len(histories), 40)
        assert issue["fields"]["comment"]["total"] == len(comments)
        assert [c["id"] for c in issue["fields"]["comment"]["comments"]] == [c["id"] for c in comments[:2]]
        assert issue["self"] == f"{jira.url}/rest/api/3/issue/{issue['id']}"


def test_search_jql_returns_only_ids_without_fields(jira):
    page = requests.get(f"{jira.url}/rest/api/3/search/jql", params={"jql": "project = SHOP"}, auth=AUTH,
                        timeout=10).json()
    assert page["issues"] and all("fields" not in i and "changelog" not in i for i in page["issues"])


def test_a_page_token_from_another_query_is_refused(jira):
    first = requests.get(f"{jira.url}/rest/api/3/search/jql", params={"jql": "project = SHOP", "maxResults": 5},
                         auth=AUTH, timeout=10).json()
    response = requests.get(f"{jira.url}/rest/api/3/search/jql", auth=AUTH, timeout=10,
                            params={"jql": "project = PAY", "nextPageToken": first["nextPageToken"]})
    assert response.status_code == 400 and "token" in response.json()["errorMessages"][0]


def test_bulk_changelog_pages_through_every_history(jira, issues):
    long = [i for i in issues if len(i["changelog"]["histories"]) > 40][:3]
    body: dict[str, Any] = {"issueIdsOrKeys": [long[0]["key"]] + [i["id"] for i in long[1:]], "maxResults": 50}
    got: dict[str, list[str]] = {}
    pages = 0
    while True:
        page = requests.post(f"{jira.url}/rest/api/3/changelog/bulkfetch", json=body, auth=AUTH, timeout=10).json()
        pages += 1
        for log in page["issueChangeLogs"]:
            got.setdefault(log["issueId"], []).extend(h["id"] for h in log["changeHistories"])
        if not page.get("nextPageToken"):
            break
        body = {**body, "nextPageToken": page["nextPageToken"]}
    assert got == {i["id"]: [h["id"] for h in i["changelog"]["histories"]] for i in long}
    assert pages == -(-sum(len(i["changelog"]["histories"]) for i in long) // 50)


def test_comment_and_changelog_endpoints_page_with_start_at(jira, issues):
    issue = max(issues, key=lambda i: len(i["changelog"]["histories"]))
    histories = [h["id"] for h in issue["changelog"]["histories"]]
    url = f"{jira.url}/rest/api/3/issue/{issue['key']}/changelog"
    page = requests.get(url, params={"startAt": 100, "maxResults": 500}, auth=AUTH, timeout=10).json()
    assert (page["startAt"], page["maxResults"], page["total"], page["isLast"]) == (100, 100, len(histories),
                                                                                    len(histories) <= 200)
    assert [h["id"] for h in page["values"]] == histories[100:200]

    talky = max(issues, key=lambda i: len(i["fields"]["comment"]["comments"]))
    comments = talky["fields"]["comment"]["comments"]
    page = requests.get(f"{jira.url}/rest/api/2/issue/{talky['id']}/comment", params={"startAt": 1, "maxResults": 2},
                        auth=AUTH, timeout=10).json()
    assert (page["startAt"], page["maxResults"], page["total"]) == (1, 2, len(comments))
    assert [c["id"] for c in page["comments"]] == [c["id"] for c in comments[1:3]]
    assert all(isinstance(c["body"], str) for c in page["comments"])  # v2 answers plain text, not ADF


def test_get_issue_embeds_the_whole_changelog(jira, issues):
    issue = max(issues, key=lambda i: len(i["changelog"]["histories"]))
    got = requests.get(f"{jira.url}/rest/api/2/issue/{issue['key']}", params={"expand": "changelog"}, auth=AUTH,
                       timeout=10).json()
    assert len(got["changelog"]["histories"]) == got["changelog"]["total"] == len(issue["changelog"]["histories"])
    assert isinstance(got["fields"]["description"], str) and got["self"].startswith(f"{jira.url}/rest/api/2/")
    missing = requests.get(f"{jira.url}/rest/api/3/issue/NOPE-1", auth=AUTH, timeout=10)
    assert missing.status_code == 404 and missing.json()["errorMessages"]


@pytest.mark.parametrize(("headers", "auth", "status"), [
    pytest.param({}, AUTH, 200, id="basic-email-token"),
    pytest.param({"Authorization": f"Bearer {TOKEN}"}, None, 200, id="bearer-token"),
    pytest.param({}, (EMAIL, "wrong"), 401, id="basic-wrong-token"),
    pytest.param({"Authorization": "Bearer wrong"}, None, 401, id="bearer-wrong-token"),
    pytest.param({"Authorization": "Basic !!notbase64"}, None, 401, id="basic-garbage"),
    pytest.param({}, None, 401, id="no-credentials"),
])
def test_credentials(jira, headers, auth, status):
    response = requests.get(f"{jira.url}/rest/api/3/myself", headers=headers, auth=auth, timeout=10)
    assert response.status_code == status
    if status == 401:
        assert response.json()["errorMessages"] and "WWW-Authenticate" in response.headers
    assert requests.get(f"{jira.url}/rest/api/2/serverInfo", timeout=10).status_code == 200  # anonymous, as in Jira


@pytest.mark.parametrize(("deployment", "path", "status"), [
    pytest.param("server", "/rest/api/3/search/jql", 404, id="server-has-no-enhanced-search"),
    pytest.param("server", "/rest/api/3/issue/SHOP-1/changelog", 404, id="server-has-no-paged-changelog"),
    pytest.param("cloud", "/rest/api/2/search", 410, id="cloud-removed-v2-search"),
    pytest.param("any", "/rest/api/2/search", 200, id="any-serves-both"),
    pytest.param("any", "/rest/api/9/nothing", 404, id="unknown-route"),
])
def test_deployments_answer_like_their_jira(fake_jira, deployment, path, status):
    server = fake_jira(deployment=deployment)
    response = requests.get(server.url + path, params={"jql": "project = SHOP"}, auth=AUTH, timeout=10)
    assert response.status_code == status
    assert "errorMessages" in response.json() or status == 200


def statuses(server: JiraServer, n: int) -> list[int]:
    return [requests.get(f"{server.url}/rest/api/3/myself", auth=AUTH, timeout=10).status_code for _ in range(n)]


def test_fault_rate_is_seeded_and_listed_numbers_win(fake_jira):
    plan = FaultPlan(rate=0.3, kinds=("429", "500", "502", "503"), seed=11, at={1: "503"})
    first, second = fake_jira(faults=plan), fake_jira(faults=plan)
    seen = statuses(first, 40)
    assert seen == statuses(second, 40)
    assert seen[0] == 503 and 5 <= sum(code != 200 for code in seen) <= 20
    assert set(seen) <= {200, 429, 500, 502, 503}
    first.reset_stats()  # numbering starts again: request 1 is the listed 503
    response = requests.get(f"{first.url}/rest/api/3/myself", auth=AUTH, timeout=10)
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json()["errorMessages"]


def test_a_truncated_body_is_cut_mid_way(fake_jira):
    server = fake_jira(faults=FaultPlan(at={1: "truncate"}))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(f"{server.url}/rest/api/3/myself", auth=AUTH, timeout=10)
    assert requests.get(f"{server.url}/rest/api/3/myself", auth=AUTH, timeout=10).status_code == 200
    assert server.stats["faults"] == {"truncate": 1}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_budget_runs_out_and_resets(fake_jira):
    clock = Clock()
    server = fake_jira(rate_limit=RateBudget(3, 60, clock=clock))
    assert statuses(server, 3) == [200, 200, 200]
    refused = requests.get(f"{server.url}/rest/api/3/myself", auth=AUTH, timeout=10)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    clock.now += 45
    assert requests.get(f"{server.url}/rest/api/3/myself", auth=AUTH, timeout=10).headers["Retry-After"] == "15"
    clock.now += 15
    assert statuses(server, 1) == [200]
    assert server.stats["rate_limited"] == 2


def test_stats_count_api_requests_by_route_template_only(fake_jira, issues):
    server = fake_jira()
    for issue in issues[:3]:
        requests.get(f"{server.url}/rest/api/3/issue/{issue['id']}/comment", auth=AUTH, timeout=10)
    requests.get(f"{server.url}/rest/api/3/myself", auth=("x", "y"), timeout=10)
    stats = requests.get(f"{server.url}/_stats", timeout=10).json()
    assert stats == server.stats
    assert stats["by_endpoint"] == {"GET /rest/api/3/issue/{id}/comment": 3, "GET /rest/api/3/myself": 1}
    assert stats["by_status"] == {"200": 3, "401": 1} and stats["requests"] == 4
    assert requests.post(f"{server.url}/_stats/reset", timeout=10).json()["requests"] == 0
    assert server.stats["requests"] == 0


def test_touch_over_http_moves_issues_to_the_end(fake_jira, issues):
    server = fake_jira()
    touched = requests.post(f"{server.url}/_touch", json={"keys": ["SHOP-3", "PAY-2"]}, timeout=10).json()["touched"]
    assert touched == ["SHOP-3", "PAY-2"]
    keys = all_keys_v2(server, 'updated >= "2024-01-01" ORDER BY updated ASC')
    assert keys[-2:] == ["SHOP-3", "PAY-2"] and len(keys) == len(issues)
    got = requests.get(f"{server.url}/rest/api/3/issue/SHOP-3", params={"expand": "changelog"}, auth=AUTH,
                       timeout=10).json()
    source = next(i for i in issues if i["key"] == "SHOP-3")
    assert got["changelog"]["total"] == len(source["changelog"]["histories"]) + 1
    assert got["fields"]["labels"][-1] == "touched-1"
    assert got["changelog"]["histories"][-1]["created"] == got["fields"]["updated"]
    newest = max(epoch(i) for i in issues)
    assert datetime.strptime(got["fields"]["updated"], "%Y-%m-%dT%H:%M:%S.%f%z") > \
        datetime.fromtimestamp(newest, timezone.utc)
    assert requests.post(f"{server.url}/_touch", json={"keys": ["NOPE-1"]}, timeout=10).status_code == 404
