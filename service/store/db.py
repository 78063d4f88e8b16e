"""Engine, sessions and schema upgrades (Alembic) for SQLite and PostgreSQL.

Every command upgrades the schema on start, so processes started together on a new database
would each apply the migrations and all but one fail on "table already exists". An upgrade
therefore holds a lock for its database: on PostgreSQL an advisory lock, on SQLite an exclusive
lock (`flock`) on a file beside the database. Either is released when its holder ends, killed
or not. Whoever waited looks again and finds the schema current.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from service.store.locks import file_lock, lock_file

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
SCHEMA_LOCK = 0x7073_6d67  # the advisory lock's key on PostgreSQL ("psmg"), the same in every process


def make_engine(url: str) -> Engine:
    """An engine with SQLite tuned for one writer and many readers (WAL, foreign keys on)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Bulk ingest touches several indexes per row; a 64 MB page cache keeps them in memory.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision` (every command calls this on start)."""
    command.upgrade(alembic_config(engine), revision)


def is_current(engine: Engine) -> bool:
    """Whether the database already stands at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def ensure_schema(engine: Engine) -> None:
    """Upgrade when needed, one process at a time; cheap when the schema is current."""
    if is_current(engine):
        return
    with schema_lock(engine):
        if not is_current(engine):  # another process may have upgraded it while this one waited
            upgrade(engine)


@contextmanager
def schema_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's schema lock for the block (waiting for another holder to finish)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:  # the lock is this connection's until it unlocks
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})
        return
    path = lock_file(engine, "schema-lock")
    if path is None:  # a database in memory belongs to one process
        yield
        return
    with file_lock(path, wait=True, unavailable="store.schema_lock_unavailable: %s; upgrading without the lock"):
        yield  # held, or not to be had: then the upgrade goes on unguarded, as the warning said


def safe_url(url: str) -> str:
    """A database URL fit to print: its password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits at the end of the block, or rolls back on error."""
    with factory() as session, session.begin():
        yield session
