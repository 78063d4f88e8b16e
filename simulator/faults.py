"""Misbehaviour for the fake tracker servers: latency, injected faults, a rate budget, request counts.

`FaultInjector` is WSGI middleware, so every fake server (Jira now, GitHub later) gets the same
knobs by wrapping its app; what is vendor-specific (the error body, the rate-limit headers, how a
request maps to a route template) comes in as callables. Faults are chosen by request number
(1-based, in arrival order, counting only API requests), so a run against a fresh server is
reproducible: either listed numbers (`at={3: "429"}`) or a seeded draw per number (`rate`).

Fault kinds:
  429, 503   status with `Retry-After: <retry_after>` and the vendor's error body
  500, 502   status with the vendor's error body, no Retry-After
  timeout    hold the request `hang_seconds` (longer than the client's timeout), then drop it
  disconnect drop the connection without answering
  truncate   answer the request for real, but send only the first half of the body (with the
             full Content-Length) and close, like a proxy cut off mid-response
"""
from __future__ import annotations

import math
import socket
import threading
import time
from dataclasses import dataclass, field
from random import Random
from typing import Any, Callable, Iterable, Mapping

FAULT_KINDS = ("429", "500", "502", "503", "timeout", "disconnect", "truncate")
_STATUS_TEXT = {429: "429 Too Many Requests", 500: "500 Internal Server Error", 502: "502 Bad Gateway",
                503: "503 Service Unavailable"}

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
ErrorBody = Callable[[int, str], bytes]
LimitHeaders = Callable[["RateBudget"], list[tuple[str, str]]]


def _plain_error(status: int, message: str) -> bytes:
    return message.encode()


def _no_limit_headers(budget: RateBudget) -> list[tuple[str, str]]:
    return []


def parse_fault_at(text: str) -> dict[int, str]:
    """`"3:429,7:truncate"` as `{3: "429", 7: "truncate"}`, for command-line flags."""
    at: dict[int, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        number, _, kind = part.partition(":")
        if not number.strip().isdigit() or kind.strip() not in FAULT_KINDS:
            raise ValueError(f"'{part}' is not NUMBER:KIND with KIND one of {', '.join(FAULT_KINDS)}")
        at[int(number)] = kind.strip()
    return at


@dataclass(frozen=True)
class FaultPlan:
    """Which API requests fail and how: listed request numbers first, else a seeded draw at `rate`."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "503")
    at: Mapping[int, str] = field(default_factory=dict)
    seed: int = 0
    retry_after: int = 1  # whole seconds: clients (the jira library among them) parse it with int()
    hang_seconds: float = 35.0

    def __post_init__(self) -> None:
        unknown = [k for k in (*self.kinds, *self.at.values()) if k not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kind {unknown[0]!r}; use {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.rate <= 1.0 or (self.rate and not self.kinds):
            raise ValueError("fault rate must be between 0 and 1, with at least one kind to draw from")
        if any(n < 1 for n in self.at):
            raise ValueError("fault request numbers start at 1")
        if not isinstance(self.retry_after, int) or self.retry_after < 0:
            raise ValueError("retry_after is whole seconds, 0 or more")

    def fault_for(self, number: int) -> str | None:
        """The fault for the `number`-th API request, or None; the same number always gets the same answer."""
        if number in self.at:
            return self.at[number]
        if self.rate <= 0:
            return None
        rng = Random(f"{self.seed}:{number}")  # a str seed is hashed the same way in every process
        return rng.choice(self.kinds) if rng.random() < self.rate else None


class RateBudget:
    """A primary rate limit: `limit` requests per fixed window of `window` seconds, then 429 until the reset."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate budget needs a limit of at least 1 and a window above 0 seconds")
        self.limit, self.window, self._clock = limit, window, clock
        self._lock = threading.Lock()
        self._reset_at = clock() + window
        self._used = 0

    def _roll(self, now: float) -> None:
        if now >= self._reset_at:
            windows = math.floor((now - self._reset_at) / self.window) + 1
            self._reset_at += windows * self.window
            self._used = 0

    def take(self) -> float | None:
        """Spend one request: None when allowed, else the seconds until the budget resets."""
        with self._lock:
            now = self._clock()
            self._roll(now)
            if self._used < self.limit:
                self._used += 1
                return None
            return self._reset_at - now

    @property
    def remaining(self) -> int:
        with self._lock:
            self._roll(self._clock())
            return self.limit - self._used

    def reset_in(self) -> float:
        """Seconds until the current window ends."""
        with self._lock:
            now = self._clock()
            self._roll(now)
            return self._reset_at - now


