"""An open-loop sender for the `webhooks` case: requests leave on a fixed schedule, whatever the
server's answers, as trackers send them.

Request `i` is due at `start + i / rate`. Worker threads, each with its own keep-alive
connection, take the next due request, wait for its time and send it. When the server is slow
and every worker is waiting for an answer, the next request leaves late; its latency is
therefore counted from when it was due (`from_due`), which includes that wait, so a slow server
cannot hide its slowness by slowing the sender down (coordinated omission). `from_sent` counts
from the moment the request was written, for comparison. 64 workers keep 200 requests a second
on schedule as long as answers take under 320 ms; `send_rate_per_s` in the results says whether
they did.
"""
from __future__ import annotations

import http.client
import math
import threading
import time
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Outcome:
    """What became of one request: `status` None when no answer came (connection refused or cut)."""

    index: int
    status: int | None = None
    due: float = 0.0
    sent: float = 0.0
    answered: float = 0.0
    error: str | None = None

    @property
    def from_due_ms(self) -> float:
        return (self.answered - self.due) * 1000

    @property
    def from_sent_ms(self) -> float:
        return (self.answered - self.sent) * 1000


def send_open_loop(host: str, port: int, requests: Sequence[Request], rate: float, workers: int = 64,
                   timeout: float = 30.0, stop: threading.Event | None = None) -> list[Outcome]:
    """Send every request on schedule (`rate` per second) and return one Outcome each, in order.
    `stop` set ends the run early: requests not yet sent are left without status."""
    outcomes = [Outcome(i) for i in range(len(requests))]
    start = time.monotonic() + 0.2
    taken = iter(range(len(requests)))
    lock = threading.Lock()

    def work() -> None:
        connection: http.client.HTTPConnection | None = None
        while True:
            with lock:
                index = next(taken, None)
            if index is None or (stop is not None and stop.is_set()):
                break
            outcome = outcomes[index]
            outcome.due = start + index / rate
            pause = outcome.due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            request = requests[index]
            if connection is None:
                connection = http.client.HTTPConnection(host, port, timeout=timeout)
            outcome.sent = time.monotonic()
            try:
                connection.request("POST", request.path, body=request.body, headers=request.headers)
                answer = connection.getresponse()
                answer.read()
                outcome.status = answer.status
                if answer.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as exc:
                outcome.error = f"{type(exc).__name__}: {exc}"
                connection.close()
                connection = None
            outcome.answered = time.monotonic()
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=work, name=f"sender-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (`share` 0.99 for p99) of the values, None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(max(1, math.ceil(share * len(ordered))), len(ordered))
    return ordered[rank - 1]
