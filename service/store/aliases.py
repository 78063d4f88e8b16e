"""Keep what a run learnt about user ids, and fold stand-in accounts into the users they name.

A changelog value may name a user by an id that no user object explained yet: a Server user
key (stored as the stand-in `key:<key>`) or a Cloud legacy name. Such a value gets an account
of its own. When a later issue, file or sync page pairs the id with its user, that account was
never a person: its events, tickets and acts move to the user's account, it disappears from
`people`, and the tickets it touched are attributed again. An account that some user object
used as its own id is never folded, and a legacy name two accounts claim folds nothing: both
are someone. What was learnt is stored, so every later import or sync resolves the id at once.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.orm import Session

from connectors.jira_context import CONFLICT, KEY, NAME, STAND_IN
from connectors.records import Account as AccountRecord
from service.store.directory import Directory
from service.store.models import Account, Attribution, Event, IdentityAction, Person, Ticket
from service.store.sql import ALIASES, chunks, clean, dialect_insert


def learn_aliases(session: Session, directory: Directory, tracker: str, learnt: Mapping[tuple[str, str], str],
                  conflicts: Iterable[str] = (), own: set[str] | frozenset[str] = frozenset()) -> list[int]:
    """Store `learnt` ((kind, id) -> canonical id) and `conflicts` (legacy names two accounts claim);
    fold the stand-in accounts that now have a user. Returns the tickets to attribute again."""
    conflicts = sorted(set(conflicts))
    rows = [{"tracker": tracker, "kind": kind, "alias": clean(alias, 200), "external_id": clean(canonical, 200)}
            for (kind, alias), canonical in learnt.items()]
    rows += [{"tracker": tracker, "kind": CONFLICT, "alias": clean(alias, 200), "external_id": ""} for alias in conflicts]
    if rows:
        insert = dialect_insert(session, ALIASES)
        session.execute(insert.on_conflict_do_update(index_elements=["tracker", "kind", "alias"],
                                                     set_={"external_id": insert.excluded.external_id}), rows)
    for chunk in chunks(conflicts, 500):
        session.execute(delete(ALIASES).where(ALIASES.c.tracker == tracker, ALIASES.c.kind == NAME,
                                              ALIASES.c.alias.in_(chunk)))
    directory.add_aliases({f"{tracker}:{alias}": f"{tracker}:{canonical}" for (kind, alias), canonical in learnt.items()
                           if kind in (KEY, NAME) and not canonical.startswith(STAND_IN)},
                          [f"{tracker}:{alias}" for alias in conflicts])
    folds: dict[str, str] = {}
    for (kind, alias), canonical in learnt.items():
        if canonical.startswith(STAND_IN):
            continue
        stand_in = f"{tracker}:{STAND_IN}{alias}" if kind == KEY else f"{tracker}:{alias}" if kind == NAME else None
        if stand_in and stand_in in directory.by_ref and (kind == KEY or alias not in own):
            folds[stand_in] = f"{tracker}:{canonical}"
    return fold(session, directory, folds) if folds else []


def fold(session: Session, directory: Directory, folds: Mapping[str, str]) -> list[int]:
    """Move everything of the accounts `folds` names (stand-in ref -> user ref) to the users'
    accounts, then delete them; returns the tickets whose history or acts changed.

    One statement per table for all of a page's folds: none of these columns is indexed, so
    each statement is a scan, and a scan per fold would cost seconds per alias on a large database.
    """
    for alias, canonical in folds.items():
        if canonical not in directory.by_ref:
            phantom = directory.by_ref[alias]
            tracker, _, external_id = canonical.partition(":")
            directory.ensure(session, [AccountRecord(tracker, external_id, phantom.display_name, phantom.email)])
    moves = {directory.by_ref[alias].id: directory.by_ref[canonical].id for alias, canonical in folds.items()}
    phantoms, refs = sorted(moves), sorted(folds)
    touched: set[int] = set()
    for ids in chunks(phantoms, 500):
        touched.update(session.scalars(select(Event.ticket_id).where(Event.actor_id.in_(ids)).distinct()))
        touched.update(session.scalars(select(Attribution.ticket_id).where(Attribution.account_id.in_(ids)).distinct()))
        touched.update(session.scalars(select(Ticket.id).where(or_(Ticket.reporter_id.in_(ids), Ticket.assignee_id.in_(ids)))))
        moved = {k: moves[k] for k in ids}
        for column in (Event.actor_id, Ticket.reporter_id, Ticket.assignee_id):
            session.execute(update(column.class_).where(column.in_(ids)).values({column: case(moved, value=column)}))
    for values in chunks(refs, 500):
        renamed = {k: folds[k] for k in values}
        touched.update(session.scalars(select(Event.ticket_id).where(
            Event.kind == "assign", or_(Event.from_value.in_(values), Event.to_value.in_(values))).distinct()))
        for column in (Event.from_value, Event.to_value):
            session.execute(update(Event).where(Event.kind == "assign", column.in_(values))
                            .values({column: case(renamed, value=column)}))
        for column in (IdentityAction.account_a, IdentityAction.account_b):
            session.execute(update(IdentityAction).where(column.in_(values)).values({column: case(renamed, value=column)}))
    for ids in chunks(phantoms, 500):
        session.execute(delete(Attribution).where(Attribution.account_id.in_(ids)))
        people = set(session.scalars(select(Account.home_person_id).where(Account.id.in_(ids))))
        people |= set(session.scalars(select(Account.person_id).where(Account.id.in_(ids))))
        session.execute(delete(Account).where(Account.id.in_(ids)))
        for person in people - {None}:
            still = session.scalar(select(Account.id).where(
                or_(Account.person_id == person, Account.home_person_id == person)).limit(1))
            if still is None:
                session.execute(delete(Person).where(Person.id == person))
    directory.reload(session)
    return sorted(touched)
