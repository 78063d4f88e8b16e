"""`partnerscope import github` of REST exports attributes what a sync of the same repositories does.

The exports are fetched from the fake GitHub over HTTP, as a person without a token for
Partnerscope would save them, and spread over files of every layout the import reads.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import delete, select

from service.config import parse_config
from service.jobs.github_import import import_github_files
from service.store.models import Account, Attribution, Base, Ticket
from service.jobs.sync import sync_source
from simulator.github_people import github_scenario_config
from simulator.github_scenario import generate
from simulator.github_server import GitHubServer

TOKEN = "ghp_fake_export_token"
REPOS = ("acme/webshop", "acme/payments")


@pytest.fixture
def github():
    with GitHubServer(tickets=80, data=generate(80, start=date(2024, 1, 1)), token=TOKEN) as server:
        yield server


def scenario_config(db_url: str, server: GitHubServer):
    """The scenario's organisations by account list only: an export brings no organisation membership."""
    data = dict(github_scenario_config(start=date(2024, 1, 1)))
    data["organisations"] = [{k: v for k, v in org.items() if k != "github_orgs"} for org in data["organisations"]]
    data["database"] = {"url": db_url}
    data["sources"] = [{"name": "acme-github", "kind": "github", "repos": list(REPOS),
                        "base_url": f"{server.url}/api/v3", "token_env": "E2E_GITHUB_TOKEN"}]
    return parse_config(data, None)


def pages(server: GitHubServer, path: str, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a REST listing, as the API returns them."""
    url, found = f"{server.url}/api/v3{path}", []
    query = {"per_page": 30, **params}
    while url:
        reply = requests.get(url, params=query, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        reply.raise_for_status()
        found.append(reply.json())
        url, query = reply.links.get("next", {}).get("url"), None
    return found


def export(server: GitHubServer, folder: Path) -> list[Path]:
    """Each listing in another layout: pages, JSON Lines, one array, one file per pull request."""
    files = []
    for repo in REPOS:
        name = repo.replace("/", "-")
        issues = pages(server, f"/repos/{repo}/issues", state="all")
        files.append(folder / f"{name}-issues.json")
        files[-1].write_text(json.dumps(issues, indent=2), encoding="utf-8")
        files.append(folder / f"{name}-events.jsonl")
        files[-1].write_text("\n".join(json.dumps(e) for page in pages(server, f"/repos/{repo}/issues/events")
                                       for e in page), encoding="utf-8")
        files.append(folder / f"{name}-comments.json")
        files[-1].write_text(json.dumps([c for page in pages(server, f"/repos/{repo}/issues/comments") for c in page]),
                             encoding="utf-8")
        pulls = [p for page in pages(server, f"/repos/{repo}/pulls", state="all") for p in page]
        files.append(folder / f"{name}-pulls.json")
        files[-1].write_bytes(b"\xef\xbb\xbf" + json.dumps(pulls).encode())
        for pull in pulls:
            files.append(folder / f"{name}-pull-{pull['number']}-reviews.json")
            files[-1].write_text(json.dumps(pages(server, f"/repos/{repo}/pulls/{pull['number']}/reviews")),
                                 encoding="utf-16")
        # A commented issue's timeline too (its comments name the issue its events leave out):
        # its events repeat the repository listing's and count once.
        commented = next(i for page in issues for i in page if i["comments"] and "pull_request" not in i)
        timeline = pages(server, f"/repos/{repo}/issues/{commented['number']}/timeline")
        files.append(folder / f"{name}-timeline.json")
        files[-1].write_text(json.dumps(timeline), encoding="utf-8")
    return files


def attributions(sessions) -> set[tuple[Any, ...]]:
    """Every attribution of an issue or pull request, by ticket key and account (ids differ between runs)."""
    with sessions() as s:
        rows = s.execute(
            select(Ticket.key, Attribution.role, Account.tracker, Account.external_id, Attribution.organisation,
                   Attribution.side, Attribution.rule, Attribution.event_external_id, Attribution.at)
            .join(Ticket, Ticket.id == Attribution.ticket_id).join(Account, Account.id == Attribution.account_id)
            .where(Ticket.kind != "deployment")).all()
    return {tuple(row) for row in rows}


def wipe(engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))


def test_an_export_attributes_what_a_sync_does(sessions, engine, db_url, github, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("E2E_GITHUB_TOKEN", TOKEN)
    config = scenario_config(db_url, github)
    synced = sync_source(sessions, config, config.source("acme-github"))
    by_sync = attributions(sessions)
    with sessions() as s:
        ticket_count = len(s.scalars(select(Ticket.key).where(Ticket.kind != "deployment")).all())
    wipe(engine)

    files = export(github, tmp_path)
    result = import_github_files(sessions, config, files, "acme-github")
    assert (result.files, result.refused, result.warnings) == (len(files), [], [])
    assert result.tickets == ticket_count
    by_import = attributions(sessions)
    assert {row[1] for row in by_import} >= {"resolve", "test", "detect"}
    assert {row[6] for row in by_import} >= {"approves-linked-pr", "merges-linked-pr"}
    assert synced.attributions > 0 and len(by_import) > ticket_count
    assert by_import == by_sync

    # Importing the same files again changes nothing and stores nothing.
    again = import_github_files(sessions, config, files, "acme-github")
    assert (again.tickets, again.events) == (0, 0)
    assert attributions(sessions) == by_sync
