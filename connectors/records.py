"""The neutral records every connector produces and the rest of Partnerscope consumes.

They are plain frozen dataclasses: no database, no Flask. A connector turns one tracker
ticket (with its history) into one `ParsedTicket`; the store upserts it; analytics reads
`Ticket` and `Event` values back to attribute acts to people.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: Event kinds (DESIGN.md, "Neutral records").
EVENT_KINDS = (
    "created",
    "transition",
    "comment",
    "assign",
    "label",
    "field",
    "review",
    "merge",
    "deploy",
    "release",
)


def account_ref(tracker: str, external_id: str) -> str:
    """The `tracker:id` form configuration uses to name an account (`jira:5b10ac8d…`)."""
    return f"{tracker}:{external_id}"


@dataclass(frozen=True, slots=True)
class Account:
    """A tracker account: Jira accountId (Cloud) or user name (Server), GitHub login."""

    tracker: str  # "jira" | "github"
    external_id: str
    display_name: str | None = None
    email: str | None = None  # Jira Cloud usually hides it

    @property
    def ref(self) -> str:
        return account_ref(self.tracker, self.external_id)


@dataclass(frozen=True, slots=True)
class Ticket:
    """One tracker ticket as it stands at `updated`."""

    source: str  # configured source name, e.g. "acme-jira"
    external_id: str  # Jira issue id, GitHub issue node/number
    key: str  # "PROJ-12", "owner/repo#34"
    project: str
    type_name: str  # the tracker's own issue type ("Bug", "故事"); kind is derived
    kind: str  # bug | incident | improvement | feature | task | pull_request | other
    title: str
    status: str  # the tracker's status name
    created: datetime
    updated: datetime
    resolved: datetime | None = None
    url: str | None = None
    reporter: str | None = None  # account ref, None when anonymous/deleted
    assignee: str | None = None  # account ref
    priority: str | None = None
    labels: tuple[str, ...] = ()
    # The tracker site the ticket lives on (`https://acme.atlassian.net`): every Jira site reuses
    # small issue ids, so an id is only an identity together with its site.
    site: str | None = None
    resolution: str | None = None  # the tracker's resolution name ("Fixed", "Won't Fix", "not planned")


@dataclass(frozen=True, slots=True)
class Event:
    """One act on a ticket. `external_id` is stable so that re-ingesting changes nothing.

    `actor` is an account ref or None (anonymous, deleted user, automation without a user).
    For `transition` the values are status names; for `assign` account refs; for `field`
    `field` names the changed field (summary, description, priority, Rank, …).
    """

    external_id: str
    kind: str
    at: datetime
    actor: str | None
    field: str | None = None
    from_value: str | None = None
    to_value: str | None = None


@dataclass(slots=True)
class ParsedTicket:
    """Everything one tracker ticket yields: the ticket, the accounts it names, its events."""

    ticket: Ticket
    accounts: list[Account] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # Keys of the tickets this one says it works on: a pull request's "fixes #12" or a Jira key
    # in its branch ("owner/repo#12", "PAY-123").
    links: tuple[str, ...] = ()
    # What the tracker's own document says is left out ("changelog 100 of 140 entries"): acts
    # in the missing part are unknown, so the ticket is flagged rather than taken as whole.
    incomplete: tuple[str, ...] = ()
    # A copy that holds one change only (a webhook delivery): it says nothing of the rest of the
    # ticket's history, so it neither clears nor sets the stored ticket's `incomplete` flag.
    partial: bool = False
