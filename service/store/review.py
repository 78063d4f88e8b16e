"""The partnership review's evidence: for each area, the latest acts of each side within a span of
days, with the sentence that attributed them, so a review meeting can read what a number rests on."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.scorecard import AREAS
from service.store.report import Filters, act_filters
from service.store.sql import ATTRIBUTIONS, TICKETS

SIDES = ("partner", "client")


@dataclass(frozen=True, slots=True)
class Evidence:
    ticket_id: int
    key: str
    title: str
    role: str
    side: str
    organisation: str | None
    at: datetime
    explanation: str


def area_evidence(session: Session, area: str, chosen: Filters, partner: str | None = None,
                  per_side: int = 3) -> list[Evidence]:
    """The `per_side` latest acts of each side in `area` within the filters, partner first; with
    `partner`, the partner side's are that organisation's acts (the client's stay everyone's)."""
    a, t = ATTRIBUTIONS.c, TICKETS.c
    found: list[Evidence] = []
    for side in SIDES:
        query = (select(a.ticket_id, t.key, t.title, a.role, a.side, a.organisation, a.at, a.explanation)
                 .join(TICKETS, t.id == a.ticket_id)
                 .where(a.role.in_(AREAS[area]), a.side == side, *act_filters(chosen))
                 .order_by(a.at.desc(), a.id.desc()).limit(per_side))
        if chosen.project:
            query = query.where(t.project == chosen.project)
        if partner and side == "partner":
            query = query.where(a.organisation == partner)
        found += [Evidence(*r) for r in session.execute(query)]
    return found
