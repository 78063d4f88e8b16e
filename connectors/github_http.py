"""HTTP for the GitHub connector: raw JSON through PyGithub's Requester, under our rate-limit and retry policy.

PyGithub is built with `retry=None` and no pause between requests, so `connectors.retry` is
the only retry policy and every wait goes through the injected `sleep` (announced through
`on_wait`). Its object layer is bypassed for `Requester.requestJson`, which returns status,
headers and body without raising: the answers stay plain JSON for the pure parser, and the
statuses are translated here into the connector's error tree.

Rate limits (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api):
- primary: `X-RateLimit-Remaining` / `X-RateLimit-Reset` (epoch seconds). When fewer than
  `min_remaining` requests are left, wait until the reset before asking again. A server that
  sends no such headers (GitHub Enterprise with rate limiting off) is never waited for.
- secondary: 403 or 429 with `Retry-After` (wait that long), with `X-RateLimit-Remaining: 0`
  (wait for the reset), or saying "secondary rate limit" (wait a minute).
- GraphQL's own quota: exhausted, it answers HTTP 200 with an error (type RATE_LIMIT, code
  graphql_rate_limit; RATE_LIMITED in older answers), waited out like the secondary limit.
Conditional requests (https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate):
an answered `If-None-Match` (304) costs no quota, so first pages of listings are asked with
the ETag of their last answer, kept in `etags` (url -> (etag, body, next link)).
"""
from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterator, MutableMapping
from urllib.parse import urlencode

from github import Auth, Github
from github.Requester import Requester
from requests import exceptions as http_errors

from connectors.errors import FatalError, RetriableError
from connectors.github_parse import slim
from connectors.retry import OnWait, RetryPolicy, Sleep, call_with_retries, parse_retry_after

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = "Partnerscope"
SECONDARY_WAIT = 60.0  # GitHub: "wait for at least one minute" when it names no time
MAX_RESET_WAIT = 3660.0  # the primary window is one hour; a later reset is not GitHub's clock
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')

ETags = MutableMapping[str, tuple[str, Any, "str | None"]]


@dataclass(slots=True)
class Reply:
    """One answered request: the JSON body, the (lower-cased) headers and the next page's URL."""

    data: Any
    headers: dict[str, str]
    next_url: str | None = None
    not_modified: bool = False


class NotFound(FatalError):
    """HTTP 404: the repository, organisation or item does not exist or the token cannot see it."""


class Refused(FatalError):
    """HTTP 403 that is no rate limit: the token may not read this."""


class PaginationLimit(FatalError):
    """HTTP 422 "pagination is limited for this resource": GitHub will not page this far back."""


def api_base_url(base_url: str | None) -> str:
    """The REST root: api.github.com, or `https://host/api/v3` for GitHub Enterprise Server."""
    if not base_url:
        return DEFAULT_BASE_URL
    url = base_url.strip().rstrip("/")
    if re.fullmatch(r"https?://(www\.)?github\.com", url):
        return DEFAULT_BASE_URL
    if re.fullmatch(r"https?://[^/]+", url) and not url.endswith("api.github.com"):
        return f"{url}/api/v3"  # Enterprise Server serves REST under /api/v3 and GraphQL under /api/graphql
    return url


def graphql_url(api_url: str) -> str:
    """The GraphQL endpoint beside a REST root: `/graphql`, or `/api/graphql` on Enterprise Server."""
    return f"{api_url.removesuffix('/v3')}/graphql"


def next_link(header: str | None) -> str | None:
    """The `rel="next"` URL of a Link header, or None on the last page."""
    found = _LINK_NEXT.search(header or "")
    return found.group(1) if found else None


