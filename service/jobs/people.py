"""An admin's identity changes, from the people page and the `people` commands: each is recorded,
then every ticket it touches is attributed again in the same transaction, so the numbers never
show the change half made."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config import Config
from service.jobs.classify import Classifier, regroup
from service.store.assignments import assign, unassign
from service.store.directory import Directory
from service.store.identity import affected_tickets, record
from service.store.sql import ACCOUNT_REF, ACCOUNTS


def assign_account(session: Session, config: Config, account: str, organisation: str, since: date | None,
                   until: date | None, by: str) -> int:
    """Assign `account` to `organisation` for the span; returns how many tickets were attributed again."""
    assign(session, config, account, organisation, since, until, by)
    return _reattribute(session, config, account)


def unassign_account(session: Session, config: Config, assignment_id: int) -> tuple[str, int]:
    """Take an assignment back; returns its account and how many tickets were attributed again."""
    row = unassign(session, assignment_id)
    return row.account, _reattribute(session, config, row.account)


def regroup_accounts(session: Session, config: Config, action: str, a: str, b: str) -> int:
    """`merge` or `unmerge` two accounts; returns how many tickets were attributed again."""
    record(session, action, a, b)
    return regroup(session, config, Classifier(config, Directory(session)))


def _reattribute(session: Session, config: Config, account: str) -> int:
    person = session.scalar(select(ACCOUNTS.c.person_id).where(ACCOUNT_REF == account))
    tickets = affected_tickets(session, {person}) if person is not None else []
    Classifier(config, Directory(session)).reclassify(session, tickets)
    return len(tickets)
