"""One person behind several accounts: merged by email, by [[people]] and by hand; counted once."""
from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from connectors.records import Account
from service.jobs.classify import Classifier
from service.cli import cli
from service.store.db import transaction
from service.jobs.classify import regroup
from service.store.identity import IdentityError, record
from service.store.models import Account as AccountRow
from service.store.models import Attribution, GitHubMember
from service.store.report import people, role_counts
from service.store.directory import Directory
from tests.service.builders import at, parsed, ticket, transition
from tests.service.test_store import ingest


def bug_tested_by(number: int, *testers: str, accounts: list[Account] | None = None):
    """A bug moved out of In QA once by each tester."""
    events = [transition(i, i, who, "In QA", "UAT") for i, who in enumerate(testers, 1)]
    return parsed(ticket(number), events, accounts)


def test_same_email_on_two_trackers_is_one_person(sessions, config) -> None:
    accounts = [Account("jira", "client-1", "Cleo"), Account("jira", "j-ola", "Ola", "ola@nordlys.example"),
                Account("github", "ola-dev", "Ola N", "OLA@nordlys.example")]
    ingest(sessions, config, [bug_tested_by(1, "jira:j-ola", "github:ola-dev", accounts=accounts)])
    with sessions() as s:
        persons = dict(s.execute(select(AccountRow.external_id, AccountRow.person_id)).all())
        counts = role_counts(s)
        listed = people(s, config)
    assert persons["j-ola"] == persons["ola-dev"] != persons["client-1"]
    assert counts["test"]["partner"] == 1  # two accounts, one person: one attribution
    ola = next(p for p in listed if "github:ola-dev" in p.accounts)
    assert set(ola.accounts) == {"jira:j-ola", "github:ola-dev"} and ola.organisation == "Nordlys"


def test_github_noreply_address_is_the_login(sessions, config) -> None:
    accounts = [Account("jira", "client-1", "Cleo"), Account("jira", "j-octo", "Octo", "583231+octocat@users.noreply.github.com"),
                Account("github", "octocat", "The Octocat")]
    ingest(sessions, config, [bug_tested_by(1, "jira:j-octo", "github:octocat", accounts=accounts)])
    with sessions() as s:
        persons = dict(s.execute(select(AccountRow.external_id, AccountRow.person_id)).all())
    assert persons["j-octo"] == persons["octocat"]


def test_people_in_config_merge_and_affiliate_through_the_listed_account(sessions, config) -> None:
    from service.config import PersonConfig

    merged = replace(config, people=(PersonConfig("Per Partner", ("jira:partner-1", "github:per")),))
    ingest(sessions, merged, [bug_tested_by(1, "github:per")])
    with sessions() as s:
        row = s.scalars(select(Attribution).where(Attribution.role == "test")).one()
    # github:per is listed nowhere, but it is the same person as jira:partner-1 (Nordlys).
    assert (row.side, row.organisation) == ("partner", "Nordlys")


def test_merge_then_unmerge_restores_both_attributions(sessions, config) -> None:
    ingest(sessions, config, [bug_tested_by(1, "jira:partner-1", "github:helper")])
    def tests() -> list[tuple[str, str]]:
        with sessions() as s:
            return sorted(s.execute(
                select(AccountRow.external_id, Attribution.side)
                .join(AccountRow, AccountRow.id == Attribution.account_id).where(Attribution.role == "test")).all())
    assert tests() == [("helper", "unknown"), ("partner-1", "partner")]
    with transaction(sessions) as s:
        record(s, "merge", "github:helper", "jira:partner-1")
        assert regroup(s, config, Classifier(config, Directory(s))) == 1
    assert tests() == [("partner-1", "partner")]
    with transaction(sessions) as s:
        record(s, "unmerge", "github:helper", "jira:partner-1")
        regroup(s, config, Classifier(config, Directory(s)))
    assert tests() == [("helper", "unknown"), ("partner-1", "partner")]


def test_merge_refuses_unknown_accounts(sessions, config) -> None:
    ingest(sessions, config, [bug_tested_by(1, "jira:partner-1")])
    with transaction(sessions) as s, pytest.raises(IdentityError, match="no account github:ghost"):
        record(s, "merge", "jira:partner-1", "github:ghost")


def test_github_organisation_membership_affiliates(sessions, config) -> None:
    from datetime import datetime, timezone

    with transaction(sessions) as s:
        s.add(GitHubMember(org="nordlys-dev", login="Octo", seen_at=datetime.now(timezone.utc)))
    with_orgs = replace(config, github_orgs={"Nordlys": ("nordlys-dev",)})
    ingest(sessions, with_orgs, [bug_tested_by(1, "github:octo")])
    with sessions() as s:
        row = s.scalars(select(Attribution).where(Attribution.role == "test")).one()
        listed = {p.account: p.organisation for p in people(s, with_orgs)}
        unaffiliated = [p.account for p in people(s, with_orgs, unaffiliated_only=True)]
    assert (row.side, row.organisation) == ("partner", "Nordlys")
    assert listed["github:octo"] == "Nordlys" and "github:octo" not in unaffiliated  # as the counts say


def test_cli_merge_and_unmerge(db_url, tmp_path, sessions, config) -> None:
    ingest(sessions, config, [bug_tested_by(1, "jira:partner-1", "github:helper")])
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    runner = CliRunner()
    out = runner.invoke(cli, ["--config", str(cfg), "people", "merge", "jira:partner-1", "github:helper"])
    assert out.exit_code == 0, out.output
    assert "merged jira:partner-1 and github:helper; attributed 1 tickets again" in out.output
    listed = runner.invoke(cli, ["--config", str(cfg), "people"]).output
    assert "+ github:helper" in listed or "+ jira:partner-1" in listed
    out = runner.invoke(cli, ["--config", str(cfg), "people", "unmerge", "github:helper", "jira:partner-1"])
    assert out.exit_code == 0 and "unmerged" in out.output


def test_people_entry_merges_even_when_its_first_account_never_acted(sessions, config) -> None:
    from service.config import PersonConfig

    merged = replace(config, people=(PersonConfig("Ola", ("jira:not-seen", "github:ola-a", "github:ola-b")),))
    ingest(sessions, merged, [bug_tested_by(1, "github:ola-a", "github:ola-b")])
    with sessions() as s:
        persons = dict(s.execute(select(AccountRow.external_id, AccountRow.person_id)).all())
        tests = s.scalars(select(Attribution).where(Attribution.role == "test")).all()
    assert persons["ola-a"] == persons["ola-b"]
    assert len(tests) == 1


def test_email_learnt_later_merges_during_ingest(sessions, config) -> None:
    ingest(sessions, config, [bug_tested_by(1, "jira:j-ola", "github:ola-dev", accounts=[
        Account("jira", "client-1"), Account("jira", "j-ola", "Ola"),
        Account("github", "ola-dev", "Ola N", "ola@nordlys.example")])])
    later = bug_tested_by(1, "jira:j-ola", "github:ola-dev", accounts=[
        Account("jira", "client-1"), Account("jira", "j-ola", "Ola", "ola@nordlys.example"),
        Account("github", "ola-dev", "Ola N", "ola@nordlys.example")])
    later = replace(later, ticket=replace(later.ticket, updated=at(20)))  # a newer copy of the ticket
    ingest(sessions, config, [later])
    with sessions() as s:
        persons = dict(s.execute(select(AccountRow.external_id, AccountRow.person_id)).all())
        tests = s.scalars(select(Attribution).where(Attribution.role == "test")).all()
    assert persons["j-ola"] == persons["ola-dev"]
    assert len(tests) == 1