def server_time(headers: dict[str, str]) -> datetime | None:
    """The server's clock from the `Date` header, so comparisons with GitHub times skip our clock."""
    try:
        moment = parsedate_to_datetime(headers.get("date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _graphql_rate_limit(error: Any) -> bool:
    """Whether one GraphQL error says the rate limit is exhausted, in today's shape or the older one."""
    if not isinstance(error, dict):
        return False
    return error.get("type") in ("RATE_LIMIT", "RATE_LIMITED") or error.get("code") == "graphql_rate_limit"


class GitHubHTTP:
    """One GitHub API (REST and GraphQL) for one source: counted, rate-limited, retried, ETag-aware."""

    def __init__(
        self, source: str, *, token: str, token_env: str, base_url: str | None, timeout: float,
        sleep: Sleep, on_wait: OnWait | None, clock: Callable[[], float], policy: RetryPolicy,
        min_remaining: int = 10, etags: ETags | None = None,
    ) -> None:
        self.source, self.token_env, self.sleep, self.on_wait, self.clock = source, token_env, sleep, on_wait, clock
        self.policy, self.min_remaining = policy, min_remaining
        self.base_url = api_base_url(base_url)
        self.etags: ETags = etags if etags is not None else {}
        self.requests = 0
        self.not_modified = 0
        self.requests_by_endpoint: dict[str, int] = {}
        self._token = token  # only to scrub it from quoted server messages
        self._quota: dict[str, tuple[int, float]] = {}  # "core" | "graphql" -> (remaining, reset epoch)
        github = Github(
            auth=Auth.Token(token), base_url=self.base_url, timeout=max(1, math.ceil(timeout)),
            user_agent=USER_AGENT, per_page=100, retry=None, seconds_between_requests=None,
            seconds_between_writes=None,
        )
        self._requester: Requester = github.requester
        self.graphql_url = graphql_url(self.base_url)

    def get(
        self, endpoint: str, url: str, params: dict[str, Any] | None = None, *, conditional: bool = False,
        fields: tuple[str, ...] | None = None,
    ) -> Reply:
        """GET a path under the API root (or a Link URL); `conditional` asks with the cached ETag.

        With `fields`, the body (each item of a list) keeps only those (`github_parse.slim`).
        """
        return self._call("GET", endpoint, url, params, None, "core", conditional, fields)

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """POST one GraphQL query; the whole answer (`data` and any `errors`), rate limits waited out."""
        reply = self._call("POST", "POST /graphql", self.graphql_url, None, {"query": query, "variables": variables},
                           "graphql", False, None)
        if not isinstance(reply.data, dict):
            raise FatalError(f"GitHub source '{self.source}' got a GraphQL answer that is not an object; check base_url.")
        return reply.data

    def listing(
        self, endpoint: str, url: str, params: dict[str, Any], *, fields: tuple[str, ...] | None = None,
        conditional: bool = True,
    ) -> Iterator[Reply]:
        """The pages of a listing, following Link headers; the first page is asked conditionally.

        https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
        """
        reply = self.get(endpoint, url, params, conditional=conditional, fields=fields)
        seen: set[str] = set()
        while True:
            yield reply
            following = reply.next_url
            if not following:
                return
            if following in seen:
                raise RetriableError(f"GitHub source '{self.source}' sent the page link {following} twice; "
                                     "stopped to avoid a loop.")
            seen.add(following)
            reply = self.get(endpoint, following, fields=fields)

    # -- one request ------------------------------------------------------------------------------

    def _call(
        self, method: str, endpoint: str, url: str, params: dict[str, Any] | None, body: Any,
        resource: str, conditional: bool, fields: tuple[str, ...] | None,
    ) -> Reply:
        what = f"GitHub source '{self.source}' {endpoint}"
        key = url if "://" in url else f"{self.base_url}{url}"
        if params:
            key += ("&" if "?" in key else "?") + urlencode(sorted((name, str(value)) for name, value in params.items()))

        def once() -> Reply:
            self._wait_for_quota(resource)
            headers = {"X-GitHub-Api-Version": API_VERSION}
            cached = self.etags.get(key) if conditional else None
            if cached is not None:
                headers["If-None-Match"] = cached[0]
            self.requests += 1
            self.requests_by_endpoint[endpoint] = self.requests_by_endpoint.get(endpoint, 0) + 1
            try:
                status, answer_headers, text = self._requester.requestJson(method, url, params, headers, body)
            except http_errors.Timeout:
                raise RetriableError("timed out") from None
            except http_errors.ConnectionError:
                raise RetriableError("connection failed") from None
            except http_errors.ChunkedEncodingError:
                raise RetriableError("the answer was cut off") from None
            except http_errors.RequestException as exc:
                raise FatalError(f"{what} failed ({type(exc).__name__}); check base_url.") from None
            answer_headers = {str(name).lower(): str(value) for name, value in answer_headers.items()}
            self._note_quota(resource, answer_headers)
            if status == 304 and cached is not None:
                self.not_modified += 1
                return Reply(cached[1], answer_headers, cached[2], not_modified=True)
            data = self._json(text, what, status)
            try:
                if status >= 300:
                    raise self._translate(status, answer_headers, data, what)
                if resource == "graphql":
                    self._check_graphql_rate_limit(data, answer_headers)
            except RetriableError:
                self._quota.pop(resource, None)  # the retry's own wait covers the reset
                raise
            if fields is not None:
                data = [slim(item, fields) for item in data] if isinstance(data, list) else slim(data, fields)
            reply = Reply(data, answer_headers, next_link(answer_headers.get("link")))
            etag = answer_headers.get("etag")
            if conditional and etag:
                self.etags[key] = (etag, data, reply.next_url)
            return reply

        return call_with_retries(once, what=what, policy=self.policy, sleep=self.sleep, on_wait=self.on_wait)

    def _json(self, text: str, what: str, status: int) -> Any:
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            if status >= 500 or text.lstrip().startswith(("{", "[")):
                # A JSON body that does not parse was cut off on the way; a web page means a wrong base_url.
                raise RetriableError(f"answer cut off or server error (HTTP {status})") from None
            raise FatalError(f"{what} answered with a body that is not JSON (HTTP {status}); check base_url.") from None

    def _translate(self, status: int, headers: dict[str, str], data: Any, what: str) -> Exception:
        message = data.get("message") if isinstance(data, dict) and isinstance(data.get("message"), str) else ""
        message = message.replace(self._token, "***")[:300]
        if status == 401:
            return FatalError(
                f"GitHub source '{self.source}' refused the token (HTTP 401); check the token in {self.token_env}."
            )
        if status in (403, 429):
            retry_after = parse_retry_after(headers.get("retry-after"))
            if retry_after is not None:
                return RetriableError(f"secondary rate limit (HTTP {status}), asked to wait {retry_after:.0f} s",
                                      wait=retry_after)
            if headers.get("x-ratelimit-remaining") == "0":
                wait = self._until_reset(headers)
                return RetriableError(f"rate limit exhausted (HTTP {status})",
                                      wait=SECONDARY_WAIT if wait is None else wait)
            if status == 429 or "rate limit" in message.lower() or "abuse" in message.lower():
                return RetriableError(f"secondary rate limit (HTTP {status})", wait=SECONDARY_WAIT)
            return Refused(f"{what} was refused (HTTP 403): {message or 'no message'}; "
                           f"check that the token in {self.token_env} may read it.")
        if status == 404:
            return NotFound(f"{what} found nothing (HTTP 404); check the name and that the token in "
                            f"{self.token_env} can see it.")
        if status == 422 and "pagination" in message.lower():
            return PaginationLimit(f"{what}: GitHub limits how far back this listing pages ({message})")
        if status >= 500:
            return RetriableError(f"server error (HTTP {status})")
        return FatalError(f"{what} was refused (HTTP {status}): {message or 'no message'}")

    def _check_graphql_rate_limit(self, data: Any, headers: dict[str, str]) -> None:
        """Raise RetriableError when a GraphQL answer (HTTP 200) says the quota is exhausted.

        GitHub answers today with an error of type RATE_LIMIT and code graphql_rate_limit; older
        answers say RATE_LIMITED. The wait is the Retry-After when given, else until
        `X-RateLimit-Reset` (within the hour), else a minute.
        https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api
        """
        errors = data.get("errors") if isinstance(data, dict) else None
        limited = [e for e in errors if _graphql_rate_limit(e)] if isinstance(errors, list) else []
        if not limited:
            return
        message = limited[0].get("message") if isinstance(limited[0].get("message"), str) else ""
        reason = "GraphQL rate limit exhausted" + (f" ({message.replace(self._token, '***')[:200]})" if message else "")
        retry_after = parse_retry_after(headers.get("retry-after"))
        if retry_after is not None:
            raise RetriableError(f"{reason}, asked to wait {retry_after:.0f} s", wait=retry_after)
        wait = self._until_reset(headers)
        if wait is None:
            raise RetriableError(f"{reason}, no usable reset time", wait=SECONDARY_WAIT)
        until = datetime.fromtimestamp(self.clock() + wait, timezone.utc).strftime("%H:%M:%S UTC")
        raise RetriableError(f"{reason}, resets at {until}", wait=wait)

    # -- primary rate limit -----------------------------------------------------------------------

    def _note_quota(self, resource: str, headers: dict[str, str]) -> None:
        try:
            remaining, reset = int(float(headers["x-ratelimit-remaining"])), float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return  # no rate-limit headers (Enterprise with rate limiting off): nothing to wait for
        self._quota[resource] = (remaining, reset)

    def _until_reset(self, headers: dict[str, str]) -> float | None:
        """Seconds until the primary window resets; None when the header is missing or implausible."""
        try:
            wait = float(headers["x-ratelimit-reset"]) - self.clock()
        except (KeyError, ValueError):
            return None
        if wait > MAX_RESET_WAIT:
            return None
        return max(wait, 0.0)

    def _wait_for_quota(self, resource: str) -> None:
        """Before asking, wait for the reset when the last answer said too few requests are left."""
        known = self._quota.get(resource)
        if known is None or known[0] >= self.min_remaining:
            return
        remaining, reset = known
        wait = reset - self.clock()
        del self._quota[resource]
        if wait <= 0:
            return
        if wait > MAX_RESET_WAIT:
            log.warning("GitHub source '%s': rate-limit reset %s is not within the hour; not waiting for it.",
                        self.source, reset)
            return
        until = datetime.fromtimestamp(reset, timezone.utc).strftime("%H:%M:%S UTC")
        reason = f"GitHub {resource} rate limit: {remaining} requests left until {until}"
        log.info("GitHub source '%s': %s, waiting %.0f s", self.source, reason, wait)
        if self.on_wait is not None:
            self.on_wait(wait, reason)
        self.sleep(wait)
