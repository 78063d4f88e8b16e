"""One sync per source at a time, across every process and machine sharing the database.

On PostgreSQL the lock is a session-level advisory lock held on a connection of its own for the
length of the sync; on SQLite, whose database is one machine's file, an exclusive `flock` on a
file beside it. Both are released by the operating system or the server when the holder ends,
killed or not, so a killed sync leaves no lock behind; the run record it left `running` is
marked `interrupted` by the next sync of its source (`service.jobs.sync`). Taking the lock
never waits: a sync that finds its source busy is told so at once (`SourceBusy`).
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)
_MEMORY_LOCKS: dict[tuple[int, str], threading.Lock] = {}  # in-memory SQLite: one process holds it all
_MEMORY_GUARD = threading.Lock()


class SourceBusy(Exception):
    """Another process (or thread) is syncing this source now."""


def lock_key(source: str) -> int:
    """The advisory lock's 64-bit key for a source, the same in every process."""
    return int.from_bytes(hashlib.sha256(b"partnerscope-sync:" + source.encode()).digest()[:8], "big", signed=True)


@contextmanager
def source_lock(engine: Engine, source: str) -> Iterator[bool]:
    """Try to take `source`'s sync lock for the block; yields whether it was taken."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(source)}).scalar())
            connection.commit()  # no transaction stays open on this connection for the sync's length
            try:
                yield taken
            finally:
                if taken:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(source)})
                    connection.commit()
        return
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    path = lock_file(engine, f"sync-{digest}.lock")
    if path is not None:
        with file_lock(path, wait=False,
                       unavailable="store.sync_lock_unavailable: %s; syncs are kept apart within this process only") \
                as held:
            if held is not None:
                yield held
                return
    with _memory_lock(engine, source) as taken:  # a database in memory, or a lock file not to be had
        yield taken


def lock_file(engine: Engine, name: str) -> str | None:
    """The path of a lock file beside an SQLite database's file; None for any other database."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}.{name}"


@contextmanager
def file_lock(path: str, *, wait: bool, unavailable: str) -> Iterator[bool | None]:
    """An exclusive `flock` on `path` for the block: yields True once held, False when another
    holds it (only without `wait`), None when the file cannot be opened (logged as `unavailable`,
    a message with one %s for the reason), so the caller decides how to go on without it."""
    try:
        handle = open(path, "a+b")
    except OSError as exc:  # a directory this process may not write
        log.warning(unavailable, exc.strerror or exc)
        yield None
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _memory_lock(engine: Engine, source: str) -> Iterator[bool]:
    with _MEMORY_GUARD:
        lock = _MEMORY_LOCKS.setdefault((id(engine), source), threading.Lock())
    taken = lock.acquire(blocking=False)
    try:
        yield taken
    finally:
        if taken:
            lock.release()
