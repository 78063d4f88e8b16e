"""Rate limits, transient failures and refused credentials, through the connector and the retry policy."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest
import responses
from requests import exceptions as http_errors

from connectors.errors import FatalError, RetriableError
from connectors.jira import JiraConnector
from connectors.retry import RetryPolicy, call_with_retries, parse_retry_after
from tests.connectors.jira_fakes import CLOUD, SERVER, TOKEN, Waits, cloud_page, connector, issue

API3 = f"{CLOUD}/rest/api/3"
COUNT = f"{API3}/search/approximate-count"
SEARCH = f"{API3}/search/jql"


def run(jira: JiraConnector) -> list[str]:
    return [t.ticket.key for page in jira.pages(None) for t in page.tickets]


def add_search(http: responses.RequestsMock) -> None:
    http.post(COUNT, json={"count": 1})
    http.get(SEARCH, json=cloud_page([issue(1)]))


@pytest.mark.parametrize("failure, sleeps, reason", [
    pytest.param(dict(status=429, headers={"Retry-After": "30"}), [30.0], "rate limited (HTTP 429)", id="429-retry-after"),
    pytest.param(dict(status=429, headers={"Retry-After": "600"}), [120.0], "rate limited (HTTP 429)", id="429-capped-at-120"),
    pytest.param(dict(status=429), [1.0], "rate limited (HTTP 429); retry 1 of 5", id="429-without-header-backs-off"),
    pytest.param(dict(status=503, headers={"Retry-After": "7"}), [7.0], "Jira unavailable (HTTP 503)", id="503-retry-after"),
    pytest.param(dict(status=503), [1.0], "Jira unavailable (HTTP 503); retry 1 of 5", id="503-without-header"),
    pytest.param(dict(status=500, json={"errorMessages": ["Internal server error"]}), [1.0], "server error (HTTP 500); retry 1 of 5", id="500"),
    pytest.param(dict(status=502, body="<html>Bad gateway</html>"), [1.0], "server error (HTTP 502); retry 1 of 5", id="502-html"),
    pytest.param(dict(body=http_errors.ReadTimeout("read timed out")), [1.0], "timed out; retry 1 of 5", id="timeout"),
    pytest.param(dict(body=http_errors.ConnectTimeout("connect timed out")), [1.0], "timed out; retry 1 of 5", id="connect-timeout"),
    pytest.param(dict(body=http_errors.ConnectionError("reset by peer")), [1.0], "connection failed; retry 1 of 5", id="connection-reset"),
])
def test_one_failure_is_waited_out_then_the_search_succeeds(
    http: responses.RequestsMock, waits: Waits, failure: dict, sleeps: list[float], reason: str,
) -> None:
    http.post(COUNT, json={"count": 1})
    http.get(SEARCH, **failure)
    http.get(SEARCH, json=cloud_page([issue(1)]))
    jira = connector(waits)

    assert run(jira) == ["ACME-1"]
    assert waits.sleeps == sleeps
    assert waits.announced == [(sleeps[0], reason)]
    assert jira.requests == 3
    assert jira.requests_by_endpoint["GET /rest/api/3/search/jql"] == 2


def test_persistent_server_error_gives_up_after_six_attempts(http: responses.RequestsMock, waits: Waits) -> None:
    http.post(COUNT, json={"count": 1})
    for _ in range(6):
        http.get(SEARCH, status=500)
    jira = connector(waits)

    with pytest.raises(RetriableError) as caught:
        run(jira)

    assert waits.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert jira.requests_by_endpoint["GET /rest/api/3/search/jql"] == 6
    assert str(caught.value) == (
        "Jira source 'acme-jira' GET /search/jql failed 6 times in a row; last: server error (HTTP 500)"
    )


def test_persistent_rate_limit_keeps_the_servers_wait_for_the_caller(http: responses.RequestsMock, waits: Waits) -> None:
    for _ in range(6):
        http.post(COUNT, status=429, headers={"Retry-After": "45"})

    with pytest.raises(RetriableError) as caught:
        run(connector(waits))

    assert waits.sleeps == [45.0] * 5
    assert caught.value.wait == 45.0


@pytest.mark.parametrize("deployment, status", [
    pytest.param("cloud", 401, id="cloud-401"),
    pytest.param("cloud", 403, id="cloud-403"),
    pytest.param("server", 401, id="server-401"),
])
def test_refused_credentials_are_fatal_and_name_source_and_variable(
    http: responses.RequestsMock, waits: Waits, caplog: pytest.LogCaptureFixture, deployment: str, status: int,
) -> None:
    url = COUNT if deployment == "cloud" else f"{SERVER}/rest/api/2/search"
    method = http.post if deployment == "cloud" else http.get
    method(url, status=status, json={"errorMessages": [f"Client must be authenticated; token {TOKEN} rejected"]},
           headers={"WWW-Authenticate": "Basic realm=protected"})
    caplog.set_level(logging.DEBUG)
    jira = connector(waits, deployment)

    with pytest.raises(FatalError) as caught:
        run(jira)

    assert str(caught.value) == (
        f"Jira source 'acme-jira' refused the credentials (HTTP {status}); check the token in JIRA_API_TOKEN."
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert TOKEN not in caplog.text
    assert waits.sleeps == [] and jira.requests == 1


def test_bad_jql_is_fatal_with_jiras_message(http: responses.RequestsMock, waits: Waits) -> None:
    http.post(COUNT, status=400, json={"errorMessages": ["Field 'projekt' does not exist or you do not have permission to view it."]})

    with pytest.raises(FatalError, match=r"POST /search/approximate-count was refused \(HTTP 400\): Field 'projekt' does not exist"):
        run(connector(waits))
    assert waits.sleeps == []


def test_wrong_url_answering_html_is_fatal(http: responses.RequestsMock, waits: Waits) -> None:
    http.post(COUNT, body="<html><body>Log in</body></html>", content_type="text/html")

    with pytest.raises(FatalError, match="answered with a body that is not JSON; check the url"):
        run(connector(waits))


def test_no_secret_in_logs_during_retries(http: responses.RequestsMock, waits: Waits, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    http.post(COUNT, status=503, headers={"Retry-After": "2"})
    add_search(http)

    assert run(connector(waits)) == ["ACME-1"]
    assert "Jira unavailable (HTTP 503), waiting 2 s" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("options, message", [
    pytest.param(dict(token=""), "Jira source 'acme-jira' has no token; set JIRA_API_TOKEN.", id="no-token"),
    pytest.param(dict(email=None), "Jira source 'acme-jira' is on Cloud and needs the account email", id="cloud-without-email"),
])
def test_configuration_errors_are_fatal_before_any_request(waits: Waits, options: dict, message: str) -> None:
    with pytest.raises(FatalError, match=message):
        connector(waits, **options)


def test_unknown_deployment_is_fatal(waits: Waits) -> None:
    with pytest.raises(FatalError, match="deployment 'datacenter'; use 'cloud' or 'server'"):
        connector(waits, "datacenter")


# -- The policy itself --------------------------------------------------------------------------

@pytest.mark.parametrize("header, seconds", [
    pytest.param("30", 30.0, id="seconds"),
    pytest.param("0", 0.0, id="zero"),
    pytest.param("1.5", 1.5, id="fraction"),
    pytest.param("-3", 0.0, id="negative"),
    pytest.param("Wed, 21 Oct 2015 07:28:30 GMT", 30.0, id="http-date"),
    pytest.param("Wed, 21 Oct 2015 07:27:00 GMT", 0.0, id="http-date-past"),
    pytest.param("soon", None, id="garbage"),
    pytest.param(None, None, id="absent"),
])
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=datetime(2015, 10, 21, 7, 28, tzinfo=timezone.utc)) == seconds


@pytest.mark.parametrize("failures, retry_after, delay", [
    pytest.param(1, None, 1.0, id="first"),
    pytest.param(4, None, 8.0, id="fourth"),
    pytest.param(9, None, 16.0, id="capped"),
    pytest.param(1, 300.0, 120.0, id="retry-after-capped"),
    pytest.param(3, 5.0, 5.0, id="retry-after-wins"),
])
def test_policy_delay(failures: int, retry_after: float | None, delay: float) -> None:
    assert RetryPolicy().delay(failures, retry_after) == delay


def test_other_errors_pass_through_without_retry() -> None:
    waits = Waits()
    calls = []

    def fails() -> None:
        calls.append(1)
        raise FatalError("stop")

    with pytest.raises(FatalError, match="stop"):
        call_with_retries(fails, what="x", policy=RetryPolicy(), sleep=waits.sleep)
    assert calls == [1] and waits.sleeps == []