class Stats:
    """Thread-safe request counters: by endpoint (method + route template), status and fault."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter; request numbering (for `FaultPlan.at`) starts again at 1."""
        with self._lock:
            self._requests = 0
            self._by_endpoint: dict[str, int] = {}
            self._by_status: dict[str, int] = {}
            self._faults: dict[str, int] = {}
            self._rate_limited = 0

    def count(self, endpoint: str) -> int:
        """Count one API request; its number, starting at 1."""
        with self._lock:
            self._requests += 1
            self._by_endpoint[endpoint] = self._by_endpoint.get(endpoint, 0) + 1
            return self._requests

    def status(self, code: int | str) -> None:
        with self._lock:
            self._by_status[str(code)] = self._by_status.get(str(code), 0) + 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] = self._faults.get(kind, 0) + 1

    def rate_limited(self) -> None:
        with self._lock:
            self._rate_limited += 1

    def snapshot(self) -> dict[str, Any]:
        """Plain JSON-ready copy: requests, by_endpoint, by_status, faults, rate_limited."""
        with self._lock:
            return {"requests": self._requests, "by_endpoint": dict(sorted(self._by_endpoint.items())),
                    "by_status": dict(sorted(self._by_status.items())), "faults": dict(sorted(self._faults.items())),
                    "rate_limited": self._rate_limited}


def _drop(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
    """Close the client's connection under the server's feet (werkzeug exposes the socket).

    A status is still "started" so that werkzeug's own write fails as a dropped connection
    (which it ignores quietly) rather than as an application error it would log.
    """
    sock = environ.get("werkzeug.socket")
    if sock is None:
        raise RuntimeError("dropping a connection needs werkzeug's server (environ['werkzeug.socket'])")
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # the client went first
    start_response("500 Internal Server Error", [("Content-Length", "0")])
    return []


class FaultInjector:
    """WSGI middleware: counts API requests, adds latency, enforces a rate budget, injects faults.

    `route(environ)` names the request's endpoint (e.g. `GET /rest/api/3/issue/{id}`), or returns
    None for control endpoints, which are neither counted, slowed nor failed.
    """

    def __init__(
        self, app: WSGIApp, *, route: Callable[[dict[str, Any]], str | None], stats: Stats | None = None,
        plan: FaultPlan | None = None, latency: float = 0.0, budget: RateBudget | None = None,
        error_body: ErrorBody = _plain_error, error_type: str = "text/plain; charset=utf-8",
        limit_headers: LimitHeaders = _no_limit_headers, stopping: threading.Event | None = None,
    ) -> None:
        self.app, self.route, self.plan, self.latency, self.budget = app, route, plan, latency, budget
        self.stats = stats or Stats()
        self.error_body, self.error_type, self.limit_headers = error_body, error_type, limit_headers
        self.stopping = stopping or threading.Event()  # set on shutdown, so hung requests end early

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        endpoint = self.route(environ)
        if endpoint is None:
            return self.app(environ, start_response)
        number = self.stats.count(endpoint)
        if self.latency > 0:
            self.stopping.wait(self.latency)
        fault = self.plan.fault_for(number) if self.plan else None
        if fault is not None:
            self.stats.fault(fault)
            return self._inject(fault, environ, start_response)
        if self.budget is not None:
            wait = self.budget.take()
            if wait is not None:
                self.stats.rate_limited()
                headers = [("Retry-After", str(max(math.ceil(wait), 1))), *self.limit_headers(self.budget)]
                return self._error(429, "Rate limit exceeded.", headers, start_response)

        def counting_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.stats.status(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        return self.app(environ, counting_start)

    def _error(self, status: int, message: str, headers: list[tuple[str, str]],
               start_response: StartResponse) -> list[bytes]:
        body = self.error_body(status, message)
        self.stats.status(status)
        start_response(_STATUS_TEXT.get(status, str(status)),
                       [("Content-Type", self.error_type), ("Content-Length", str(len(body))), *headers])
        return [body]

    def _inject(self, fault: str, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        assert self.plan is not None
        if fault in ("429", "503"):
            message = "Rate limit exceeded." if fault == "429" else "Service temporarily unavailable."
            return self._error(int(fault), message, [("Retry-After", str(self.plan.retry_after))], start_response)
        if fault in ("500", "502"):
            message = "Internal server error." if fault == "500" else "Bad gateway."
            return self._error(int(fault), message, [], start_response)
        if fault == "timeout":
            self.stats.status("timeout")
            self.stopping.wait(self.plan.hang_seconds)
            return _drop(environ, start_response)
        if fault == "disconnect":
            self.stats.status("disconnect")
            return _drop(environ, start_response)
        return self._truncate(environ, start_response)

    def _truncate(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured.update(status=status, headers=headers)
            return lambda data: None

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        head = [f"HTTP/1.1 {captured['status']}"]
        head += [f"{name}: {value}" for name, value in captured["headers"] if name.lower() != "content-length"]
        head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        sock = environ.get("werkzeug.socket")
        if sock is None:
            raise RuntimeError("a truncated body needs werkzeug's server (environ['werkzeug.socket'])")
        self.stats.status("truncated")
        try:
            sock.sendall("\r\n".join(head).encode("latin-1") + body[: len(body) // 2])
        except OSError:
            pass
        return _drop(environ, start_response)
