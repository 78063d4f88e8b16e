"""What one Jira import or sync knows beyond a single issue: which user ids name one user, and
which custom field is the rank.

A Jira user object can carry up to three ids, and payloads disagree on which one they use:

- Server/Data Center: user objects have `name` and `key`; changelog assignee values hold the
  *key*, which differs from the name for users created since Jira 8.3 (`JIRAUSER10101` for
  `k.olsen`) and for renamed users (the key keeps the old name).
- Cloud in its transition years (2015–2019): user objects have `accountId` *and* the legacy
  `name`/`key`, while changelog items (assignee, reporter) still carry only the legacy name.

The canonical id of a user is `accountId` when there is one, else `name` (what configuration
names: `jira:<accountId>` on Cloud, `jira:<username>` on Server). Every other id of the same
user object is an alias. An issue's changelog may name a user who appears as a user object
only in *another* issue, so the aliases are learnt across the whole run and kept in the
database by the service (`JiraUsers(known)` starts from them); a value that no user object
explains stays as it is, and the service folds it into its user once the pairing is learnt.

An alias that two different users claim (a legacy name reused after a rename) is ambiguous:
it is no longer resolved at all, and listed in `conflicts`, rather than guessed.
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Iterable, Mapping
from urllib.parse import unquote

from connectors.records import Account, account_ref

TRACKER = "jira"
#: The field name the rank field's changes are recorded under, whatever the site calls it ("Rang").
RANK = "Rank"
RANK_SCHEMA = "com.pyxis.greenhopper.jira:gh-lexo-rank"


def user_id(user: object) -> str | None:
    """The canonical id of a Jira user object: Cloud `accountId`, else Server `name`, else `key`.

    Some recorded payloads blank `accountId` but keep the user's `self` link
    (`…/rest/api/3/user?accountId=5fb4…`), which still names the account.
    """
    if not isinstance(user, dict):
        return None
    for attribute in ("accountId", "name", "key"):
        value = user.get(attribute)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return str(value)
    link = user.get("self")
    if isinstance(link, str) and "accountId=" in link:
        value = link.split("accountId=", 1)[1].split("&", 1)[0]
        return unquote(value) or None
    return None


def ids_of(user: dict[str, Any]) -> list[str]:
    """The user-name ids (`name`, `key`) a user object carries besides or as its canonical id."""
    found = []
    for attribute in ("name", "key"):
        value = user.get(attribute)
        if isinstance(value, str) and value and value not in found:
            found.append(value)
    return found


class JiraUsers:
    """The ids of Jira users learnt so far in one run, and those it started from.

    `aliases` maps a non-canonical id to its user's canonical id. `known` holds every id a user
    object accounted for (canonical or not), so a sync asks the server only about ids it has
    never seen explained (once per id). `new` is what this run learnt that the database does
    not hold yet (id → canonical id; an id that is its own user's canonical id maps to itself),
    stored by the service with the page that taught it.
    """

    def __init__(self, known: Mapping[str, str] | None = None, accounts: Iterable[str] = ()) -> None:
        """`known`: the stored aliases (id -> canonical id); `accounts`: the ids of stored accounts."""
        known = dict(known or {})
        self.aliases: dict[str, str] = {alias: canonical for alias, canonical in known.items() if alias != canonical}
        self.known: set[str] = set(known) | set(accounts)
        self.conflicts: set[str] = set()
        self.new: dict[str, str] = {}
        self._stored = known
        self._reported: set[str] = set()

    def learn(self, user: object) -> str | None:
        """Note every id of one user object; returns its canonical id (None for no usable user)."""
        canonical = user_id(user)
        if canonical is None:
            return None
        assert isinstance(user, dict)
        self.known.add(canonical)
        for other in ids_of(user):
            self._pair(other, canonical)
        return canonical

    def _pair(self, other: str, canonical: str) -> None:
        if other in self.conflicts:
            return
        held = self.new.get(other, self._stored.get(other))
        if held is None:
            self.new[other] = canonical
            self.known.add(other)
            if other != canonical:
                self.aliases[other] = canonical
        elif held != canonical:
            # Two users claim one id (a name reused after a rename): crediting either could be wrong.
            self.aliases.pop(other, None)
            self.new.pop(other, None)
            self.conflicts.add(other)

    def learn_all(self, users: Iterable[object]) -> None:
        for user in users:
            self.learn(user)

    def resolve(self, value: str | None) -> str | None:
        """The canonical id for an id found in a changelog value; the value itself when unknown."""
        if not value:
            return value
        return self.aliases.get(value, value)

    def remember(self, value: str) -> None:
        """An id the tracker could not explain (a deleted user): keep it as it is, and never ask again."""
        if value not in self.known:
            self.known.add(value)
            self.new.setdefault(value, value)

    def knows(self, value: str) -> bool:
        """Whether some user object (in this run or stored before) accounted for `value`."""
        return value in self.known or value in self.conflicts

    def take_conflicts(self) -> set[str]:
        """The ids found ambiguous since the last call (the service forgets any stored pairing)."""
        new, self._reported = self.conflicts - self._reported, set(self.conflicts)
        return new

    def take_new(self) -> dict[str, str]:
        """What was learnt since the last call (to store with the page); forgets it."""
        new, self.new = self.new, {}
        self._stored.update(new)
        return new


class IssueAccounts:
    """Collects the accounts one issue names, merging what each mention tells about them."""

    def __init__(self, users: JiraUsers) -> None:
        self.users = users
        self._by_id: dict[str, Account] = {}
        self._complete: dict[str, str] = {}  # external id -> ref, once name and email are both known

    def add(self, external_id: str | None, display_name: object = None, email: object = None) -> str | None:
        if not external_id:
            return None
        done = self._complete.get(external_id)
        if done is not None:
            return done
        display = display_name if isinstance(display_name, str) and display_name else None
        mail = email if isinstance(email, str) and email else None
        known = self._by_id.get(external_id)
        if known is None:
            self._by_id[external_id] = Account(TRACKER, external_id, display, mail)
        elif (known.display_name is None and display) or (known.email is None and mail):
            self._by_id[external_id] = Account(
                TRACKER, external_id, known.display_name or display, known.email or mail
            )
        ref = account_ref(TRACKER, external_id)
        account = self._by_id[external_id]
        if account.display_name and account.email:
            self._complete[external_id] = ref
        return ref

    def user(self, user: object) -> str | None:
        """Record a Jira user object the run has learnt (`JiraUsers.learn_all`); its account ref,
        or None (anonymous, deleted, automation)."""
        if not isinstance(user, dict):
            return None
        return self.add(user_id(user), user.get("displayName"), user.get("emailAddress"))

    def value(self, value: str | None, display_name: object) -> str | None:
        """The account a changelog value names (an assignee change): resolved through the run's aliases."""
        return self.add(self.users.resolve(value), display_name)

    def all(self) -> list[Account]:
        return list(self._by_id.values())


@dataclass(slots=True)
class JiraContext:
    """What one import or sync knows beyond a single issue: its users' ids and its rank field.

    The rank field is a custom field whose name the site localises ("Rank", "Rang", "Ранг"),
    so it is recognised by its schema (`com.pyxis.greenhopper.jira:gh-lexo-rank`), from the
    field list (`GET /field`) or the `names`/`schema` a search returns with `expand=names,schema`.
    Without either, only the English name is recognised.
    """

    users: JiraUsers = dataclass_field(default_factory=JiraUsers)
    rank_ids: set[str] = dataclass_field(default_factory=set)
    rank_names: set[str] = dataclass_field(default_factory=lambda: {RANK.casefold()})

    def learn_fields(self, fields: Iterable[Any]) -> None:
        """Note the rank field of a field list (`GET /rest/api/{2,3}/field`)."""
        for entry in fields:
            if isinstance(entry, dict) and isinstance(entry.get("schema"), dict):
                if entry["schema"].get("custom") == RANK_SCHEMA:
                    self._rank(entry.get("id"), entry.get("name"))

    def learn_schema(self, names: object, schema: object) -> None:
        """Note the rank field from a search response's `names` and `schema` (`expand=names,schema`)."""
        if not isinstance(schema, dict):
            return
        for field_id, description in schema.items():
            if isinstance(description, dict) and description.get("custom") == RANK_SCHEMA:
                self._rank(field_id, names.get(field_id) if isinstance(names, dict) else None)

    def _rank(self, field_id: object, name: object) -> None:
        if isinstance(field_id, str) and field_id:
            self.rank_ids.add(field_id)
        if isinstance(name, str) and name:
            self.rank_names.add(name.casefold())

    def is_rank(self, item: dict[str, Any]) -> bool:
        """Whether a custom-field changelog item changes the rank (Cloud names it by `fieldId` too)."""
        if item.get("fieldId") in self.rank_ids:
            return True
        name = item.get("field")
        return isinstance(name, str) and name.casefold() in self.rank_names
