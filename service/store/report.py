"""Queries behind `partnerscope report`, `people` and `statuses` (and later the dashboard)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from analytics.attribution import ROLES
from analytics.scorecard import build_report
from service.store.affiliations import Affiliations
from service.config import Config
from service.store.directory import Directory
from service.store.memo import remembered
from service.store.sql import ACCOUNTS, ATTRIBUTIONS, EVENTS, TICKETS, within_days
from service.terminal import is_unsafe

PROJECT_MAX = 200  # the length of tickets.project


class FilterError(ValueError):
    """Report filters that no act could match or no database could take; the message is one sentence."""


@dataclass(frozen=True)
class Filters:
    """Which acts a report counts: by project key and by the date of the act (inclusive)."""

    project: str | None = None
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        # PostgreSQL refuses NUL and lone surrogates in a parameter; no project key holds any
        # control character, so refuse them all here rather than fail in the database.
        if self.project is not None and (len(self.project) > PROJECT_MAX or any(map(is_unsafe, self.project))):
            raise FilterError(f"'project' must be a project key of at most {PROJECT_MAX} characters "
                              "without control characters.")
        if self.since and self.until and self.since > self.until:
            raise FilterError(f"'since' ({self.since.isoformat()}) is after 'until' ({self.until.isoformat()}), "
                              "so no act can match.")


def act_filters(filters: Filters) -> list[Any]:
    """The date filters as conditions on attributions (the day of the act, inclusive)."""
    return within_days(ATTRIBUTIONS.c.at, filters.since, filters.until)


def role_counts(session: Session, filters: Filters = Filters()) -> dict[str, dict[str, int]]:
    """Attributions by role and side, counted once per ticket, role and person."""
    a = ATTRIBUTIONS.c
    query = select(a.role, a.side, func.count()).group_by(a.role, a.side)
    if filters.project:
        query = query.join(TICKETS, TICKETS.c.id == a.ticket_id).where(TICKETS.c.project == filters.project)
    query = query.where(*act_filters(filters))
    counts: dict[str, dict[str, int]] = {role: {"partner": 0, "client": 0, "unknown": 0} for role in ROLES}
    for role, side, n in session.execute(query):
        counts.setdefault(role, {"partner": 0, "client": 0, "unknown": 0})[side] = n
    return counts


def responsibility_report(session: Session, config: Config, filters: Filters = Filters()) -> dict[str, Any]:
    """Counts per role, shares and assessment per area, the signals, and what those numbers rest
    on (`data_quality`). Roles and signals read the monthly sums (`service.store.signals`); a
    database that still owes the classify that fills them counts roles from the attributions.
    Remembered while nothing is committed (`service.store.memo`)."""
    return remembered(session, config, ("report", filters), lambda: compute_report(session, config, filters))


def compute_report(session: Session, config: Config, filters: Filters = Filters()) -> dict[str, Any]:
    """The report computed from the database, as `responsibility_report` remembers it (the
    benchmark times this)."""
    from service.store.quality import data_quality, signals_owed
    from service.store.signals import observations, signals_report

    obs = observations(session, filters.project, filters.since, filters.until)
    roles = role_counts(session, filters) if signals_owed(session) else obs.roles
    report = build_report(roles, config.thresholds)
    report["signals"] = signals_report(session, config, obs)
    report["data_quality"] = data_quality(session, config, filters.project, act_filters(filters))
    return report


def report_csv(report: dict[str, Any]) -> str:
    """One row per area, then one per role: the same numbers as the JSON, for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; a "\r" in a cell is then quoted too
    writer.writerow(["level", "name", "partner", "client", "unknown", "partner_share", "low", "high", "assessment"])
    for name, area in report["areas"].items():
        writer.writerow(["area", name, area["partner"], area["client"], area["unknown"],
                         _blank(area["partner_share"]), _blank(area["low"]), _blank(area["high"]), area["assessment"]])
    for name, counts in report["roles"].items():
        writer.writerow(["role", name, counts["partner"], counts["client"], counts["unknown"], "", "", "", ""])
    return out.getvalue()


def _blank(value: object) -> object:
    return "" if value is None else value


@dataclass(frozen=True)
class PersonRow:
    account: str  # the person's most active account
    name: str | None
    email: str | None
    organisation: str | None
    side: str
    activity: int
    last_active: datetime | None
    accounts: tuple[str, ...] = ()  # every account of the person, most active first


def people(session: Session, config: Config, unaffiliated_only: bool = False) -> list[PersonRow]:
    """People (merged accounts counted once) with their organisation as of their last act and
    their activity, most active first. Remembered while nothing is committed (`service.store.memo`):
    counting every event takes about a second at 100,000 tickets."""
    return remembered(session, config, ("people", unaffiliated_only),
                      lambda: _people(session, config, unaffiliated_only))


def _people(session: Session, config: Config, unaffiliated_only: bool) -> list[PersonRow]:
    e = EVENTS.c
    activity = (
        select(e.actor_id, func.count().label("n"), func.max(e.at).label("last"))
        .where(e.actor_id.is_not(None)).group_by(e.actor_id).subquery()
    )
    c = ACCOUNTS.c
    rows = session.execute(
        select(c.person_id, c.tracker, c.external_id, c.display_name, c.email,
               func.coalesce(activity.c.n, 0), activity.c.last)
        .outerjoin(activity, activity.c.actor_id == c.id)
    )
    by_person: dict[int, list[Any]] = {}
    for row in rows:
        by_person.setdefault(row[0], []).append(row)
    # The same affiliation the counts use: other accounts of the person, [[people]], github_orgs.
    directory = Directory(session)
    affiliations = Affiliations(config, directory)
    now = datetime.now(timezone.utc)
    result = []
    for accounts in by_person.values():
        accounts.sort(key=lambda r: (-r[5], f"{r[1]}:{r[2]}"))
        refs = tuple(f"{r[1]}:{r[2]}" for r in accounts)
        lasts = [_aware(r[6]) for r in accounts if r[6] is not None]
        last = max(lasts) if lasts else None
        aff = affiliations.of(session, directory.by_ref[refs[0]], last or now)
        if unaffiliated_only and aff.side != "unknown":
            continue
        email = next((r[4] for r in accounts if r[4]), None)
        name = next((r[3] for r in accounts if r[3]), None)
        result.append(PersonRow(refs[0], name, email, aff.organisation, aff.side,
                                sum(r[5] for r in accounts), last, refs))
    result.sort(key=lambda p: (-p.activity, p.account))
    return result


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class StatusRow:
    status: str
    phase: str | None
    uses: int


def statuses(session: Session, config: Config, unmapped_only: bool = False) -> list[StatusRow]:
    """Every status name seen on tickets or in transitions, with its phase and how often it occurs."""
    e = EVENTS.c
    names = union_all(
        select(TICKETS.c.status.label("name")),
        select(e.from_value.label("name")).where(e.kind == "transition", e.from_value.is_not(None)),
        select(e.to_value.label("name")).where(e.kind == "transition", e.to_value.is_not(None)),
    ).subquery()
    rows = session.execute(select(names.c.name, func.count()).group_by(names.c.name))
    result = [StatusRow(name, config.phases.phase(name), n) for name, n in rows]
    if unmapped_only:
        result = [r for r in result if r.phase is None]
    result.sort(key=lambda r: (-r.uses, r.status))
    return result
