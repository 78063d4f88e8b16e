"""What the numbers rest on: tickets whose history is incomplete, closes nobody is credited with,
refused identity merges, unaffiliated accounts, and configured accounts that never act.

A share is only as true as the acts behind it. These are the places where acts are known to
be missing or unassignable; `report` carries them (JSON key `data_quality`), and `import` and
`sync` print them, so that no number changes without a word.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import Session

from analytics.resolution import CLOSED_PHASES
from service.config import Config
from service.store.directory import Directory
from connectors.jira_context import CONFLICT
from service.store.identity import refused_merges
from service.store.models import AccountAlias, Setting
from service.store.rollups import ROLLUPS, TICKET_SHARES
from service.store.sql import ACCOUNTS, ATTRIBUTIONS, TICKETS

SIGNALS_OWED = "signals_need_classify"  # set by migrations 0005 and 0006 on a database that held attributions
LISTED = 50  # items listed per kind; the count says how many there are in all
# Written as the partial indexes' own conditions (models): a bound parameter would keep the
# database from using them.
CLOSED = text("tickets.phase IN ('done', 'deployed')")
UNKNOWN = text("attributions.side = 'unknown'")
UNCREDITED = text("signal_tickets.uncredited")
assert {"done", "deployed"} == CLOSED_PHASES


def signals_owed(session: Session) -> bool:
    """Whether the database holds attributions made before the signals' facts existed."""
    return session.get(Setting, SIGNALS_OWED) is not None


def data_quality(session: Session, config: Config, project: str | None = None,
                 acts_where: list[Any] | None = None) -> dict[str, Any]:
    """The data-quality section of a report; `acts_where` are the report's filters on attributions."""
    t, a = TICKETS.c, ATTRIBUTIONS.c
    scope = [t.deleted_at.is_(None)] + ([t.project == project] if project else [])
    incomplete = [t.incomplete.is_not(None), *scope]
    # Listed in id order: the partial indexes (see models) answer that without a scan.
    rows = session.execute(select(t.key, t.incomplete).where(*incomplete).order_by(t.id).limit(LISTED)).all()
    # The acts of the few incomplete tickets, found from those tickets: joined, SQLite started from
    # every act within the report's dates (600 ms for the last eight months of 100,000 tickets).
    acts = session.scalar(select(func.count()).where(a.ticket_id.in_(select(t.id).where(*incomplete)),
                                                     *(acts_where or [])))
    uncredited = closed_without_resolver(session, project)
    return {
        "incomplete_tickets": {
            "count": session.scalar(select(func.count()).select_from(TICKETS).where(*incomplete)) or 0,
            "acts": acts or 0,
            "tickets": [{"key": key, "missing": missing} for key, missing in rows],
        },
        "closed_without_resolver": uncredited,
        "refused_merges": [{"email": r.email, "accounts": list(r.accounts), "reason": r.reason}
                           for r in refused_merges(session, config)],
        "unmapped_accounts": unmapped_accounts(session, project, acts_where),
        "idle_configured_accounts": idle_configured_accounts(session, config),
        "signals_need_classify": signals_owed(session),
        "ambiguous_user_ids": sorted(session.scalars(select(AccountAlias.alias).where(AccountAlias.kind == CONFLICT))),
    }


def closed_without_resolver(session: Session, project: str | None) -> dict[str, Any]:
    """Closed tickets that credit nobody with the close: counted by the classifier as `uncredited`
    facts (`analytics.signals.facts`) and flagged on the ticket's signal share, so a report reads a
    sum and an index; a database that still owes the classify that makes them is asked the tickets
    themselves."""
    t, a, s, r = TICKETS.c, ATTRIBUTIONS.c, TICKET_SHARES.c, ROLLUPS.c
    if signals_owed(session):
        credited = exists().where(a.ticket_id == t.id, a.role.in_(("resolve", "decline")))
        closed = [CLOSED, ~credited, t.kind.not_in(("pull_request", "deployment")), t.deleted_at.is_(None)]
        rows = session.execute(select(t.key, t.status).where(*closed, *([t.project == project] if project else []))
                               .order_by(t.id)).all()
        return {"count": len(rows), "tickets": [{"key": key, "status": status} for key, status in rows[:LISTED]]}
    count = session.scalar(select(func.coalesce(func.sum(r.c), 0)).where(
        r.measure == "uncredited", *([r.project == project] if project else [])))
    listed = (select(s.ticket_id).where(UNCREDITED, *([s.project == project] if project else []))
              .order_by(s.ticket_id).limit(LISTED).subquery())
    rows = session.execute(select(t.key, t.status).join(listed, listed.c.ticket_id == t.id).order_by(t.id)).all()
    return {"count": int(count or 0), "tickets": [{"key": key, "status": status} for key, status in rows]}


