"""`partnerscope sync` of a GitHub source end to end: fake GitHub over HTTP, store, people, attribution."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from service.config import parse_config
from service.store.models import Account, Attribution, GitHubMember, Ticket, TicketLink
from service.jobs.sync import read_bookmark, sync_source
from simulator.github_people import github_scenario_config
from simulator.github_scenario import generate
from simulator.github_server import GitHubServer

TOKEN = "ghp_fake_sync_token"


@pytest.fixture
def github():
    with GitHubServer(tickets=120, data=generate(120, start=date(2024, 1, 1)), token=TOKEN) as server:
        yield server


def github_config(db_url: str, server: GitHubServer):
    data = dict(github_scenario_config(start=date(2024, 1, 1)))
    data["database"] = {"url": db_url}
    data["sources"] = [{"name": "acme-github", "kind": "github", "repos": ["acme/webshop", "acme/payments"],
                        "base_url": f"{server.url}/api/v3", "token_env": "E2E_GITHUB_TOKEN"}]
    return parse_config(data, None)


def test_github_sync_end_to_end(sessions, db_url, github, monkeypatch) -> None:
    monkeypatch.setenv("E2E_GITHUB_TOKEN", TOKEN)
    config = github_config(db_url, github)
    source = config.source("acme-github")
    result = sync_source(sessions, config, source)

    assert result.requests == github.stats["requests"] > 0
    with sessions() as s:
        kinds = dict(s.execute(select(Ticket.kind, func.count()).group_by(Ticket.kind)).all())
        members = s.scalar(select(func.count()).select_from(GitHubMember))
        links = s.scalar(select(func.count()).select_from(TicketLink))
        sides = dict(s.execute(select(Attribution.side, func.count()).group_by(Attribution.side)).all())
        linked_rules = set(s.scalars(select(Attribution.rule).where(Attribution.rule.like("%linked%"))))
        people = s.scalar(select(func.count(func.distinct(Account.person_id))))
        accounts = s.scalar(select(func.count()).select_from(Account))
        bookmark = read_bookmark(s, "acme-github")
    assert kinds.get("pull_request", 0) > 0 and kinds.get("deployment", 0) > 2  # one per deployment and release
    assert sum(kinds.values()) == result.tickets
    assert members > 0 and links > 0
    assert sides.get("partner", 0) > 0 and sides.get("client", 0) > 0
    assert sides.get("unknown", 0) < (sides["partner"] + sides["client"]) / 4
    assert linked_rules >= {"approves-linked-pr", "merges-linked-pr"}
    # Every successful deployment and every published release is one deploy act, however many
    # the same person made.
    data = generate(120, start=date(2024, 1, 1))
    expected_deploys = sum(
        sum(any(st["state"] == "success" for st in d["statuses"]) for d in repo.deployments)
        + sum(not r["draft"] for r in repo.releases) for repo in data.repos)
    with sessions() as s:
        deploys = s.scalar(select(func.count()).select_from(Attribution).where(Attribution.role == "deploy"))
    assert deploys == expected_deploys > len(data.repos)
    assert people <= accounts and bookmark is not None

    # A second run finds nothing new and changes nothing.
    again = sync_source(sessions, config, source)
    assert again.tickets == 0
    with sessions() as s:
        assert dict(s.execute(select(Attribution.side, func.count()).group_by(Attribution.side)).all()) == sides


def test_no_bookmark_passes_the_start_of_the_run(github) -> None:
    from datetime import datetime, timezone

    from connectors.github import GitHubConnector

    # A run that "started" in the middle of the data: what changed after that moment may have
    # been missed in a repository read earlier, so no page may vouch for it.
    started = datetime(2024, 9, 1, tzinfo=timezone.utc)
    connector = GitHubConnector("acme-github", repos=["acme/webshop", "acme/payments"], token=TOKEN,
                                token_env="E2E_GITHUB_TOKEN", base_url=github.url,
                                clock=lambda: started.timestamp())
    pages = list(connector.pages(None))
    newest = max(t.ticket.updated for p in pages for t in p.tickets)
    marks = [p.bookmark for p in pages if p.bookmark is not None]
    assert newest > started and marks
    assert max(marks) == started
