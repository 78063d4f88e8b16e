"""What one Jira import or sync knows beyond a single issue: which user ids name one user, and
which custom field is the rank.

A Jira user object can carry up to three ids, and payloads disagree on which one they use:

- Server/Data Center: user objects have `name` and `key`; changelog assignee values hold the
  *key*, which differs from the name for users created since Jira 8.3 (`JIRAUSER10101` for
  `k.olsen`) and for renamed users (the key keeps the old name, which may be given to someone
  else later). Keys and names are two namespaces: a key is only ever read as a key.
- Cloud in its transition years (2015–2019): user objects have `accountId` *and* the legacy
  `name`/`key`, while changelog items (assignee, reporter) still carry only the legacy name.

The canonical id of a user is `accountId` when there is one, else `name` (what configuration
names: `jira:<accountId>` on Cloud, `jira:<username>` on Server); a user object's own
canonical id is never read as anything else. An issue's changelog may name a user who appears
as a user object only in *another* issue, so what is learnt is kept across the whole run and
in the database (`JiraUsers(stored)` starts from it). A Server key no user object explains
becomes a stand-in `key:<key>` when it cannot be a name (a generated `JIRAUSER…` key, or the
name of a user whose key is another); a key from before Jira 8.3 is its user's original name,
and is read as that. A Cloud legacy name stays as it is. The service folds a stand-in into its
user once a user object pairs them (`service.store.aliases`).

A legacy name that two accounts claim (reused after a rename) is ambiguous: it is no longer
resolved, and the conflict is stored and reported rather than guessed; so is a Server key that
was read as a name which then turned out to belong to a user with another key. A Server key
naming two names is one user renamed (keys never change hands), so it is no conflict.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Iterable
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


#: Kinds of stored ids (`service.store.models.AccountAlias.kind`).
KEY, NAME, SELF, CONFLICT = "key", "name", "self", "conflict"
STAND_IN = "key:"  # prefix of the stand-in id of a Server key no user object explains
_GENERATED_KEY = re.compile(r"JIRAUSER\d+")  # the keys Jira Server 8.3+ gives new users


class JiraUsers:
    """The user ids learnt so far in one run, and those it started from.

    `keys`: Server key -> canonical name. `names`: Cloud legacy name (or key) -> accountId.
    `own`: ids some user object used as its canonical id (never folded into another).
    `conflicts`: legacy names two accounts claim. `new` holds what this run learnt that the
    database does not hold yet, as (kind, id) -> canonical id, stored with the page that taught it.
    `cloud` is set once a user object with an `accountId` is seen (or by the sync, which knows).
    """

    def __init__(self, stored: Iterable[tuple[str, str, str]] = (), cloud: bool | None = None) -> None:
        """`stored`: (kind, id, canonical id) rows that earlier runs learnt."""
        self.keys: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.own: set[str] = set()
        self.conflicts: set[str] = set()
        self.account_ids: set[str] = set()  # accountIds user objects carried (never a Server key)
        self.named_otherwise: set[str] = set()  # Server names whose user's key is another id
        self.read_as_names: set[str] = set()  # unexplained Server keys read as the user of that name
        self.cloud = cloud
        self.deployment_known = cloud is not None  # a sync knows; an import infers it from user objects
        for kind, alias, canonical in stored:
            self._apply(kind, alias, canonical)
        self.new: dict[tuple[str, str], str] = {}
        self._new_conflicts: set[str] = set()

    def _apply(self, kind: str, alias: str, canonical: str) -> None:
        if kind == KEY:
            self.keys.setdefault(alias, canonical)
        elif kind == NAME:
            self.names[alias] = canonical
        elif kind == SELF:
            self.own.add(alias)
        elif kind == CONFLICT:
            self.conflicts.add(alias)
            self.names.pop(alias, None)

    def learn(self, user: object) -> str | None:
        """Note every id of one user object; returns its canonical id (None for no usable user)."""
        if type(user) is dict:  # the common case, seen before: a Cloud user by accountId alone
            account_id = user.get("accountId")
            if account_id and account_id in self.account_ids and "name" not in user and "key" not in user:
                return account_id
        canonical = user_id(user)
        if canonical is None:
            return None
        assert isinstance(user, dict)
        self._note(SELF, canonical, canonical)
        if user.get("accountId"):
            self.account_ids.add(canonical)
            if not self.deployment_known:
                self.cloud = True  # Cloud names every user by accountId since 2019; a site never turns back
            for other in ids_of(user):
                if other != canonical:
                    self._name(other, canonical)
        elif "accountId" not in user:
            key = user.get("key")
            if isinstance(key, str) and key:
                self._note(KEY, key, canonical)
                if key != canonical:
                    self.named_otherwise.add(canonical)
                    if canonical in self.read_as_names and canonical not in self.conflicts:
                        # An earlier value was read as this name, yet this user's key is another:
                        # those acts may belong to whoever holds the key. Say so rather than guess.
                        self.conflicts.add(canonical)
                        self._new_conflicts.add(canonical)
                if self.cloud is None and not self.deployment_known:
                    self.cloud = False
        return canonical

    def _note(self, kind: str, alias: str, canonical: str) -> None:
        if kind == SELF:
            if alias not in self.own:
                self.own.add(alias)
                self.new[(SELF, alias)] = alias
        elif alias not in self.keys:  # KEY: a key is one user's for good, whatever their name now
            self.keys[alias] = canonical
            self.new[(KEY, alias)] = canonical

    def _name(self, alias: str, canonical: str) -> None:
        if alias in self.conflicts:
            return
        held = self.names.get(alias)
        if held is None:
            self.names[alias] = canonical
            self.new[(NAME, alias)] = canonical
        elif held != canonical:
            # Two accounts claim one legacy name (reused after a rename): either could be wrong.
            del self.names[alias]
            self.new.pop((NAME, alias), None)
            self.conflicts.add(alias)
            self._new_conflicts.add(alias)

    def learn_all(self, users: Iterable[object]) -> None:
        for user in users:
            self.learn(user)

    def resolve(self, value: str | None) -> str | None:
        """The account id a changelog value (an assignee change) names.

        On Server the value is a key: its user's name, else a stand-in `key:<key>`. On Cloud it is
        an accountId, or a legacy name: the accountId a user object paired it with, else itself.
        """
        if not value:
            return value
        if self.cloud is not False:  # Cloud, or nothing seen yet that says Server: taken as given
            return self.names.get(value, value)
        found = self.keys.get(value)
        if found is not None:
            return found
        if value in self.account_ids:
            return value
        if _GENERATED_KEY.fullmatch(value) or value in self.named_otherwise:
            return STAND_IN + value  # a generated key, or the name of a user whose key is another
        # A key from before Jira 8.3 is its user's original name: most likely that user.
        self.read_as_names.add(value)
        return value

    def remember(self, key: str) -> None:
        """A Server key the tracker could not explain (a deleted user): kept as its stand-in, and
        never asked about again."""
        if key not in self.keys:
            self.keys[key] = STAND_IN + key
            self.new[(KEY, key)] = STAND_IN + key

    def knows(self, key: str) -> bool:
        """Whether some user object (in this run or stored before) explained a Server key."""
        return key in self.keys or key in self.account_ids

    @property
    def pending(self) -> bool:
        """Whether anything learnt is not stored yet."""
        return bool(self.new or self._new_conflicts)

    def take_conflicts(self) -> set[str]:
        """The legacy names found ambiguous since the last call, to store as such."""
        new, self._new_conflicts = self._new_conflicts, set()
        return new

    def take_new(self) -> dict[tuple[str, str], str]:
        """What was learnt since the last call (to store with the page); forgets it."""
        new, self.new = self.new, {}
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
        field_id = item.get("fieldId")
        if isinstance(field_id, str) and field_id in self.rank_ids:
            return True
        name = item.get("field")
        return isinstance(name, str) and name.casefold() in self.rank_names
