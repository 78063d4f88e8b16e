"""Run a WSGI app on 127.0.0.1 with werkzeug's threaded server: in a background thread, or in the foreground.

Werkzeug answers every request with `Connection: close`, so each client request is a new
TCP connection; on the loopback interface that costs well under a millisecond.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterable, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from simulator.faults import Stats

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HOST = "127.0.0.1"


class QuietHandler(WSGIRequestHandler):
    """No access log line per request: a benchmark sends thousands."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def bind(app: WSGIApp, port: int = 0, *, quiet: bool = True, host: str = HOST) -> BaseWSGIServer:
    """A threaded server bound (not yet serving) on host:port; port 0 picks a free one."""
    handler = QuietHandler if quiet else WSGIRequestHandler
    if not quiet:
        logging.getLogger("werkzeug").setLevel(logging.INFO)
    return make_server(host, port, app, threaded=True, request_handler=handler)


def url_of(server: BaseWSGIServer) -> str:
    """`http://127.0.0.1:<port>` of a bound server."""
    return f"http://{server.host}:{server.server_port}"


class BackgroundServer:
    """Serves a bound server from a daemon thread until `stop()`."""

    def __init__(self, server: BaseWSGIServer) -> None:
        self.server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"fake-server-{server.server_port}", daemon=True)

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, wait for the serving loop to end and close the socket."""
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(timeout=10)
        self.server.server_close()


class FakeTracker:
    """What every fake tracker shares: start in the background or serve in the foreground,
    stop (releasing requests a `timeout` fault holds), and count requests. A subclass builds
    its bound server in `_prepare()` from its own data and knobs."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._stats = Stats()
        self._background: BackgroundServer | None = None

    def _prepare(self) -> BaseWSGIServer:
        raise NotImplementedError

    def start(self) -> Self:
        """Bind, build the data with links to this server, and serve from a background thread."""
        self._background = BackgroundServer(self._prepare()).start()
        return self

    def stop(self) -> None:
        """Stop serving; requests held by a `timeout` fault are released."""
        self.stopping.set()
        if self._background is not None:
            self._background.stop()
            self._background = None

    def serve_forever(self, ready: Callable[[], None] | None = None) -> None:
        """Serve in the foreground until interrupted (the command line's mode); `ready()` once it listens."""
        server = self._prepare()
        if ready is not None:
            ready()
        try:
            server.serve_forever()
        finally:
            self.stopping.set()
            server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def stats(self) -> dict[str, Any]:
        """Requests so far: total, by_endpoint (method and route template), by_status, faults, rate_limited."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        """Zero the counters; fault request numbers count from 1 again."""
        self._stats.reset()
