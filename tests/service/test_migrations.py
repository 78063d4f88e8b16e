"""Migrations carry existing data forward: sites from links, one id per pull request merge;
0007 adds the removed events (tombstones) beside what a database at 0006 holds."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from service.store.db import alembic_config, make_engine, upgrade
from tests.conftest import BACKENDS, POSTGRES_URL


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def test_0003_keeps_sites_and_renames_merges_with_their_evidence(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0002")
    with engine.begin() as c:
        c.execute(text("INSERT INTO people (id, name) VALUES (1, 'Ola')"))
        c.execute(text("INSERT INTO accounts (id, tracker, external_id, person_id, home_person_id) "
                       "VALUES (1, 'github', 'ola', 1, 1)"))
        for tid, key, url in ((1, "acme/shop#12", "https://github.com/acme/shop/pull/12"),
                              (2, "SHOP-7", "https://acme.atlassian.net/browse/SHOP-7")):
            c.execute(text("INSERT INTO tickets (id, source, external_id, key, project, type_name, kind, title, status, "
                           "created, updated, url, labels) VALUES (:id, 's', :key, :key, 'p', 't', 'k', '', 'open', "
                           "'2025-01-01 00:00:00', '2025-01-02 00:00:00', :url, '[]')"), {"id": tid, "key": key, "url": url})
        c.execute(text("INSERT INTO events (ticket_id, external_id, kind, at, actor_id) "
                       "VALUES (1, 'e555', 'merge', '2025-01-02 00:00:00', 1)"))
        for tid, event, rule in ((1, "e555", "merges"), (2, "acme/shop#12:e555", "merges-linked-pr")):
            c.execute(text("INSERT INTO attributions (ticket_id, role, account_id, person_id, side, event_external_id, "
                           "at, rule, explanation) VALUES (:t, 'resolve', 1, 1, 'unknown', :e, '2025-01-02 00:00:00', "
                           ":r, 'merged')"), {"t": tid, "e": event, "r": rule})

    upgrade(engine)

    with engine.connect() as c:
        assert c.execute(text("SELECT key, site FROM tickets ORDER BY id")).all() == [
            ("acme/shop#12", None), ("SHOP-7", "https://acme.atlassian.net")]
        assert c.execute(text("SELECT external_id FROM events")).scalars().all() == ["merged"]
        assert c.execute(text("SELECT event_external_id FROM attributions ORDER BY ticket_id")).scalars().all() == [
            "merged", "acme/shop#12:merged"]
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema yet, on each configured backend: on PostgreSQL a schema of its own,
    so the shared test schema stays as the other tests expect it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin = make_engine(POSTGRES_URL)  # type: ignore[arg-type]
    with admin.begin() as c:
        c.execute(text("DROP SCHEMA IF EXISTS migration_test CASCADE"))
        c.execute(text("CREATE SCHEMA migration_test"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3Dmigration_test"
    with admin.begin() as c:
        c.execute(text("DROP SCHEMA migration_test CASCADE"))
    admin.dispose()


def test_0007_adds_removed_events_to_a_database_at_0006(empty_url: str) -> None:
    engine = make_engine(empty_url)
    upgrade(engine, "0006")
    with engine.begin() as c:
        c.execute(text("INSERT INTO tickets (id, source, external_id, key, project, type_name, kind, title, status, "
                       "created, updated, labels) VALUES (1, 'acme-jira', '10101', 'ACME-101', 'ACME', 'Bug', 'bug', "
                       "'', 'Open', '2024-03-04 10:15:30', '2024-03-04 10:15:30', '[]')"))
        c.execute(text("INSERT INTO events (ticket_id, external_id, kind, at) "
                       "VALUES (1, 'c30002', 'comment', '2024-03-05 12:00:00')"))

    upgrade(engine, "0007")

    tombstone = text("INSERT INTO removed_events (source, ticket_external_id, event_external_id, removed_at) "
                     "VALUES ('acme-jira', :ticket, 'c30003', '2024-03-06 10:40:00')")
    with engine.begin() as c:
        c.execute(tombstone, {"ticket": "10101"})
        c.execute(tombstone, {"ticket": "10999"})  # a ticket not stored yet
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(tombstone, {"ticket": "10101"})  # one tombstone per event
    with engine.connect() as c:
        assert c.execute(text("SELECT ticket_external_id FROM removed_events ORDER BY 1")).scalars().all() == [
            "10101", "10999"]
        assert c.execute(text("SELECT external_id FROM events")).scalars().all() == ["c30002"]
    downgrade(engine, "0006")
    with engine.connect() as c:
        assert "removed_events" not in inspect(c).get_table_names()
    engine.dispose()


def test_the_migrations_build_the_schema_the_models_describe(empty_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from service.store.models import Base

    engine = make_engine(empty_url)
    upgrade(engine)
    with engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []
    engine.dispose()


def test_processes_started_together_on_a_new_database_apply_the_schema_once(empty_url: str) -> None:
    """Each command upgrades the schema on start: started at the same moment on an empty database,
    one applies the migrations and the others wait for it, rather than fail on "already exists"."""
    import subprocess
    import sys
    import time

    from service.store.db import is_current

    start = time.time() + 2.0  # every process waits for the same moment after its imports
    script = ("import sys, time\n"
              "from service.store.db import ensure_schema, make_engine\n"
              "engine = make_engine(sys.argv[1])\n"
              "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
              "ensure_schema(engine)\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, empty_url, str(start)], stderr=subprocess.PIPE)
             for _ in range(4)]
    errors = [p.communicate(timeout=120)[1].decode(errors="replace") for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], "\n".join(e[-600:] for e in errors)
    engine = make_engine(empty_url)
    try:
        assert is_current(engine)
    finally:
        engine.dispose()


def test_an_upgrade_without_a_writable_lock_file_goes_on_unguarded(tmp_path: Path, caplog) -> None:
    from service.store.db import ensure_schema, is_current

    url = f"sqlite:///{tmp_path / 'new.db'}"
    (tmp_path / "new.db.schema-lock").mkdir()  # a directory where the lock file would be: it cannot be opened
    engine = make_engine(url)
    ensure_schema(engine)
    assert is_current(engine)
    assert "store.schema_lock_unavailable" in caplog.text
    engine.dispose()
