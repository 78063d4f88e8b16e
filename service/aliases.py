"""Keep what a run learnt about account ids, and fold accounts that were only another id.

A changelog value may name a user by an id that no user object explained yet (a Server user
key, a Cloud legacy name). Such a value gets an account of its own, under that id. When a
later issue, file or sync page pairs the id with its user, that account was never a person:
its events, tickets and acts move to the user's account, it disappears from `people`, and
the tickets it touched are attributed again. Aliases are stored, so every later import or
sync resolves the id at once (`connectors.jira_context.JiraUsers` starts from them).
"""
from __future__ import annotations

from typing import Iterable, Mapping

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from connectors.records import Account as AccountRecord
from service.directory import Directory
from service.models import Account, Attribution, Event, IdentityAction, Person, Ticket
from service.sql import ALIASES, chunks, clean, dialect_insert


def learn_aliases(session: Session, directory: Directory, tracker: str, learnt: Mapping[str, str],
                  conflicts: Iterable[str] = ()) -> list[int]:
    """Store `learnt` (id -> canonical id) and forget `conflicts` (ids two users claim); fold the
    accounts stored under a now-known alias. Returns the tickets to attribute again."""
    conflicts = sorted(set(conflicts))
    if learnt:
        rows = [{"tracker": tracker, "alias": clean(alias, 200), "external_id": clean(canonical, 200)}
                for alias, canonical in learnt.items()]
        insert = dialect_insert(session, ALIASES)
        session.execute(insert.on_conflict_do_update(index_elements=["tracker", "alias"],
                                                     set_={"external_id": insert.excluded.external_id}), rows)
    for chunk in chunks(conflicts, 500):
        session.execute(delete(ALIASES).where(ALIASES.c.tracker == tracker, ALIASES.c.alias.in_(chunk)))
    directory.add_aliases({f"{tracker}:{a}": f"{tracker}:{c}" for a, c in learnt.items()},
                          [f"{tracker}:{a}" for a in conflicts])
    folds = {f"{tracker}:{alias}": f"{tracker}:{canonical}" for alias, canonical in learnt.items()
             if alias != canonical and f"{tracker}:{alias}" in directory.by_ref}
    return fold(session, directory, folds) if folds else []


def fold(session: Session, directory: Directory, folds: Mapping[str, str]) -> list[int]:
    """Move everything of the accounts `folds` names (alias ref -> canonical ref) to the canonical
    accounts, then delete them; returns the tickets whose history or acts changed."""
    for alias, canonical in folds.items():
        if canonical not in directory.by_ref:
            phantom = directory.by_ref[alias]
            tracker, _, external_id = canonical.partition(":")
            directory.ensure(session, [AccountRecord(tracker, external_id, phantom.display_name, phantom.email)])
    moves = {directory.by_ref[alias].id: directory.by_ref[canonical].id for alias, canonical in folds.items()}
    phantoms = sorted(moves)
    touched: set[int] = set()
    for chunk in chunks(phantoms, 500):
        touched.update(session.scalars(select(Event.ticket_id).where(Event.actor_id.in_(chunk)).distinct()))
        touched.update(session.scalars(select(Attribution.ticket_id).where(Attribution.account_id.in_(chunk)).distinct()))
        touched.update(session.scalars(select(Ticket.id).where(
            or_(Ticket.reporter_id.in_(chunk), Ticket.assignee_id.in_(chunk)))))
    refs = sorted(folds)
    for chunk in chunks(refs, 500):
        touched.update(session.scalars(select(Event.ticket_id).where(
            Event.kind == "assign", or_(Event.from_value.in_(chunk), Event.to_value.in_(chunk))).distinct()))
    for phantom, account in moves.items():
        session.execute(update(Event).where(Event.actor_id == phantom).values(actor_id=account))
        session.execute(update(Ticket).where(Ticket.reporter_id == phantom).values(reporter_id=account))
        session.execute(update(Ticket).where(Ticket.assignee_id == phantom).values(assignee_id=account))
    for alias, canonical in folds.items():
        session.execute(update(Event).where(Event.kind == "assign", Event.from_value == alias).values(from_value=canonical))
        session.execute(update(Event).where(Event.kind == "assign", Event.to_value == alias).values(to_value=canonical))
        for column in (IdentityAction.account_a, IdentityAction.account_b):
            session.execute(update(IdentityAction).where(column == alias).values({column: canonical}))
    for chunk in chunks(phantoms, 500):
        session.execute(delete(Attribution).where(Attribution.account_id.in_(chunk)))
        people = set(session.scalars(select(Account.home_person_id).where(Account.id.in_(chunk))))
        people |= set(session.scalars(select(Account.person_id).where(Account.id.in_(chunk))))
        session.execute(delete(Account).where(Account.id.in_(chunk)))
        for person in people - {None}:
            still = session.scalar(select(Account.id).where(
                or_(Account.person_id == person, Account.home_person_id == person)).limit(1))
            if still is None:
                session.execute(delete(Person).where(Person.id == person))
    directory.reload(session)
    return sorted(touched)
