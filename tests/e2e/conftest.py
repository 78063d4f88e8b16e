"""A fake Jira on 127.0.0.1 per test, over one small scenario generated once per session."""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Iterator

import pytest

from service.config import SourceConfig
from simulator.jira_server import JiraServer
from simulator.scenario import generate

TICKETS = 200
EMAIL = "sync-bot@acme.example"
TOKEN = "fake-token-7f3b9e"  # must never appear in a message
TOKEN_ENV = "ACME_FAKE_JIRA_TOKEN"
SOURCE_NAME = "acme-jira"


@pytest.fixture(scope="session")
def issues() -> list[dict[str, Any]]:
    """200 scenario issues; 5 % with long histories, so that Cloud's search has to cut some changelogs."""
    return generate(TICKETS, long_history_rate=0.05)


@pytest.fixture
def fake_jira(issues: list[dict[str, Any]]) -> Iterator[Callable[..., JiraServer]]:
    """Start a fake Jira with the given knobs; every one started is stopped after the test."""
    started: list[JiraServer] = []

    def start(**knobs: Any) -> JiraServer:
        server = JiraServer(issues=issues, email=EMAIL, token=TOKEN, **knobs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def source_for(server: JiraServer, monkeypatch: pytest.MonkeyPatch, deployment: str = "cloud",
               token: str = TOKEN, email: str = EMAIL) -> SourceConfig:
    """A configured source pointing at the fake, its token in the environment as in production."""
    monkeypatch.setenv(TOKEN_ENV, token)
    return SourceConfig(name=SOURCE_NAME, kind="jira", url=server.url, deployment=deployment,
                        email=email, token_env=TOKEN_ENV, start=date(2024, 1, 1))
