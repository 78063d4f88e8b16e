"""Which organisation, and so which side, an account acted for at the time of an act.

Order of evidence (DESIGN.md, "Identity and affiliation"): an explicit enrollment, then an
organisation's account list, then its email domains. Affiliation is evaluated at the time of
each act, so a contractor the client hires counts for the partner before the hire date and for
the client after it. `affiliate` runs once per attributed act (millions), so construction
builds dictionaries and every call is a few lookups.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Iterable

SIDES = ("client", "partner")


@dataclass(frozen=True, slots=True)
class Organisation:
    """A company on one side of the collaboration, with the accounts and domains that identify it."""

    name: str
    side: str  # client | partner
    domains: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()  # account refs, "jira:5b10ac8d", "github:octocat"


@dataclass(frozen=True, slots=True)
class Enrollment:
    """An explicit, optionally time-bounded membership of one account or email in an organisation."""

    account: str  # account ref "jira:…" or an email address
    organisation: str
    start: date | None = None  # inclusive
    until: date | None = None  # inclusive


@dataclass(frozen=True, slots=True)
class Affiliation:
    """The answer: organisation (None when unknown), its side, and which evidence decided."""

    organisation: str | None
    side: str  # client | partner | unknown
    via: str  # enrollment | account | domain | none


UNKNOWN = Affiliation(None, "unknown", "none")

_FIRST_DAY = date.min.toordinal()
_LAST_DAY = date.max.toordinal()


def _utc_ordinal(at: datetime) -> int:
    """The UTC calendar day of `at`; a naive datetime is taken to be UTC already (as SQLite returns it)."""
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc)
    return at.toordinal()


class Affiliator:
    """Answers `affiliate(account, email, at)` from configured organisations and enrollments."""

    def __init__(self, organisations: Iterable[Organisation], enrollments: Iterable[Enrollment] = ()) -> None:
        by_name: dict[str, Organisation] = {}
        self._accounts: dict[str, Affiliation] = {}
        self._domains: dict[str, Affiliation] = {}
        for org in organisations:
            if org.name in by_name:
                raise ValueError(f"organisation '{org.name}' is defined twice; organisation names must be unique.")
            if org.side not in SIDES:
                raise ValueError(f"organisation '{org.name}' has side '{org.side}'; use one of {', '.join(SIDES)}.")
            by_name[org.name] = org
            via_account = Affiliation(org.name, org.side, "account")
            via_domain = Affiliation(org.name, org.side, "domain")
            for account in org.accounts:
                self._claim(self._accounts, account.strip().casefold(), via_account, f"account '{account}'")
            for domain in org.domains:
                key = domain.strip().lstrip("@").rstrip(".").casefold()
                if not key:
                    raise ValueError(f"organisation '{org.name}' lists an empty email domain.")
                self._claim(self._domains, key, via_domain, f"email domain '{domain}'")

        # account or email → [(first day, last day, position, affiliation)]; usually one entry.
        self._enrollments: dict[str, list[tuple[int, int, int, Affiliation]]] = {}
        for position, e in enumerate(enrollments):
            org = by_name.get(e.organisation)
            if org is None:
                known = ", ".join(by_name) or "none"
                raise ValueError(
                    f"the enrollment of '{e.account}' names organisation '{e.organisation}', "
                    f"which is not defined (defined: {known})."
                )
            if e.start is not None and e.until is not None and e.until < e.start:
                raise ValueError(
                    f"the enrollment of '{e.account}' in '{e.organisation}' ends on {e.until.isoformat()}, "
                    f"before it starts on {e.start.isoformat()}."
                )
            key = e.account.strip().casefold()
            if not key:
                raise ValueError(f"an enrollment in '{e.organisation}' has an empty account.")
            first = e.start.toordinal() if e.start else _FIRST_DAY
            last = e.until.toordinal() if e.until else _LAST_DAY
            entry = (first, last, position, Affiliation(org.name, org.side, "enrollment"))
            self._enrollments.setdefault(key, []).append(entry)

    @staticmethod
    def _claim(table: dict[str, Affiliation], key: str, value: Affiliation, what: str) -> None:
        held = table.get(key)
        if held is not None and held.organisation != value.organisation:
            raise ValueError(f"{what} is listed by both '{held.organisation}' and '{value.organisation}'.")
        table[key] = value

    def affiliate(self, account_ref: str | None, email: str | None, at: datetime) -> Affiliation:
        """The organisation and side `account_ref` (or `email`) acted for at `at`.

        Enrollments first (account ref or email, from/until inclusive on the act's UTC date),
        then account lists, then email domains (a subdomain counts for its parent), else unknown.
        When enrollments overlap, the one that started last wins, so "partner from the start"
        plus "client from the hire date" needs no end date on the first.
        """
        if account_ref is None and not email:
            return UNKNOWN
        ref_key = account_ref.casefold() if account_ref else None
        email_key = email.strip().casefold() if email else None

        if self._enrollments:
            found = self._enrolled(ref_key, email_key, at)
            if found is not None:
                return found
        if ref_key is not None:
            found = self._accounts.get(ref_key)
            if found is not None:
                return found
        if email_key:
            found = self._accounts.get(email_key)
            if found is not None:
                return found
            domain = email_key.rpartition("@")[2] if "@" in email_key else ""
            while domain:
                found = self._domains.get(domain)
                if found is not None:
                    return found
                domain = domain.partition(".")[2]
        return UNKNOWN

    def _enrolled(self, ref_key: str | None, email_key: str | None, at: datetime) -> Affiliation | None:
        entries = self._enrollments.get(ref_key) if ref_key else None
        by_email = self._enrollments.get(email_key) if email_key else None
        if entries is None and by_email is None:
            return None
        day = _utc_ordinal(at)
        best: tuple[int, int, int, Affiliation] | None = None
        for group in (entries, by_email):
            for entry in group or ():
                first, last, position, _ = entry
                if first <= day <= last and (
                    best is None or first > best[0] or (first == best[0] and position < best[2])
                ):
                    best = entry
        return best[3] if best is not None else None
