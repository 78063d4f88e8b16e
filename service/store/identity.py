"""One person behind several accounts: merges by equal email, by `[[people]]`, and by hand.

People are recomputed from scratch, so every merge is reversible and nothing is lost: each
account keeps its own history and the person it was created with (`home_person_id`), and a
person is just the group its accounts currently form. The order of evidence: equal email
addresses, then `[[people]]` in the configuration, then `people merge` / `unmerge` replayed
in the order they were given (so a person's explicit word has the last say).

An email address is evidence only when it identifies one user. Real sites give many users one
placeholder (`devnull@…`, `noreply@…`, a team mailbox): the same address on two accounts of
one tracker is no identity, and accounts that configuration assigns to different
organisations are never merged automatically, since one side's acts would count for the other.
Such merges are refused and listed (`RefusedMerge`) for an admin to decide with `people merge`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from connectors.github_parse import login_from_noreply
from service.config import Config
from connectors.jira_context import KEY, NAME
from service.store.models import Account, AccountAlias, Attribution, Event, IdentityAction, Person
from service.store.directory import Directory
from service.store.sql import ACCOUNT_REF


class IdentityError(Exception):
    """A merge or unmerge that cannot be done; the message says why in one sentence."""


@dataclass(frozen=True, slots=True)
class RefusedMerge:
    """Accounts with one email address that were not made one person, and why."""

    email: str
    accounts: tuple[str, ...]
    reason: str


@dataclass(slots=True)
class _Row:
    id: int
    ref: str
    email: str | None
    home: int
    person: int


def _rows(session: Session) -> list[_Row]:
    return [
        _Row(a.id, f"{a.tracker}:{a.external_id}", (a.email or "").strip().lower() or None,
             a.home_person_id or a.person_id, a.person_id)
        for a in session.execute(select(Account.id, Account.tracker, Account.external_id, Account.email,
                                        Account.home_person_id, Account.person_id))
    ]


def _stored_ref(session: Session, rows: list[_Row]) -> Callable[[str], str]:
    """Configuration may name an account by any of its ids (a Server key, a Cloud legacy name):
    the ref of the account each configured ref means."""
    own = {r.ref for r in rows}
    aliases = {f"{tracker}:{alias}": f"{tracker}:{external_id}" for tracker, alias, external_id in session.execute(
        select(AccountAlias.tracker, AccountAlias.alias, AccountAlias.external_id)
        .where(AccountAlias.kind.in_((KEY, NAME))))}
    return lambda ref: ref if ref in own else aliases.get(ref, ref)


def _configured_organisations(config: Config, stored: Callable[[str], str]) -> dict[str, set[str]]:
    """Account ref (case-folded) -> the organisations configuration assigns it to, at any time."""
    assigned: dict[str, set[str]] = {}
    for organisation in config.organisations:
        for ref in organisation.accounts:
            assigned.setdefault(stored(ref.strip()).casefold(), set()).add(organisation.name)
    for enrollment in config.enrollments:
        if "@" not in enrollment.account:
            assigned.setdefault(stored(enrollment.account.strip()).casefold(), set()).add(enrollment.organisation)
    return assigned


def email_merges(rows: list[_Row], config: Config,
                 stored: Callable[[str], str] = lambda ref: ref) -> tuple[list[list[str]], list[RefusedMerge]]:
    """The groups of accounts equal email addresses make one person, and the merges refused."""
    by_email: dict[str, list[str]] = {}
    for r in rows:
        if r.email:
            by_email.setdefault(r.email, []).append(r.ref)
    assigned = _configured_organisations(config, stored)
    groups, refused = [], []
    for email, refs in by_email.items():
        if len(refs) < 2:
            continue
        per_tracker: dict[str, int] = {}
        for ref in refs:
            tracker = ref.partition(":")[0]
            per_tracker[tracker] = per_tracker.get(tracker, 0) + 1
        shared = sorted(t for t, n in per_tracker.items() if n > 1)
        organisations = {frozenset(assigned[ref.casefold()]) for ref in refs if ref.casefold() in assigned}
        if shared:
            refused.append(RefusedMerge(email, tuple(sorted(refs)),
                                        f"the address is shared by {per_tracker[shared[0]]} {shared[0]} accounts, "
                                        "so it names no one user"))
        elif len(organisations) > 1:
            names = sorted({name for group in organisations for name in group})
            refused.append(RefusedMerge(email, tuple(sorted(refs)),
                                        f"configuration assigns these accounts to different organisations "
                                        f"({', '.join(names)})"))
        else:
            groups.append(refs)
    return groups, refused


def refused_merges(session: Session, config: Config) -> list[RefusedMerge]:
    """Merges by email that were refused, unless `people merge` made them anyway."""
    manual = {frozenset((a.account_a, a.account_b))
              for a in session.scalars(select(IdentityAction).where(IdentityAction.action == "merge"))}
    rows = _rows(session)
    _, refused = email_merges(rows, config, _stored_ref(session, rows))
    return [r for r in refused if not any(pair <= set(r.accounts) for pair in manual)]


def recompute_people(session: Session, config: Config, directory: Directory | None = None) -> set[int]:
    """Regroup accounts into people; returns the people that gained or lost an account."""
    rows = _rows(session)
    stored = _stored_ref(session, rows)
    group: dict[str, set[str]] = {r.ref: {r.ref} for r in rows}

    def join(a: str, b: str) -> None:
        if a in group and b in group and group[a] is not group[b]:
            merged = group[a] | group[b]
            for ref in merged:
                group[ref] = merged

    merged, _ = email_merges(rows, config, stored)
    for refs in merged:
        for ref in refs[1:]:
            join(refs[0], ref)
    for r in rows:
        login = login_from_noreply(r.email)  # 123+octocat@users.noreply.github.com is github:octocat
        if login:
            join(f"github:{login}", r.ref)
    names: dict[str, str] = {}
    for person in config.people:
        accounts = [stored(ref) for ref in person.accounts]
        known = [ref for ref in accounts if ref in group]  # some may not have acted yet
        for ref in known:
            join(known[0], ref)
        for ref in accounts:
            names[ref] = person.name
    for action in session.scalars(select(IdentityAction).order_by(IdentityAction.id)):
        if action.action == "merge":
            join(action.account_a, action.account_b)
        elif action.account_a in group and action.account_b in group[action.account_a]:
            group[action.account_a].discard(action.account_a)
            group[action.account_a] = {action.account_a}

    home = {r.ref: r.home for r in rows}
    changed = []
    touched: set[int] = set()
    for r in rows:
        person = min(home[ref] for ref in group[r.ref])
        if person != r.person:
            changed.append({"b_id": r.id, "person_id": person})
            touched.update((person, r.person))
    if changed:
        session.connection().execute(update(Account).where(Account.id == bindparam("b_id")), changed)
    for ref, name in names.items():
        if ref in home:
            person = min(home[m] for m in group[ref])
            session.execute(update(Person).where(Person.id == person).values(name=name))
    if directory is not None:
        directory.reload(session)
    return touched


def affected_tickets(session: Session, person_ids: set[int]) -> list[int]:
    """Tickets attributed to these people or with acts of theirs: after a regroup their
    attributions and signal shares are made again (a merge may fold two rows into one; an unmerge
    may bring back an act a merge had folded; a comment pair names the people of its time)."""
    ids: set[int] = set()
    people = sorted(person_ids)
    for start in range(0, len(people), 500):
        chunk = people[start:start + 500]
        ids.update(session.scalars(select(Attribution.ticket_id).where(Attribution.person_id.in_(chunk)).distinct()))
        accounts = select(Account.id).where(Account.person_id.in_(chunk))
        ids.update(session.scalars(select(Event.ticket_id).where(Event.actor_id.in_(accounts)).distinct()))
    return sorted(ids)


def seen_accounts(session: Session, refs: list[str]) -> set[str]:
    """Those of `refs` that name a stored account."""
    return set(session.scalars(select(ACCOUNT_REF).where(ACCOUNT_REF.in_(refs))))


def record(session: Session, action: str, a: str, b: str) -> None:
    """Record a `people merge` or `unmerge` of two known accounts."""
    if a == b:
        raise IdentityError(f"cannot {action} {a} with itself.")
    known = seen_accounts(session, [a, b])
    for ref in (a, b):
        if ref not in known:
            raise IdentityError(f"no account {ref} has been seen; write accounts as they appear in `partnerscope people`.")
    session.add(IdentityAction(action=action, account_a=a, account_b=b, at=datetime.now(timezone.utc)))
    session.flush()
