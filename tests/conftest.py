"""Shared fixtures: a migrated database on SQLite and, when configured, PostgreSQL too."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest
import responses as responses_lib
from sqlalchemy import Engine, text

# Service modules are imported inside the fixtures, so that connector and analytics tests
# collect without the service layer (and stay runnable while it changes).

POSTGRES_URL = os.environ.get("PARTNERSCOPE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
REDIS_URL = os.environ.get("PARTNERSCOPE_TEST_REDIS_URL")


@pytest.fixture
def redis_url() -> str:
    """The real Redis of PARTNERSCOPE_TEST_REDIS_URL, its database emptied; skips without one."""
    if not REDIS_URL:
        pytest.skip("the queue's tests need Redis: set PARTNERSCOPE_TEST_REDIS_URL (.ci/run sets it)")
    from redis import Redis

    with Redis.from_url(REDIS_URL) as redis:
        redis.flushdb()
    return REDIS_URL


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test would be slow)."""
    from service.store.db import make_engine, upgrade

    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """The CI PostgreSQL, migrated from scratch once per run."""
    from service.store.db import make_engine, upgrade

    assert POSTGRES_URL
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A database URL with the current schema and no rows, on each configured backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    from service.store.models import Base

    engine = request.getfixturevalue("postgres_engine")
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)  # every table: no test sees another's rows
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return POSTGRES_URL  # type: ignore[return-value]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    from service.store.db import make_engine

    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine):
    from service.store.db import session_factory

    return session_factory(engine)


@pytest.fixture
def session(sessions) -> Iterator:
    with sessions() as s:
        yield s


TEST_CONFIG = {
    "organisations": [
        {"name": "Acme", "side": "client", "domains": ["acme.example"], "accounts": ["jira:client-1"]},
        {"name": "Nordlys", "side": "partner", "domains": ["nordlys.example"], "accounts": ["jira:partner-1"]},
    ],
    "enrollments": [
        {"account": "jira:mover", "organisation": "Nordlys", "until": "2025-03-31"},
        {"account": "jira:mover", "organisation": "Acme", "from": "2025-04-01"},
    ],
    "scorecard": {"min_samples": 2},
}


@pytest.fixture
def config(db_url: str):
    """A small two-organisation configuration pointing at the test database."""
    from service.config import parse_config

    data = dict(TEST_CONFIG, database={"url": db_url})
    return parse_config(data, Path("test-config.toml"))


@pytest.fixture
def app(config, engine: Engine):
    from service.web import create_app

    app = create_app(config, engine=engine)
    app.config.update(TESTING=True)
    return app


@pytest.fixture
def client(app, sessions):
    """A test client logged in as a viewer, through the login form and its CSRF token."""
    return logged_in(app, sessions)


def logged_in(app, sessions, name: str = "tester", role: str = "viewer"):
    """A new client of `app`, logged in as `name` with `role` (added when missing, with the
    password `<name>-password`)."""
    from sqlalchemy import select

    from service.store.models import User
    from service.store.users import add_user

    with sessions() as session, session.begin():
        if session.scalar(select(User.id).where(User.name == name)) is None:
            add_user(session, name, role, f"{name}-password")
    client = app.test_client()
    assert log_in(client, name, f"{name}-password").status_code == 302
    return client


def log_in(client, name: str, password: str, next: str = "/"):
    """POST the login form as a browser would: with the token of the form it was shown."""
    import re

    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token, "next": next})


@pytest.fixture
def mocked_responses() -> Iterator[responses_lib.RequestsMock]:
    """HTTP mocking that fails on any request no test registered."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps
