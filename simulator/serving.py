"""Run a WSGI app on 127.0.0.1 with werkzeug's threaded server: in a background thread, or in the foreground.

Werkzeug answers every request with `Connection: close`, so each client request is a new
TCP connection; on the loopback interface that costs well under a millisecond.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterable

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

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
