"""Bulk runs keep PostgreSQL's planner statistics up with the tables they grow; SQLite is left alone."""
from __future__ import annotations

from sqlalchemy import text

from service.jobs.ingest import build_demo
from service.store import statistics


def test_a_bulk_run_analyzes_the_tables_whenever_its_tickets_double(sessions, config, engine, monkeypatch) -> None:
    monkeypatch.setattr(statistics, "FIRST", 40)
    build_demo(sessions, config, tickets=130, batch=10)
    with engine.connect() as c:
        if engine.dialect.name == "sqlite":
            assert c.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is None
            return
        # What the planner knows of a table is what its last ANALYZE counted (pg_class, transactional).
        counted = dict(c.execute(text("SELECT relname, reltuples FROM pg_class "
                                      "WHERE relname IN ('tickets', 'signal_tickets')")).all())
    # The first look after 40 tickets, the next once as many again were stored (80); 130 stays
    # short of the 160 of the one after.
    assert counted == {"tickets": 80, "signal_tickets": 80}
