"""The database schema as SQLAlchemy 2.0 typed models; Alembic migrations mirror it. The trackers'
data is here; what the service keeps of its own work is in `service.store.operations`, whose
models are named here too, so that importing this module declares the whole schema."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from service.store.base import Base, UTCDateTime
from service.store.operations import ApiToken, Setting, SyncRun, SyncState, User, WebhookDelivery

__all__ = [
    "Account", "AccountAlias", "ApiToken", "Assignment", "Attribution", "Base", "Event", "GitHubMember",
    "IdentityAction", "Person", "RemovedEvent", "Setting", "SignalDay", "SignalRollup", "SignalTicket",
    "SyncRun", "SyncState", "Ticket", "TicketLink", "UTCDateTime", "User", "WebhookDelivery",
]


class Person(Base):
    """A human behind one or more tracker accounts."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))


class Account(Base):
    """A tracker account (Jira accountId or user name, GitHub login)."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("tracker", "external_id", name="uq_accounts_tracker_external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracker: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(300))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # The person created with the account; it returns there when an unmerge separates it.
    home_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", name="fk_accounts_home_person_id"))


class AccountAlias(Base):
    """An id of a tracker user besides, or as, its account's canonical id (`connectors.jira_context`).

    `kind` says which namespace `alias` lives in: `key` (a Jira Server user key -> the user's
    name, or its stand-in when no user object explained it), `name` (a Jira Cloud legacy user
    name -> the accountId), `self` (an id a user object used as its own; never folded into
    another), `conflict` (a legacy name two accounts claim; `external_id` is empty). Learnt by
    imports and syncs, so a changelog value names its user whatever issue taught the pairing.
    """

    __tablename__ = "account_aliases"
    __table_args__ = (UniqueConstraint("tracker", "kind", "alias", name="uq_account_aliases_tracker_kind_alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracker: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(10))
    alias: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str] = mapped_column(String(200))


class Ticket(Base):
    """A tracker ticket as of its latest `updated` copy."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_tickets_source_external_id"),
        Index("ix_tickets_updated", "updated", "id"),  # the ticket list, newest change first
        Index("ix_tickets_project_updated", "project", "updated", "id"),  # and one project's
        # Data quality on every report: the few incomplete and the closed tickets, without a scan;
        # and a project's incomplete ones (else SQLite reads every ticket of the project for them).
        Index("ix_tickets_incomplete", "id", sqlite_where=text("incomplete IS NOT NULL"),
              postgresql_where=text("incomplete IS NOT NULL")),
        Index("ix_tickets_incomplete_project", "project", "id", sqlite_where=text("incomplete IS NOT NULL"),
              postgresql_where=text("incomplete IS NOT NULL")),
        Index("ix_tickets_closed", "id", sqlite_where=text("phase IN ('done', 'deployed')"),
              postgresql_where=text("phase IN ('done', 'deployed')")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), index=True)
    project: Mapped[str] = mapped_column(String(200))
    type_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(200))
    phase: Mapped[str | None] = mapped_column(String(40))
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    updated: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved: Mapped[datetime | None] = mapped_column(UTCDateTime())
    url: Mapped[str | None] = mapped_column(Text)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    priority: Mapped[str | None] = mapped_column(String(100))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Jira issue ids repeat across sites: (source, external_id) must also match its site.
    site: Mapped[str | None] = mapped_column(String(300))
    resolution: Mapped[str | None] = mapped_column(String(200))
    # What the newest copy's own document said it left out ("changelog 100 of 140 entries"), or NULL.
    incomplete: Mapped[str | None] = mapped_column(Text)
    # When the tracker said the ticket was deleted (a Jira webhook): it leaves the reports, its history stays.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Event(Base):
    """One act on a ticket; (ticket, external_id) is stable so re-ingesting changes nothing."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("ticket_id", "external_id", name="uq_events_ticket_external_id"),
        # Each account's acts: the people listing's counts and the tickets an identity change touches.
        Index("ix_events_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    field: Mapped[str | None] = mapped_column(String(200))
    from_value: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)


class RemovedEvent(Base):
    """An act the tracker deleted (a comment), remembered so that no later copy brings it back.

    Keyed by the ticket's natural key rather than its row: the deletion may arrive before any copy
    of its ticket is stored (`service.store.tombstones`)."""

    __tablename__ = "removed_events"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    ticket_external_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_external_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Attribution(Base):
    """Who carried a role on a ticket, their side at that time, and the evidence for it."""

    __tablename__ = "attributions"
    __table_args__ = (
        UniqueConstraint("ticket_id", "role", "person_id", name="uq_attributions_ticket_role_person"),
        # Counts by role and side, the people who carried an area most (within dates, or a
        # project's tickets) and the tickets of a role's acts: read from the index alone.
        Index("ix_attributions_role_side_person_at", "role", "side", "person_id", "at", "ticket_id"),
        Index("ix_attributions_at", "at"),
        # The acts no organisation covers, by person, for every report's data quality.
        Index("ix_attributions_unknown_person", "person_id", sqlite_where=text("side = 'unknown'"),
              postgresql_where=text("side = 'unknown'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    organisation: Mapped[str | None] = mapped_column(String(200))
    side: Mapped[str] = mapped_column(String(10))
    # The evidence: (ticket_id, event_external_id) names one row of `events`. The natural key
    # rather than the row id lets a page be attributed without reading its events back.
    event_external_id: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    rule: Mapped[str] = mapped_column(String(60))
    explanation: Mapped[str] = mapped_column(Text)


class IdentityAction(Base):
    """A person's explicit `people merge` / `unmerge` of two accounts, replayed in order."""

    __tablename__ = "identity_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(10))  # merge | unmerge
    account_a: Mapped[str] = mapped_column(String(250))  # account refs, "jira:…", "github:…"
    account_b: Mapped[str] = mapped_column(String(250))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Assignment(Base):
    """An admin's word, from the people page or `people assign`: this account acted for this
    organisation from `since` to `until` (days, inclusive; open when empty). Read beside the
    configuration's `[[enrollments]]` (`service.store.affiliations`)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(250))  # an account ref, "jira:…", "github:…"
    organisation: Mapped[str] = mapped_column(String(200))
    since: Mapped[date | None] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(100))  # the user who assigned
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketLink(Base):
    """A ticket (a pull request) that says it works on another: "fixes #12", "PAY-123"."""

    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("ticket_id", "target_key", name="uq_ticket_links_ticket_target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    target_key: Mapped[str] = mapped_column(String(200), index=True)


class GitHubMember(Base):
    """Membership of a GitHub organisation, read at sync time for `github_orgs` affiliation."""

    __tablename__ = "github_members"

    org: Mapped[str] = mapped_column(String(200), primary_key=True)
    login: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SignalTicket(Base):
    """One ticket's part of the signal sums (`service.store.rollups`): what it added to
    `signal_days` and `signal_rollups`, kept so that it can be taken out again when the ticket
    is attributed anew. One row per ticket, whatever the number of its facts."""

    __tablename__ = "signal_tickets"
    __table_args__ = (
        # The closed tickets that credit nobody with the close, for the data-quality list.
        Index("ix_signal_tickets_uncredited", "ticket_id", sqlite_where=text("uncredited"),
              postgresql_where=text("uncredited")),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    project: Mapped[str] = mapped_column(String(200))
    uncredited: Mapped[bool] = mapped_column(Boolean)
    sums: Mapped[str] = mapped_column(Text)  # JSON: [[day, measure, partner, side, person, other, n, k, c], ...]


class SignalDay(Base):
    """Signal facts summed by day, with the key of `signal_rollups`: read for a month that a
    report's dates cut, and for a person's first days (onboarding). '' and 0 stand for "none"."""

    __tablename__ = "signal_days"
    __table_args__ = (
        UniqueConstraint("day", "measure", "partner", "project", "side", "person_id", "other_person_id",
                         name="uq_signal_days_key"),
        Index("ix_signal_days_measure_person_day", "measure", "person_id", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[str] = mapped_column(String(10))  # 'YYYY-MM-DD', UTC
    measure: Mapped[str] = mapped_column(String(40))
    partner: Mapped[str] = mapped_column(String(200))
    project: Mapped[str] = mapped_column(String(200))
    side: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[int] = mapped_column(Integer)
    other_person_id: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    k: Mapped[int] = mapped_column(Integer)
    c: Mapped[int] = mapped_column(Integer)  # facts summed here


class SignalRollup(Base):
    """Signal facts summed by measure, month, partner, project and (for person-level measures)
    person: what reports read, kept in step with the tickets' attributions, so a report costs the
    same at any number of tickets. '' and 0 stand for "none" in the key."""

    __tablename__ = "signal_rollups"
    __table_args__ = (
        UniqueConstraint("measure", "month", "partner", "project", "side", "person_id", "other_person_id",
                         name="uq_signal_rollups_key"),
        Index("ix_signal_rollups_month", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure: Mapped[str] = mapped_column(String(40))
    month: Mapped[str] = mapped_column(String(7))
    partner: Mapped[str] = mapped_column(String(200))
    project: Mapped[str] = mapped_column(String(200))
    side: Mapped[str] = mapped_column(String(10))
    person_id: Mapped[int] = mapped_column(Integer)
    other_person_id: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    k: Mapped[int] = mapped_column(Integer)
    c: Mapped[int] = mapped_column(Integer)  # facts summed here
