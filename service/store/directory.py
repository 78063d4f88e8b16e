"""Tracker accounts by ref and by row id, loaded once per run and kept current as accounts arrive."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from connectors.jira_context import KEY, NAME, STAND_IN, JiraContext, JiraUsers
from connectors.records import Account as AccountRecord
from service.store.sql import ACCOUNTS, ALIASES, PEOPLE, clean, dialect_insert

@dataclass(slots=True)
class KnownAccount:
    id: int
    person_id: int
    ref: str
    display_name: str | None
    email: str | None


class Directory:
    """Account ids by ref and by id, loaded once per run and kept current as accounts arrive."""

    def __init__(self, session: Session) -> None:
        self.by_ref: dict[str, KnownAccount] = {}
        self.by_id: dict[int, KnownAccount] = {}
        self.aliases: dict[str, str] = {}  # alias ref -> canonical ref ("jira:JIRAUSER10101" -> "jira:k.olsen")
        self.reload(session)

    def reload(self, session: Session) -> None:
        """Read every account again (after people were regrouped)."""
        self.by_ref.clear()
        self.by_id.clear()
        self._siblings: dict[int, list[KnownAccount]] | None = None
        rows = session.execute(
            select(ACCOUNTS.c.id, ACCOUNTS.c.person_id, ACCOUNTS.c.tracker, ACCOUNTS.c.external_id,
                   ACCOUNTS.c.display_name, ACCOUNTS.c.email)
        )
        for row in rows:
            self._remember(KnownAccount(row.id, row.person_id, f"{row.tracker}:{row.external_id}",
                                        row.display_name, row.email))
        self._aliases_by_ref: dict[str, list[str]] | None = None
        # Only for what configuration names: a user's other ids (key, legacy name) -> its account.
        self.aliases = {
            f"{tracker}:{alias}": f"{tracker}:{external_id}"
            for tracker, alias, external_id in session.execute(
                select(ALIASES.c.tracker, ALIASES.c.alias, ALIASES.c.external_id)
                .where(ALIASES.c.kind.in_((KEY, NAME))))
            if alias != external_id and not external_id.startswith(STAND_IN)
        }

    def canonical(self, ref: str) -> str:
        """The account a ref from configuration names: an account's own ref, or one of its other ids
        (a Server user key, a Cloud legacy name). Tracker payloads are resolved by their parsers."""
        return ref if ref in self.by_ref else self.aliases.get(ref, ref)

    def aliases_of(self, ref: str) -> list[str]:
        """The other refs of an account (what configuration may name it by)."""
        if self._aliases_by_ref is None:
            self._aliases_by_ref = {}
            for alias, canonical in self.aliases.items():
                self._aliases_by_ref.setdefault(canonical, []).append(alias)
        return self._aliases_by_ref.get(ref, [])

    def add_aliases(self, aliases: dict[str, str], dropped: Iterable[str] = ()) -> None:
        """Aliases just stored (ref -> ref), and those no longer trusted."""
        for alias, canonical in aliases.items():
            if alias != canonical:
                self.aliases[alias] = canonical
        for alias in dropped:
            self.aliases.pop(alias, None)
        self._aliases_by_ref = None


    def _remember(self, known: KnownAccount) -> None:
        self.by_ref[known.ref] = known
        self.by_id[known.id] = known
        self._siblings = None

    def accounts_of(self, person_id: int) -> list[KnownAccount]:
        """Every account of one person (one when nothing was merged)."""
        if self._siblings is None:
            self._siblings = {}
            for known in self.by_id.values():
                self._siblings.setdefault(known.person_id, []).append(known)
        return self._siblings.get(person_id, [])

    def id_of(self, ref: str | None) -> int | None:
        known = self.by_ref.get(ref) if ref else None
        return known.id if known else None

    def ensure(self, session: Session, accounts: Iterable[AccountRecord]) -> int:
        """Insert accounts not seen before (each with a person of its own); refresh names and emails.
        Returns how many accounts are new or have a new email: people may need regrouping."""
        incoming: dict[str, AccountRecord] = {}
        for account in accounts:
            account = _clean_account(account, account.ref)
            seen = incoming.get(account.ref)
            incoming[account.ref] = _richer(seen, account) if seen else account
        new = [a for ref, a in incoming.items() if ref not in self.by_ref]
        changed = []
        new_emails = 0  # an email learnt later may make two accounts one person
        for ref, account in incoming.items():
            known = self.by_ref.get(ref)
            if known and ((account.display_name and account.display_name != known.display_name)
                          or (account.email and account.email != known.email)):
                new_emails += bool(account.email and account.email != known.email)
                known.display_name = account.display_name or known.display_name
                known.email = account.email or known.email
                changed.append({"b_id": known.id, "display_name": known.display_name, "email": known.email})
        if changed:
            session.connection().execute(
                update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("b_id")),
                changed,
            )
        if not new:
            return new_emails
        person_ids = session.execute(
            PEOPLE.insert().returning(PEOPLE.c.id, sort_by_parameter_order=True),
            [{"name": a.display_name} for a in new],
        ).scalars().all()
        session.execute(
            dialect_insert(session, ACCOUNTS).on_conflict_do_nothing(),
            [
                {"tracker": a.tracker, "external_id": a.external_id, "display_name": a.display_name,
                 "email": a.email, "person_id": pid, "home_person_id": pid}
                for a, pid in zip(new, person_ids)
            ],
        )
        # Re-read rather than trust the insert: a concurrent writer may have won a conflict.
        for a in new:
            row = session.execute(
                select(ACCOUNTS.c.id, ACCOUNTS.c.person_id).where(
                    ACCOUNTS.c.tracker == a.tracker, ACCOUNTS.c.external_id == a.external_id)
            ).one()
            self._remember(KnownAccount(row.id, row.person_id, a.ref, a.display_name, a.email))
        return len(new) + new_emails


def _clean_account(a: AccountRecord, ref: str) -> AccountRecord:
    """An account record under its canonical id, its text storable on every database."""
    tracker, _, external_id = ref.partition(":")
    return AccountRecord(tracker, clean(external_id, 200), clean(a.display_name, 300), clean(a.email, 300))


def _richer(a: AccountRecord, b: AccountRecord) -> AccountRecord:
    """Combine two sightings of one account, keeping whatever either of them knew."""
    return AccountRecord(a.tracker, a.external_id, b.display_name or a.display_name, b.email or a.email)




def stored_aliases(session: Session, tracker: str) -> list[tuple[str, str, str]]:
    """Every stored (kind, id, canonical id) of `tracker` users, for a run's connector context."""
    return [tuple(row) for row in session.execute(
        select(ALIASES.c.kind, ALIASES.c.alias, ALIASES.c.external_id).where(ALIASES.c.tracker == tracker))]


def jira_context(session: Session, directory: Directory, cloud: bool | None = None) -> JiraContext:
    """A Jira run's context, starting from every user id earlier runs learnt (`cloud` when known)."""
    return JiraContext(JiraUsers(stored_aliases(session, "jira"), cloud))