def unmapped_accounts(session: Session, project: str | None = None,
                      acts_where: list[Any] | None = None) -> dict[str, Any]:
    """The people whose acts no organisation rule covers (side `unknown`), most acts first."""
    t, a = TICKETS.c, ATTRIBUTIONS.c
    query = select(a.person_id, func.count().label("n")).where(UNKNOWN, *(acts_where or []))
    if project:  # asked of each of the few unknown acts: a join let SQLite read the project's every ticket
        query = query.where(exists().where(t.id == a.ticket_id, t.project == project))
    rows = session.execute(query.group_by(a.person_id).order_by(func.count().desc(), a.person_id)).all()
    listed = {row.person_id for row in rows[:LISTED]}
    names: dict[int, tuple[str, str | None]] = {}
    for person, tracker, external_id, name in session.execute(
            select(ACCOUNTS.c.person_id, ACCOUNTS.c.tracker, ACCOUNTS.c.external_id, ACCOUNTS.c.display_name)
            .where(ACCOUNTS.c.person_id.in_(listed)).order_by(ACCOUNTS.c.id)):
        names.setdefault(person, (f"{tracker}:{external_id}", name))
    return {
        "count": len(rows),
        "acts": sum(row.n for row in rows),
        "accounts": [{"account": names.get(row.person_id, ("?", None))[0], "name": names.get(row.person_id, ("?", None))[1],
                      "acts": row.n} for row in rows[:LISTED]],
    }


def idle_configured_accounts(session: Session, config: Config) -> list[dict[str, Any]]:
    """Configured accounts that no payload ever named, while an account of the same name acts.

    A site that names users by a legacy user name in some payloads and by account id in others
    leaves configuration naming a twin that never acts: every act then counts as unknown.
    Aliases learnt from payloads already unify the two (and configuration may use any id of an
    account); what remains is listed here. Only accounts never seen are checked, so a report
    pays for this only when configuration names an account the trackers never did.
    """
    configured = {ref for o in config.organisations for ref in o.accounts}
    configured |= {e.account for e in config.enrollments if "@" not in e.account}
    configured |= {ref for p in config.people for ref in p.accounts}
    directory = Directory(session)
    unseen = [ref for ref in sorted(configured) if directory.canonical(ref) not in directory.by_ref
              and not any(ref.casefold() == known.casefold() for known in directory.aliases)]
    if not unseen:
        return []
    by_name: dict[str, list[Any]] = {}
    for known in directory.by_id.values():
        for name in {known.display_name, known.ref.partition(":")[2]} - {None}:
            by_name.setdefault(name.casefold(), []).append(known)
    candidates = {ref: [k for k in by_name.get(ref.partition(":")[2].casefold(), ())
                        if k.ref.startswith(ref.partition(":")[0] + ":")] for ref in unseen}
    ids = sorted({k.id for twins in candidates.values() for k in twins})
    acts: dict[int, int] = {}
    a = ATTRIBUTIONS.c
    for start in range(0, len(ids), 500):
        acts.update(session.execute(select(a.account_id, func.count()).where(a.account_id.in_(ids[start:start + 500]))
                                    .group_by(a.account_id)).all())
    idle = []
    for ref, twins in candidates.items():
        acting = [k for k in twins if acts.get(k.id)]
        if acting:
            twin = max(acting, key=lambda k: acts[k.id])
            idle.append({"account": ref, "twin": twin.ref, "twin_name": twin.display_name, "twin_acts": acts[twin.id]})
    return idle


def quality_lines(quality: dict[str, Any], skip: tuple[str, ...] = ()) -> list[str]:
    """The data-quality section as warning lines, for `import`, `sync` and the table report;
    `skip` leaves out sections by their JSON key."""
    lines = []
    incomplete = quality["incomplete_tickets"]
    if incomplete["count"] and "incomplete_tickets" not in skip:
        lines.append(f"{incomplete['count']} tickets have an incomplete history; {incomplete['acts']} acts rest on them")
    closed = quality["closed_without_resolver"]
    if closed["count"]:
        keys = ", ".join(item["key"] for item in closed["tickets"][:10])
        lines.append(f"{closed['count']} closed tickets credit nobody with the close (no recorded close or "
                     f"resolution change by a known account): {keys}{', …' if closed['count'] > 10 else ''}")
    for merge in quality["refused_merges"]:
        lines.append(f"not merged by email {merge['email']}: {', '.join(merge['accounts'])}: {merge['reason']}")
    unmapped = quality["unmapped_accounts"]
    if unmapped["count"]:
        lines.append(f"{unmapped['count']} people belong to no organisation; their {unmapped['acts']} acts count "
                     "as unknown (see `partnerscope people --unaffiliated`)")
    ambiguous = quality.get("ambiguous_user_ids") or []
    if ambiguous:
        lines.append(f"{len(ambiguous)} Jira user ids may name more than one user (a name reused after a rename); "
                     f"the assignments they name may be credited to the wrong one: {', '.join(ambiguous[:10])}"
                     f"{', …' if len(ambiguous) > 10 else ''}")
    if quality.get("signals_need_classify"):
        lines.append("the signals lack the tickets attributed before this version: run `partnerscope classify` once")
    for idle in quality["idle_configured_accounts"]:
        lines.append(f"configured account {idle['account']} never acts, while {idle['twin']} "
                     f"({idle['twin_name'] or 'no name'}) of the same name has {idle['twin_acts']} acts; "
                     "configure that account instead")
    return lines
