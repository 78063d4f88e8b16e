"""Results of the database's data remembered while those data stand, and never after.

The scorecard reads every monthly sum and builds the signals in Python (60 ms at 100,000 demo
tickets on SQLite), an area page counts its people over every act of the area, and a few people
opening the dashboard at once queue behind each other for work whose answer only changes when
something is committed. So such a result is remembered under a data version that moves whenever
anything commits, in this process or any other, and handed out (as a copy) while that version
stands.

The version is read before the result is computed: its queries then see data at least that new,
and a request that later reads the same version knows nothing was committed since, so what it is
handed is never older than the database it found. The version is

- on SQLite, `PRAGMA data_version` on a connection of its own that never writes, which changes
  whenever any other connection, in this process or another, commits
  (https://www.sqlite.org/pragma.html#pragma_data_version). A session that has written and not
  committed sees its own changes, which no version counts: it computes afresh. Reads see the
  database as committed when they run (pysqlite starts no transaction for a SELECT);
- on PostgreSQL, the snapshot (`pg_current_snapshot()`): equal snapshots see the same committed
  transactions, so the same data. A transaction that has written computes afresh;
- anything else (an in-memory SQLite database): nothing is remembered.
"""
from __future__ import annotations

import pickle
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Hashable, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

T = TypeVar("T")
KEPT = 64  # results remembered per database, the least recently used forgotten first
WAIT = 30.0  # seconds a request waits for the same result another is computing, before computing it too


class Memo:
    """One database's data version and the results computed on it."""

    def __init__(self, engine: Engine) -> None:
        self._lock = threading.Lock()
        self._results: OrderedDict[tuple[Any, ...], tuple[Any, bytes]] = OrderedDict()
        self._computing: dict[tuple[Any, ...], threading.Event] = {}
        self._watch: sqlite3.Connection | None = None
        self._watch_lock = threading.Lock()
        self._dialect = engine.dialect.name
        event.listen(engine, "engine_disposed", lambda _: self.close())

    def version(self, session: Session) -> Hashable | None:
        """The data version the session's next reads see at least, or None when it has none."""
        connection = session.connection()  # connected: the dialect knows the server's version now
        if self._dialect == "sqlite":
            if connection.connection.dbapi_connection.in_transaction:
                return None
            with self._watch_lock:
                if self._watch is None:
                    self._watch = _watcher(session)
                    if self._watch is None:
                        self._dialect = "none"
                        return None
                return self._watch.execute("PRAGMA data_version").fetchone()[0]
        if self._dialect == "postgresql":
            if connection.dialect.server_version_info < (13,):  # no pg_current_snapshot()
                return None
            snapshot, writing = connection.execute(text(
                "SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned()")).one()
            return None if writing is not None else snapshot
        return None

    def get(self, session: Session, owner: Any, key: Hashable, compute: Callable[[], T]) -> T:
        version = self.version(session)
        if version is None:
            return compute()
        slot = (version, id(owner), key)
        while True:
            with self._lock:
                found = self._results.get(slot)
                if found is not None and found[0] is owner:
                    self._results.move_to_end(slot)
                    return pickle.loads(found[1])
                waiting = self._computing.get(slot)
                if waiting is None:
                    self._computing[slot] = threading.Event()
                    break
            if not waiting.wait(WAIT):
                return compute()
            # Computed (or failed: then this request computes it) while waiting: look again.
        try:
            result = compute()
            stored = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
            with self._lock:
                self._results[slot] = (owner, stored)  # `owner` kept: its id names no other object meanwhile
                while len(self._results) > KEPT:
                    self._results.popitem(last=False)
            return pickle.loads(stored)  # a copy, like every later caller's: none can change another's
        finally:
            with self._lock:
                self._computing.pop(slot).set()

    def close(self) -> None:
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
        with self._lock:
            self._results.clear()


def _watcher(session: Session) -> sqlite3.Connection | None:
    """A connection of its own to the session's database file, or None for a database in memory
    or a file it cannot open. The file is the one the session has open, by its full path, and is
    never created anew."""
    path = next((file for _, name, file in session.execute(text("PRAGMA database_list")) if name == "main"), "")
    if not path:
        return None
    try:
        return sqlite3.connect(f"{Path(path).as_uri()}?mode=rw", uri=True, isolation_level=None,
                               check_same_thread=False)
    except sqlite3.Error:  # then nothing is remembered, rather than anything remembered wrongly
        return None


_memos: WeakKeyDictionary[Engine, Memo] = WeakKeyDictionary()
_memos_lock = threading.Lock()


def remembered(session: Session, owner: Any, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, or a copy of its result computed with the same `owner` (None, or the very
    object, such as the configuration) and `key` on the same data version of the session's
    database."""
    engine = session.get_bind().engine
    with _memos_lock:
        memo = _memos.get(engine)
        if memo is None:
            memo = _memos[engine] = Memo(engine)
    return memo.get(session, owner, key, compute)
