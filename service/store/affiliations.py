"""Which organisation an account acted for at the time of an act, with everything the store knows.

`analytics.affiliation` answers from configuration alone (enrollments, account lists, email
domains). The store knows more: the assignments an admin made (`service.store.assignments`), an account's other ids (configuration may name a Jira Cloud
account by its legacy user name, a Server user by its key), the other accounts of the same
person (a GitHub login merged with a listed Jira account), `[[people]]` entries whose accounts
have not acted yet, and the members of GitHub organisations read at sync time. Attribution and
the `people` listing both ask here, so they never disagree.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.affiliation import Affiliation, Affiliator
from service.config import Config
from service.store.assignments import as_enrollments
from service.store.directory import Directory, KnownAccount
from service.store.models import GitHubMember


class Affiliations:
    """Answers `of(session, account, at)` for one run's configuration and accounts."""

    def __init__(self, config: Config, directory: Directory) -> None:
        self.config = config
        self.directory = directory
        self._affiliator: Affiliator | None = None  # configuration and assignments, read at the first act
        self._members: dict[str, Affiliation] | None = None  # GitHub login -> organisation
        # [[people]] groups name accounts that may not have acted (yet): still the same person.
        self._aliases = {ref: person.accounts for person in config.people for ref in person.accounts}

    def of(self, session: Session, known: KnownAccount, at: Any) -> Affiliation:
        """The acting account's affiliation at `at`; failing that, that of another id of the account;
        failing that, that of another account of the same person (or of its `[[people]]` entry);
        failing that, GitHub organisation membership."""
        affiliate = self._affiliator_of(session).affiliate
        aff = affiliate(known.ref, known.email, at)
        if aff.side != "unknown":
            return aff
        for alias in self.directory.aliases_of(known.ref):
            aff = affiliate(alias, None, at)
            if aff.side != "unknown":
                return aff
        accounts = self.directory.accounts_of(known.person_id)
        for other in accounts:
            if other is not known:
                aff = affiliate(other.ref, other.email, at)
                if aff.side != "unknown":
                    return aff
        for alias in self._aliases.get(known.ref, ()):
            aff = affiliate(alias, None, at)
            if aff.side != "unknown":
                return aff
        members = self._github_members(session)
        for account in accounts or [known]:
            tracker, _, login = account.ref.partition(":")
            if tracker == "github" and login.lower() in members:
                return members[login.lower()]
        return aff

    def refresh(self) -> None:
        """Read the assignments again at the next act (an admin may have assigned since)."""
        self._affiliator = None

    def _affiliator_of(self, session: Session) -> Affiliator:
        if self._affiliator is None:
            stored = as_enrollments(session, self.config)
            self._affiliator = (Affiliator(self.config.organisations, [*stored, *self.config.enrollments])
                                if stored else self.config.affiliator())
        return self._affiliator

    def _github_members(self, session: Session) -> dict[str, Affiliation]:
        if self._members is None:
            self._members = {}
            side_of = {o.name: o.side for o in self.config.organisations}
            organisation_of = {gh.lower(): name for name, orgs in self.config.github_orgs.items() for gh in orgs}
            if organisation_of:
                for org, login in session.execute(select(GitHubMember.org, GitHubMember.login)):
                    name = organisation_of.get(org.lower())
                    if name:
                        self._members.setdefault(login.lower(), Affiliation(name, side_of[name], "github_org"))
        return self._members
