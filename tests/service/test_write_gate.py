"""The write gate: one writer at a time on SQLite, the acknowledgements waiting go before the
applier's batch, the applier before those that come after it, and no gate at all on PostgreSQL."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from service.store.db import make_engine
from service.store.gate import WriteGate


def in_thread(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.005)


def test_a_batch_goes_after_the_acknowledgements_waiting_when_it_asked() -> None:
    gate, order = WriteGate(), []
    held, release = threading.Event(), threading.Event()

    def holding() -> None:
        with gate.acknowledge():
            held.set()
            release.wait(5)

    def acknowledgement(name: str) -> None:
        with gate.acknowledge():
            order.append(name)

    def batch() -> None:
        with gate.apply():
            order.append("batch")

    threads = [in_thread(holding)]
    held.wait(5)
    threads.append(in_thread(lambda: acknowledgement("waiting before")))
    until(lambda: gate._asked == 2)
    threads.append(in_thread(batch))
    time.sleep(0.05)  # the batch has asked: one acknowledgement was waiting then
    threads.append(in_thread(lambda: acknowledgement("came after")))
    until(lambda: gate._asked == 3)
    release.set()
    for thread in threads:
        thread.join(5)
    # one acknowledgement goes before the batch (the two waiting acknowledgements are not ordered
    # between themselves, only counted), then the batch, then the other
    assert len(order) == 3 and order[1] == "batch"


def test_writers_never_overlap() -> None:
    gate, inside, overlaps = WriteGate(), [0], []

    def write(enter: Any) -> None:
        for _ in range(50):
            with enter():
                inside[0] += 1
                overlaps.append(inside[0] > 1)
                time.sleep(0.0005)
                inside[0] -= 1

    threads = [in_thread(lambda: write(gate.acknowledge)) for _ in range(4)] + [in_thread(lambda: write(gate.apply))]
    for thread in threads:
        thread.join(10)
    assert len(overlaps) == 250 and not any(overlaps)


def test_a_batch_goes_before_the_acknowledgements_that_came_after_it() -> None:
    gate, stop, order = WriteGate(), threading.Event(), []
    lock = threading.Lock()

    def acknowledging(name: str) -> None:
        while not stop.is_set():
            with gate.acknowledge():
                with lock:
                    order.append(name)
                time.sleep(0.003)

    def batch() -> None:
        with gate.apply():
            with lock:
                order.append("batch")

    stream = [in_thread(lambda n=n: acknowledging(f"ack{n}")) for n in range(3)]
    until(lambda: gate._asked >= 6)  # a stream: someone is always waiting
    with lock:
        asked_before = gate._asked
        entered_before = len(order)
    in_thread(batch).join(5)
    stop.set()
    for thread in stream:
        thread.join(5)
    assert "batch" in order
    # only the acknowledgements already asking (and still waiting) went before it: at most three
    assert order.index("batch") - entered_before <= asked_before - entered_before <= 3


def test_on_postgresql_nobody_waits() -> None:
    gate = WriteGate.for_engine(make_engine("postgresql://nobody@127.0.0.1:1/none"))  # no connection is made
    held, entered = threading.Event(), threading.Event()

    def holding() -> None:
        with gate.acknowledge():
            held.set()
            entered.wait(5)

    thread = in_thread(holding)
    held.wait(5)
    with gate.apply():
        entered.set()
    thread.join(5)
    assert not gate.enabled and entered.is_set()


def test_the_app_gives_its_endpoints_and_its_applier_one_gate(app: Any, db_url: str) -> None:
    ext = app.extensions["partnerscope"]
    assert ext["applier"].gate is ext["gate"]
    assert ext["gate"].enabled == db_url.startswith("sqlite")
