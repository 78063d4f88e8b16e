"""The write gate: one writer at a time on SQLite, acknowledgements before the applier's batches,
the applier never stalled for good, and no gate at all on PostgreSQL."""
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


def test_an_acknowledgement_goes_before_a_batch_that_waited_longer() -> None:
    gate, order = WriteGate(patience=30.0), []
    held, release = threading.Event(), threading.Event()

    def first_batch() -> None:
        with gate.apply():
            held.set()
            release.wait(5)

    def second_batch() -> None:
        with gate.apply():
            order.append("batch")

    def acknowledgement() -> None:
        with gate.acknowledge():
            order.append("acknowledgement")

    threads = [in_thread(first_batch)]
    held.wait(5)
    threads.append(in_thread(second_batch))
    time.sleep(0.05)  # the second batch waits first
    threads.append(in_thread(acknowledgement))
    until(lambda: gate._acknowledging == 1)
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["acknowledgement", "batch"]


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


def test_a_stream_of_acknowledgements_stalls_the_applier_no_longer_than_its_patience() -> None:
    gate, stop, entered = WriteGate(patience=0.1), threading.Event(), threading.Event()

    def acknowledging() -> None:
        while not stop.is_set():
            with gate.acknowledge():
                time.sleep(0.003)

    def batch() -> None:
        with gate.apply():
            entered.set()

    stream = [in_thread(acknowledging) for _ in range(3)]
    until(lambda: gate._acknowledging > 0)
    in_thread(batch)
    entered_in_time = entered.wait(10)
    stop.set()
    for thread in stream:
        thread.join(5)
    assert entered_in_time  # while the stream still ran


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
