"""GitHub rate limits, errors and Enterprise Server: what the connector waits for, and what it gives up on."""
from __future__ import annotations

from typing import Any

import pytest
import responses
from requests.exceptions import ChunkedEncodingError, ConnectTimeout

from connectors.errors import FatalError
from connectors.github_http import Refused, api_base_url
from tests.connectors.github_fakes import (
    API, GRAPHQL, NOW, REPO, TOKEN, Waits, add_quiet_activity, asks_deployments, asks_nodes, connector,
    deployments_answer, event, issue, pull_node, repository, review_nodes,
)

REPO_URL = f"{API}/repos/{REPO}"
REPO_ENDPOINT = "GET /repos/{owner}/{repo}"


def quota(remaining: int, reset: float, resource: str = "core") -> dict[str, str]:
    return {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": str(remaining), "X-RateLimit-Reset": str(int(reset)),
            "X-RateLimit-Used": str(5000 - remaining), "X-RateLimit-Resource": resource}


def get_repo_twice(waits: Waits, **options: Any) -> Any:
    github = connector(waits, **options)
    for _ in range(2):
        github.http.get(REPO_ENDPOINT, f"/repos/{REPO}")
    return github


# -- primary rate limit -------------------------------------------------------------------------

def test_few_requests_left_waits_until_the_reset(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(REPO_URL, json=repository(), headers=quota(3, NOW + 120))
    http.post(GRAPHQL, json=deployments_answer(), headers=quota(4999, NOW + 3600, "graphql"), match=asks_deployments())
    http.get(f"{REPO_URL}/releases", json=[], headers=quota(4999, NOW + 3600))
    http.get(f"{REPO_URL}/issues", json=[])

    list(connector(waits).pages(None))

    # Once, before the next REST request (GraphQL has a quota of its own), and not again after the reset.
    assert [call.request.method for call in http.calls] == ["GET", "POST", "GET", "GET"]
    assert waits.sleeps == [120.0]
    assert waits.announced == [(120.0, "GitHub core rate limit: 3 requests left until 12:02:00 UTC")]


def test_few_graphql_points_left_wait_before_the_next_query_only(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(REPO_URL, json=repository(), headers=quota(4000, NOW + 3600))
    http.post(GRAPHQL, json=deployments_answer(), headers=quota(2, NOW + 300, "graphql"), match=asks_deployments())
    http.get(f"{REPO_URL}/releases", json=[], headers=quota(3999, NOW + 3600))
    http.get(f"{REPO_URL}/issues", json=[issue(1, "2024-01-10T10:00:00Z", pull=True)], headers=quota(3998, NOW + 3600))
    http.get(f"{REPO_URL}/issues/events", json=[], headers=quota(3997, NOW + 3600))
    http.post(GRAPHQL, json={"data": {"nodes": [pull_node(1, reviews=review_nodes(9))]}}, match=[asks_nodes])

    pages = list(connector(waits).pages(None))

    assert [e.external_id for e in pages[0].tickets[0].events] == ["created", "r9"]
    # The REST requests after the deployments query went on; the next GraphQL query waited for its reset.
    assert waits.sleeps == [300.0]
    assert waits.announced == [(300.0, "GitHub graphql rate limit: 2 requests left until 12:05:00 UTC")]


@pytest.mark.parametrize("headers", [
    pytest.param(quota(10, NOW + 120), id="at-the-threshold"),
    pytest.param(quota(0, NOW - 5), id="reset-already-passed"),
    pytest.param(quota(0, (NOW + 120) * 1000), id="reset-in-milliseconds-is-implausible"),
    pytest.param({}, id="enterprise-without-rate-limit-headers"),
])
def test_no_wait_when_the_quota_says_nothing_to_wait_for(http: responses.RequestsMock, waits: Waits, headers: dict) -> None:
    http.get(REPO_URL, json=repository(), headers=headers)

    get_repo_twice(waits)

    assert waits.sleeps == [] and waits.announced == []


def test_exhausted_quota_answer_waits_until_the_reset(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(REPO_URL, status=403, headers=quota(0, NOW + 600),
             json={"message": "API rate limit exceeded for user ID 1.", "documentation_url": "https://docs.github.com/rest"})
    http.get(REPO_URL, json=repository())

    github = connector(waits)
    assert github.http.get(REPO_ENDPOINT, f"/repos/{REPO}").data["full_name"] == REPO

    assert waits.sleeps == [600.0]
    assert waits.announced[0][1] == "rate limit exhausted (HTTP 403)"
    assert github.requests == 2


# -- secondary rate limit and other retries -----------------------------------------------------

@pytest.mark.parametrize("status, headers, message, wait", [
    pytest.param(403, {"Retry-After": "30"}, "You have exceeded a secondary rate limit.", 30.0, id="403-retry-after"),
    pytest.param(429, {"Retry-After": "45"}, "", 45.0, id="429-retry-after"),
    pytest.param(403, {}, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                 60.0, id="403-secondary-message-waits-a-minute"),
    pytest.param(429, {}, "", 60.0, id="429-without-headers-waits-a-minute"),
])
def test_secondary_rate_limit_waits_as_asked(
    http: responses.RequestsMock, waits: Waits, status: int, headers: dict, message: str, wait: float,
) -> None:
    http.get(REPO_URL, status=status, headers=headers, json={"message": message})
    http.get(REPO_URL, json=repository())

    connector(waits).http.get(REPO_ENDPOINT, f"/repos/{REPO}")

    assert waits.sleeps == [wait]
    assert waits.announced[0][1].startswith("secondary rate limit")


@pytest.mark.parametrize("first", [
    pytest.param({"status": 502, "body": "<html>Bad gateway</html>"}, id="server-error-html"),
    pytest.param({"status": 500, "json": {"message": "Server Error"}}, id="server-error-json"),
    pytest.param({"body": ConnectTimeout("slow")}, id="timeout"),
    pytest.param({"body": ChunkedEncodingError("connection broken: IncompleteRead")}, id="body-cut-off"),
    pytest.param({"body": '[{"number": 1, "title": "cut'}, id="json-cut-off"),
])
def test_transient_failures_are_retried_with_backoff(http: responses.RequestsMock, waits: Waits, first: dict) -> None:
    http.get(REPO_URL, **first)
    http.get(REPO_URL, json=repository())

    github = connector(waits)
    github.http.get(REPO_ENDPOINT, f"/repos/{REPO}")

    assert waits.sleeps == [1.0]
    assert github.requests_by_endpoint == {REPO_ENDPOINT: 2}


CURRENT_LIMIT = {"errors": [{"type": "RATE_LIMIT", "code": "graphql_rate_limit",
                             "message": "API rate limit exceeded for user ID 1."}]}
OLDER_LIMIT = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]}


@pytest.mark.parametrize("answer, headers, wait, reason", [
    pytest.param(CURRENT_LIMIT, quota(0, NOW + 300, "graphql"), 300.0,
                 "GraphQL rate limit exhausted (API rate limit exceeded for user ID 1.), resets at 12:05:00 UTC",
                 id="current-shape-waits-for-the-reset"),
    pytest.param({"errors": [{"code": "graphql_rate_limit", "message": "API rate limit exceeded for user ID 1."}]},
                 quota(0, NOW + 90, "graphql"), 90.0,
                 "GraphQL rate limit exhausted (API rate limit exceeded for user ID 1.), resets at 12:01:30 UTC",
                 id="code-alone-says-it"),
    pytest.param(OLDER_LIMIT, {"Retry-After": "40"}, 40.0,
                 "GraphQL rate limit exhausted (API rate limit exceeded for user ID 1.), asked to wait 40 s",
                 id="older-shape-honours-retry-after"),
    pytest.param(CURRENT_LIMIT, {}, 60.0,
                 "GraphQL rate limit exhausted (API rate limit exceeded for user ID 1.), no usable reset time",
                 id="no-headers-waits-a-minute"),
    pytest.param(CURRENT_LIMIT, quota(0, (NOW + 300) * 1000, "graphql"), 60.0,
                 "GraphQL rate limit exhausted (API rate limit exceeded for user ID 1.), no usable reset time",
                 id="implausible-reset-waits-a-minute"),
])
def test_graphql_rate_limit_in_either_shape_is_waited_out_and_retried(
    http: responses.RequestsMock, waits: Waits, caplog: pytest.LogCaptureFixture, answer: dict, headers: dict,
    wait: float, reason: str,
) -> None:
    """GraphQL answers an exhausted quota with HTTP 200 and an error: RATE_LIMIT (code graphql_rate_limit)
    today, RATE_LIMITED in older answers. Either is a wait, never a failed sync."""
    http.get(REPO_URL, json=repository())
    http.post(GRAPHQL, headers=headers, json=answer, match=asks_deployments())
    http.post(GRAPHQL, json=deployments_answer(), match=asks_deployments())
    http.get(f"{REPO_URL}/releases", json=[])
    http.get(f"{REPO_URL}/issues", json=[])

    with caplog.at_level("INFO", logger="connectors.retry"):
        pages = list(connector(waits).pages(None))

    assert pages == []
    assert waits.sleeps == [wait]
    assert waits.announced == [(wait, reason)]
    assert f"{reason}, waiting {wait:.0f} s" in caplog.text


def test_graphql_rate_limited_answer_waits_until_the_reset(http: responses.RequestsMock, waits: Waits) -> None:
    graphql = f"{API}/graphql"
    limited = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW + 300)), "X-RateLimit-Resource": "graphql"}
    http.post(graphql, headers=limited, json={"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]})
    http.post(graphql, json={"data": {"nodes": []}})

    answer = connector(waits).http.graphql("query { viewer { login } }", {})

    assert answer == {"data": {"nodes": []}}
    assert waits.sleeps == [300.0]


# -- errors that stop the run -------------------------------------------------------------------

def test_bad_token_is_fatal_names_the_variable_and_is_not_retried(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(REPO_URL, status=401, json={"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})

    with pytest.raises(FatalError) as caught:
        list(connector(waits).pages(None))

    assert str(caught.value) == "GitHub source 'acme-github' refused the token (HTTP 401); check the token in GITHUB_TOKEN."
    assert len(http.calls) == 1 and waits.sleeps == []


def test_forbidden_without_rate_limit_is_refused(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(REPO_URL, status=403, headers=quota(4000, NOW + 60),
             json={"message": "Resource protected by organization SAML enforcement."})

    with pytest.raises(Refused, match="refused \\(HTTP 403\\): Resource protected by organization SAML enforcement"):
        connector(waits).http.get(REPO_ENDPOINT, f"/repos/{REPO}")
    assert waits.sleeps == []


def test_server_messages_never_carry_the_token(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(REPO_URL, status=422, json={"message": f"Validation failed for {TOKEN}"})

    with pytest.raises(FatalError) as caught:
        connector(waits).http.get(REPO_ENDPOINT, f"/repos/{REPO}")

    assert TOKEN not in str(caught.value) and "Validation failed for ***" in str(caught.value)


def test_a_web_page_instead_of_the_api_is_fatal(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(REPO_URL, body="<!DOCTYPE html><title>Sign in</title>", content_type="text/html")

    with pytest.raises(FatalError, match="not JSON .*check base_url"):
        connector(waits).http.get(REPO_ENDPOINT, f"/repos/{REPO}")


def test_pygithub_neither_retries_nor_paces_on_its_own(waits: Waits) -> None:
    options = connector(waits).http._requester.kwargs

    assert (options["retry"], options["seconds_between_requests"], options["seconds_between_writes"]) == (None, None, None)


# -- GitHub Enterprise Server -------------------------------------------------------------------

@pytest.mark.parametrize("configured, root", [
    pytest.param(None, "https://api.github.com", id="default"),
    pytest.param("https://github.com/", "https://api.github.com", id="github-web-address"),
    pytest.param("https://ghe.acme.example", "https://ghe.acme.example/api/v3", id="enterprise-host-only"),
    pytest.param("https://ghe.acme.example/api/v3/", "https://ghe.acme.example/api/v3", id="enterprise-api-root"),
])
def test_api_base_url(configured: str | None, root: str) -> None:
    assert api_base_url(configured) == root


def test_enterprise_server_paths_and_no_rate_limit_headers(http: responses.RequestsMock, waits: Waits) -> None:
    ghe = "https://ghe.acme.example:443/api/v3"
    http.get(f"{ghe}/repos/{REPO}", json=repository())
    add_quiet_activity(http, base=ghe)
    http.get(f"{ghe}/repos/{REPO}/issues", json=[issue(1, "2024-01-10T10:00:00Z", pull=True)])
    http.get(f"{ghe}/repos/{REPO}/issues/events", json=[event(5, 1, "merged", "2024-01-10T10:00:00Z")])
    http.post("https://ghe.acme.example:443/api/graphql", json={"data": {"nodes": [pull_node(1, reviews=review_nodes(9))]}},
              match=[asks_nodes])

    github = connector(waits, base_url="https://ghe.acme.example/api/v3", min_remaining=5000)
    pages = list(github.pages(None))

    assert [e.external_id for e in pages[0].tickets[0].events] == ["created", "r9", "merged"]
    assert waits.sleeps == []  # no headers: never a reason to wait, however high the threshold
    assert github.requests == 6
