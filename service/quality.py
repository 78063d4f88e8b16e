"""What the numbers rest on: tickets whose history is incomplete, closes nobody is credited with,
refused identity merges, unaffiliated accounts, and configured accounts that never act.

A share is only as true as the acts behind it. These are the places where acts are known to
be missing or unassignable; `report` carries them (JSON key `data_quality`), and `import` and
`sync` print them, so that no number changes without a word.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analytics.resolution import CLOSED_PHASES
from service.classify import ATTRIBUTIONS
from service.config import Config
from service.directory import Directory
from service.identity import refused_merges
from service.sql import EVENTS, TICKETS

LISTED = 50  # items listed per kind; the count says how many there are in all


def data_quality(session: Session, config: Config, project: str | None = None,
                 acts_where: list[Any] | None = None) -> dict[str, Any]:
    """The data-quality section of a report; `acts_where` are the report's filters on attributions."""
    t, a = TICKETS.c, ATTRIBUTIONS.c
    scope = [t.project == project] if project else []
    incomplete = [t.incomplete.is_not(None), *scope]
    rows = session.execute(select(t.key, t.incomplete).where(*incomplete).order_by(t.key).limit(LISTED)).all()
    acts = session.scalar(select(func.count()).select_from(ATTRIBUTIONS).join(TICKETS, t.id == a.ticket_id)
                          .where(*incomplete, *(acts_where or [])))
    credited = select(a.ticket_id).where(a.role.in_(("resolve", "decline")))
    closed = [t.phase.in_(sorted(CLOSED_PHASES)), t.id.not_in(credited), *scope]
    uncredited = session.execute(select(t.key, t.status).where(*closed).order_by(t.key).limit(LISTED)).all()
    return {
        "incomplete_tickets": {
            "count": session.scalar(select(func.count()).select_from(TICKETS).where(*incomplete)) or 0,
            "acts": acts or 0,
            "tickets": [{"key": key, "missing": missing} for key, missing in rows],
        },
        "closed_without_resolver": {
            "count": session.scalar(select(func.count()).select_from(TICKETS).where(*closed)) or 0,
            "tickets": [{"key": key, "status": status} for key, status in uncredited],
        },
        "refused_merges": [{"email": r.email, "accounts": list(r.accounts), "reason": r.reason}
                           for r in refused_merges(session, config)],
        "unmapped_accounts": unmapped_accounts(session, config),
        "idle_configured_accounts": idle_configured_accounts(session, config),
    }


def unmapped_accounts(session: Session, config: Config) -> dict[str, Any]:
    """Acting people no organisation rule covers, most active first."""
    from service.report import people

    rows = people(session, config, unaffiliated_only=True)
    return {
        "count": len(rows),
        "acts": sum(p.activity for p in rows),
        "accounts": [{"account": p.account, "name": p.name, "activity": p.activity} for p in rows[:LISTED]],
    }


def _activity(session: Session) -> dict[int, int]:
    e = EVENTS.c
    return dict(session.execute(select(e.actor_id, func.count()).where(e.actor_id.is_not(None)).group_by(e.actor_id)).all())


def idle_configured_accounts(session: Session, config: Config) -> list[dict[str, Any]]:
    """Configured accounts that never act while an account of the same name does.

    A site that names users by a legacy user name in some payloads and by account id in others
    leaves configuration naming a twin that never acts: every act then counts as unknown.
    Aliases learnt from payloads already unify the two; what remains is listed here.
    """
    configured = {ref for o in config.organisations for ref in o.accounts}
    configured |= {e.account for e in config.enrollments if "@" not in e.account}
    configured |= {ref for p in config.people for ref in p.accounts}
    if not configured:
        return []
    directory = Directory(session)
    activity = _activity(session)
    by_name: dict[str, list[tuple[str, str | None, int]]] = {}
    for known in directory.by_id.values():
        acts = activity.get(known.id, 0)
        if acts:
            for name in {known.display_name, known.ref.partition(":")[2]} - {None}:
                by_name.setdefault(name.casefold(), []).append((known.ref, known.display_name, acts))
    idle = []
    for ref in sorted(configured):
        canonical = directory.canonical(ref)
        known = directory.by_ref.get(canonical)
        if known is not None and activity.get(known.id, 0):
            continue
        tracker, _, external_id = ref.partition(":")
        names = {external_id.casefold()} | ({known.display_name.casefold()} if known and known.display_name else set())
        twins = [twin for name in names for twin in by_name.get(name, ()) if twin[0] != canonical
                 and twin[0].startswith(tracker + ":")]
        if twins:
            twin, name, acts = max(twins, key=lambda x: x[2])
            idle.append({"account": ref, "twin": twin, "twin_name": name, "twin_activity": acts})
    return idle


def quality_lines(quality: dict[str, Any]) -> list[str]:
    """The data-quality section as warning lines, for `import`, `sync` and the table report."""
    lines = []
    incomplete = quality["incomplete_tickets"]
    if incomplete["count"]:
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
        lines.append(f"{unmapped['count']} acting accounts belong to no organisation ({unmapped['acts']} acts); "
                     "see `partnerscope people --unaffiliated`")
    for idle in quality["idle_configured_accounts"]:
        lines.append(f"configured account {idle['account']} never acts, while {idle['twin']} "
                     f"({idle['twin_name'] or 'no name'}) of the same name acted {idle['twin_activity']} times; "
                     "configure that account instead")
    return lines
