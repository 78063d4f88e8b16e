"""Talking to Jira: one request through the `jira` library's authenticated session, with our
retry policy, orjson decoding, every request counted, and errors translated to the connector tree.

The library's own retries are off (`max_retries=0`), so `connectors.retry` is the only policy,
and its high-level search helpers are bypassed: they first probe `/field` (and, on Cloud, need
a serverInfo call), which would cost requests on every run.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable
from urllib.parse import urlsplit

import orjson
from jira.exceptions import JIRAError
from jira.resilientsession import raise_on_error
from requests import exceptions as http_errors
from requests.adapters import HTTPAdapter

from connectors.errors import FatalError, RetriableError
from connectors.jira_complete import NotFound
from connectors.retry import RetryPolicy, Sleep, OnWait, call_with_retries, parse_retry_after

_ISSUE_IN_PATH = re.compile(r"/issue/[^/]+")


def _endpoint(method: str, url: str) -> str:
    path = urlsplit(url).path
    path = path[path.find("/rest/"):] if "/rest/" in path else path
    return f"{method} {_ISSUE_IN_PATH.sub('/issue/{id}', path)}"


class Refused(FatalError):
    """HTTP 400: Jira refused the request as written (a JQL naming an issue deleted since, say)."""


class CountingAdapter(HTTPAdapter):
    """Counts every request the session really sends, retries included."""

    def __init__(self, count: Callable[[str], None]) -> None:
        super().__init__()
        self._count = count

    def send(self, request, *args, **kwargs):  # type: ignore[override]
        self._count(_endpoint(request.method or "GET", request.url or ""))
        return super().send(request, *args, **kwargs)



class JiraRequests:
    """The HTTP part of `JiraConnector`: it needs the connector's `_client`, `source`, `token_env`,
    `policy`, `sleep`, `on_wait` and `_token` (only to scrub it from quoted server messages)."""

    source: str
    token_env: str
    policy: RetryPolicy
    sleep: Sleep
    on_wait: OnWait | None
    _client: Any
    _token: str

    def _request(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """One API call (path under /rest/api/{2|3}/) with our retry policy; errors translated to the connector tree."""
        what = f"Jira source '{self.source}' {method} {_ISSUE_IN_PATH.sub('/issue/{id}', '/' + path)}"

        def once() -> Any:
            try:
                return self._get_json(path, params, method == "POST")
            except JIRAError as exc:
                # JIRAError's text can carry request headers: never chain or quote it.
                raise self._translate(exc, what) from None
            except http_errors.Timeout:
                raise RetriableError("timed out") from None
            except http_errors.ConnectionError:
                raise RetriableError("connection failed") from None
            except (http_errors.ChunkedEncodingError, http_errors.ContentDecodingError):
                raise RetriableError("the answer was cut off") from None  # a passing network failure
            except ValueError:
                raise FatalError(f"{what} answered with a body that is not JSON; check the url.") from None
            except http_errors.RequestException as exc:
                raise FatalError(f"{what} failed ({type(exc).__name__}); check the url.") from None

        return call_with_retries(once, what=what, policy=self.policy, sleep=self.sleep, on_wait=self.on_wait)

    def _get_json(self, path: str, params: dict[str, Any] | None, post: bool) -> Any:
        """The library's authenticated session and error mapping, with orjson for decoding:
        a page of 100 issues with their changelogs is about a megabyte of JSON."""
        client = self._client
        url = client._get_url(path)
        session = client._session
        response = session.post(url, data=json.dumps(params)) if post else session.get(url, params=params)
        raise_on_error(response)
        if not response.content:
            return {}
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            # orjson refuses half a UTF-16 pair (an emoji cut by Jira's own truncation); the standard
            # parser keeps it, and the store turns it into U+FFFD. Anything else is not JSON still.
            return json.loads(response.content)

    def _translate(self, exc: JIRAError, what: str) -> Exception:
        status = exc.status_code
        if status in (401, 403):
            return FatalError(
                f"Jira source '{self.source}' refused the credentials (HTTP {status}); check the token in {self.token_env}."
            )
        if status in (429, 503):
            headers = exc.response.headers if exc.response is not None else {}
            reason = "rate limited" if status == 429 else "Jira unavailable"
            return RetriableError(f"{reason} (HTTP {status})", wait=parse_retry_after(headers.get("Retry-After")))
        if status is None or status >= 500:
            return RetriableError(f"server error (HTTP {status})")
        if status == 404:
            return NotFound(f"{what} found nothing (HTTP 404); check the url and the deployment.")
        # Jira's own message (a JQL syntax error, say) is what the user needs; scrub the token all the same.
        text = (exc.text or "no message").replace(self._token, "***")[:300]
        return (Refused if status == 400 else FatalError)(f"{what} was refused (HTTP {status}): {text}")

