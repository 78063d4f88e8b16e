"""Attributions one by one: the acts every number of the report counts, each with its ticket,
person, rule and evidence sentence, for the API's drill-down below the ticket list.

The filters are the ticket list's (`service.store.tickets`), applied to each act rather than to
its ticket, plus one ticket and one person. A person is named by an account ref, as the people
list names them, and means every act of that person under any of their merged accounts: the
report counts a person once per ticket and role, whichever account acted.

Pages hold `PAGE` acts in the order they happened, the row id breaking ties so that a page
never repeats or skips a row. That order is the `at` index's own (SQLite ends each index entry
with the row id), so a page reads its offset and `PAGE + 1` entries, never sorts the table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.report import FilterError
from service.store.sql import ACCOUNT_REF, ACCOUNTS, ATTRIBUTIONS, PEOPLE, TICKETS
from service.store.tickets import PAGE, PERSON, TicketFilters, act_conditions, ticket_conditions
from service.terminal import is_unsafe

ID_MAX = 2_147_483_647  # the largest row id every database stores (a 32-bit integer)
TRACKER_MAX, EXTERNAL_ID_MAX = 20, 200  # the lengths of accounts.tracker and accounts.external_id


@dataclass(frozen=True)
class AttributionFilters:
    """Which acts a page lists: the ticket list's filters, one ticket, one person by an account."""

    acts: TicketFilters = field(default_factory=TicketFilters)
    ticket: int | None = None
    account: str | None = None  # an account ref, `tracker:id`

    def __post_init__(self) -> None:
        if self.ticket is not None and not 1 <= self.ticket <= ID_MAX:
            raise FilterError(f"'ticket' must be a ticket id, a whole number from 1 to {ID_MAX}.")
        if self.account is not None:
            tracker, _, external_id = self.account.partition(":")
            if (not tracker or not external_id or len(tracker) > TRACKER_MAX or len(external_id) > EXTERNAL_ID_MAX
                    or any(map(is_unsafe, self.account))):
                raise FilterError("'account' must be an account like jira:5b10ac8d or github:octocat, with an id "
                                  f"of at most {EXTERNAL_ID_MAX} characters and no control characters.")


@dataclass(frozen=True)
class AttributionRow:
    ticket: int
    key: str
    role: str
    side: str
    organisation: str | None
    account: str  # the ref of the account that acted
    person: str
    at: datetime
    rule: str
    evidence: str


def attribution_list(session: Session, chosen: AttributionFilters) -> tuple[list[AttributionRow], bool]:
    """One page of attributed acts (oldest first) and whether another page follows."""
    a, t, acc = ATTRIBUTIONS.c, TICKETS.c, ACCOUNTS.c
    where: list[Any] = [*act_conditions(chosen.acts), *ticket_conditions(chosen.acts)]
    if chosen.ticket is not None:
        where.append(a.ticket_id == chosen.ticket)
    if chosen.account is not None:
        tracker, _, external_id = chosen.account.partition(":")
        person = session.scalar(select(acc.person_id).where(acc.tracker == tracker, acc.external_id == external_id))
        if person is None:  # no such account: no act, and no walk through every act to find none
            return [], False
        where.append(a.person_id == person)
    rows = session.execute(
        select(a.ticket_id, t.key, a.role, a.side, a.organisation, ACCOUNT_REF, PERSON,
               a.at, a.rule, a.explanation)
        .join(TICKETS, t.id == a.ticket_id).join(ACCOUNTS, acc.id == a.account_id)
        .outerjoin(PEOPLE, PEOPLE.c.id == a.person_id)
        .where(*where).order_by(a.at, a.id).offset((chosen.acts.page - 1) * PAGE).limit(PAGE + 1)).all()
    return [AttributionRow(*row) for row in rows[:PAGE]], len(rows) > PAGE
