"""Assignments: an admin's word that an account acted for an organisation, for a span of days.

They are enrollments kept in the database rather than the configuration, so an admin can settle an
unaffiliated account from the people page without editing `config.toml`. An assignment names a
known account and a configured organisation. Where spans overlap, the one that starts later wins,
as between enrollments; at the same start the newest assignment, then the configuration
(`service.store.affiliations` reads them newest first, before the configured ones).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from analytics.affiliation import Enrollment
from service.config import Config
from service.store.identity import seen_accounts
from service.store.models import Assignment
from service.terminal import is_unsafe

NAME_MAX = 100  # the length of assignments.by
ACCOUNT_MAX = 250  # the length of assignments.account


class AssignmentError(ValueError):
    """An assignment that cannot be made; the message says why in one sentence."""


@dataclass(frozen=True, slots=True)
class Assigned:
    id: int
    account: str
    organisation: str
    since: date | None
    until: date | None
    by: str
    at: datetime


def assign(session: Session, config: Config, account: str, organisation: str, since: date | None,
           until: date | None, by: str) -> Assignment:
    """Record that `account` acted for `organisation` from `since` to `until` (inclusive, open when None)."""
    known = {o.name for o in config.organisations}
    if organisation not in known:
        raise AssignmentError(f"there is no organisation {organisation[:80]!r}; the configured ones are "
                              f"{', '.join(sorted(known)) or 'none'}.")
    if since and until and until < since:
        raise AssignmentError(f"'until' ({until.isoformat()}) is before 'since' ({since.isoformat()}).")
    plausible = account and len(account) <= ACCOUNT_MAX and not any(map(is_unsafe, account))
    if not plausible or not seen_accounts(session, [account]):
        raise AssignmentError(f"no account {account[:80]!r} has been seen; write accounts as "
                              "`partnerscope people` lists them.")
    row = Assignment(account=account, organisation=organisation, since=since, until=until, by=by[:NAME_MAX],
                     at=datetime.now(timezone.utc))
    session.add(row)
    session.flush()
    return row


def unassign(session: Session, assignment_id: int) -> Assignment:
    """Take an assignment back; returns it as it was."""
    row = session.get(Assignment, assignment_id)
    if row is None:
        raise AssignmentError(f"there is no assignment {assignment_id}.")
    session.execute(delete(Assignment).where(Assignment.id == assignment_id))
    return row


def assignments(session: Session) -> list[Assigned]:
    """Every assignment, newest first."""
    rows = session.scalars(select(Assignment).order_by(Assignment.id.desc()))
    return [Assigned(r.id, r.account, r.organisation, r.since, r.until, r.by, r.at) for r in rows]


def as_enrollments(session: Session, config: Config) -> list[Enrollment]:
    """The assignments as enrollments, newest first, leaving out any whose organisation the
    configuration no longer defines (the people page lists those for an admin to take back)."""
    known = {o.name for o in config.organisations}
    return [Enrollment(a.account, a.organisation, a.since, a.until) for a in assignments(session)
            if a.organisation in known]
