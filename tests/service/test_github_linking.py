"""GitHub tickets through the service: a pull request's review and merge count for the issue it fixes."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from connectors.github_parse import parse_issue
from connectors.records import Event, ParsedTicket
from service.store.models import Attribution, Ticket
from service.store.models import Event as StoredEvent
from tests.connectors.github_fakes import event, issue as listed_issue, pull_object
from tests.service.builders import at, parsed, ticket
from tests.service.test_store import ingest


def issue(*events: Event, updated: float = 10) -> ParsedTicket:
    t = replace(ticket(7, reporter="github:client-1", updated=updated), key="acme/shop#7", external_id="acme/shop#7",
                project="acme/shop", type_name="Issue", status="closed")
    return parsed(t, list(events))


def pull_request() -> ParsedTicket:
    t = replace(ticket(12, reporter="github:partner-1", kind="pull_request"), key="acme/shop#12",
                external_id="acme/shop#12", project="acme/shop", type_name="Pull request", status="merged")
    item = parsed(t, [Event("r501", "review", at(2), "github:reviewer", to_value="APPROVED"),
                      Event("e900", "merge", at(3), "github:partner-1", to_value="abc123")])
    return replace(item, links=("acme/shop#7",))


def roles_of(sessions, key: str) -> dict[str, tuple[str, str | None]]:
    with sessions() as s:
        rows = s.execute(select(Attribution.role, Attribution.rule, Attribution.event_external_id)
                         .join(Ticket, Ticket.id == Attribution.ticket_id).where(Ticket.key == key)).all()
    return {role: (rule, event) for role, rule, event in rows}


@pytest.mark.parametrize("order", ["issue-first", "pull-request-first", "same-page"])
def test_linked_pull_request_acts_count_for_the_issue(sessions, config, order: str) -> None:
    if order == "issue-first":
        ingest(sessions, config, [issue()])
        ingest(sessions, config, [pull_request()])
    elif order == "pull-request-first":
        ingest(sessions, config, [pull_request()])
        ingest(sessions, config, [issue()])
    else:
        ingest(sessions, config, [pull_request(), issue()])
    on_issue = roles_of(sessions, "acme/shop#7")
    assert on_issue["test"] == ("approves-linked-pr", "acme/shop#12:r501")
    assert on_issue["resolve"] == ("merges-linked-pr", "acme/shop#12:e900")
    on_pr = roles_of(sessions, "acme/shop#12")
    assert on_pr["test"] == ("approves", "r501") and on_pr["resolve"] == ("merges", "e900")


def test_github_labels_are_configurable(tmp_path) -> None:
    from service.config import ConfigError, load_config

    path = tmp_path / "c.toml"
    path.write_text('[github]\nverification_labels = ["QA ok"]\nacceptance_labels = ["signed off"]\n')
    rules = load_config(path, environ={}).rules
    assert rules.verification_labels == ("QA ok",) and rules.acceptance_labels == ("signed off",)
    path.write_text('[github]\nverification_labels = "QA ok"\n')
    with pytest.raises(ConfigError, match=r"\[github\] key 'verification_labels' must be a list of strings"):
        load_config(path, environ={})


def test_update_with_only_new_events_keeps_older_acts(sessions, config) -> None:
    # GitHub sends an updated issue with only the events since the bookmark: the stored
    # history (the verification label added earlier) still counts.
    ingest(sessions, config, [issue(Event("e1", "label", at(1), "github:partner-1", to_value="qa-passed"))])
    assert roles_of(sessions, "acme/shop#7")["test"] == ("verification-label", "e1")
    ingest(sessions, config, [issue(Event("c9", "comment", at(29), "github:client-1"), updated=30)])
    assert roles_of(sessions, "acme/shop#7")["test"] == ("verification-label", "e1")


def test_a_link_taken_back_takes_its_acts_along(sessions, config) -> None:
    ingest(sessions, config, [issue(), pull_request()])
    assert roles_of(sessions, "acme/shop#7")["test"][0] == "approves-linked-pr"
    edited = pull_request()
    edited = replace(edited, ticket=replace(edited.ticket, updated=at(40)), links=("acme/shop#8",))
    ingest(sessions, config, [edited])
    assert "test" not in roles_of(sessions, "acme/shop#7")


MERGED_AT = "2025-02-01T11:00:00Z"


def exported_pull_request(updated: str) -> ParsedTicket:
    """The pull request as the pulls API (an export) gives it: merged_by, and no issue events."""
    raw = pull_object(12, updated, merged_at=MERGED_AT, merged_by="partner-2", repo="acme/shop", body=None)
    return parse_issue(raw, "acme-github")


def synced_pull_request(updated: str) -> ParsedTicket:
    """The same pull request through the issues listing, with a `merged` event whose actor is someone else."""
    raw = listed_issue(12, updated, pull=True, repo="acme/shop")
    raw["pull_request"]["merged_at"] = MERGED_AT
    return parse_issue(raw, "acme-github", events=[event(900, 12, "merged", MERGED_AT, actor="partner-3")])


def merges_and_resolvers(sessions) -> tuple[str, int, list[str | None]]:
    with sessions() as s:
        kind = s.scalar(select(Ticket.kind).where(Ticket.key == "acme/shop#12"))
        merges = s.scalar(select(func.count()).select_from(StoredEvent).join(Ticket, Ticket.id == StoredEvent.ticket_id)
                          .where(Ticket.key == "acme/shop#12", StoredEvent.kind == "merge"))
        resolvers = s.scalars(select(Attribution.event_external_id).join(Ticket, Ticket.id == Attribution.ticket_id)
                              .where(Ticket.key == "acme/shop#12", Attribution.role == "resolve")).all()
    return kind, merges, list(resolvers)


@pytest.mark.parametrize("first, then", [
    pytest.param(exported_pull_request, synced_pull_request, id="export-then-sync"),
    pytest.param(synced_pull_request, exported_pull_request, id="sync-then-export"),
])
def test_a_merge_seen_by_the_pull_request_and_by_its_event_is_one_act(sessions, config, first, then) -> None:
    """Two sightings of one merge, naming two people, across two ingests: one merge, one resolve."""
    ingest(sessions, config, [first("2025-02-01T12:00:00Z")])
    assert merges_and_resolvers(sessions) == ("pull_request", 1, ["merged"])

    ingest(sessions, config, [then("2025-02-02T12:00:00Z")])
    assert merges_and_resolvers(sessions) == ("pull_request", 1, ["merged"])
