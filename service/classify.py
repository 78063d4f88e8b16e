"""Turn stored tickets and events into attribution rows, for a page or for everything.

Both paths share `Classifier.run_batch`: read a batch of tickets and their events, rebuild
the neutral records, apply the analytics rules, affiliate each actor at the time of the act,
and replace the batch's attribution rows. `classify_all` walks the tickets table in id
ranges, so memory stays flat however large the database grows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from sqlalchemy import Table, delete, func, select, update, bindparam
from sqlalchemy.orm import Session

from analytics.attribution import attribute
from connectors.records import Account as AccountRecord
from connectors.records import Event as EventRecord
from connectors.records import Ticket as TicketRecord
from service import models
from service.config import Config
from service.store import EVENTS, TICKETS, Directory

ATTRIBUTIONS: Table = models.Attribution.__table__  # type: ignore[assignment]
BATCH = 2000


@dataclass(slots=True)
class ClassifyResult:
    tickets: int = 0
    events: int = 0
    attributions: int = 0


class Classifier:
    """Applies the configured phases, kinds, rules and affiliations to stored tickets."""

    def __init__(self, config: Config, directory: Directory) -> None:
        self.config = config
        self.directory = directory
        self.affiliator = config.affiliator()

    def attribute_tickets(self, session: Session, ticket_ids: Sequence[int]) -> ClassifyResult:
        """Recompute the attributions of the given tickets (after a page was stored)."""
        total = ClassifyResult()
        for start in range(0, len(ticket_ids), BATCH):
            chunk = list(ticket_ids[start:start + BATCH])
            tickets = session.execute(_ticket_select().where(TICKETS.c.id.in_(chunk)).order_by(TICKETS.c.id)).all()
            events = session.execute(
                _event_select().where(EVENTS.c.ticket_id.in_(chunk)).order_by(EVENTS.c.ticket_id, EVENTS.c.id)
            ).all()
            session.execute(delete(ATTRIBUTIONS).where(ATTRIBUTIONS.c.ticket_id.in_(chunk)))
            _add(total, self.run_batch(session, tickets, events))
        return total

    def classify_all(self, session: Session, on_progress: Callable[[int, int], None] | None = None) -> ClassifyResult:
        """Recompute every attribution, in id ranges so memory stays bounded."""
        count = session.scalar(select(func.count()).select_from(TICKETS)) or 0
        session.execute(delete(ATTRIBUTIONS))
        total = ClassifyResult()
        last_id = 0
        while True:
            tickets = session.execute(
                _ticket_select().where(TICKETS.c.id > last_id).order_by(TICKETS.c.id).limit(BATCH)
            ).all()
            if not tickets:
                break
            first, last_id = tickets[0].id, tickets[-1].id
            events = session.execute(
                _event_select().where(EVENTS.c.ticket_id.between(first, last_id))
                .order_by(EVENTS.c.ticket_id, EVENTS.c.id)
            ).all()
            _add(total, self.run_batch(session, tickets, events))
            if on_progress:
                on_progress(total.tickets, count)
        return total

    def run_batch(self, session: Session, tickets: Sequence, events: Sequence) -> ClassifyResult:
        """Attribute one batch of ticket rows with their event rows (grouped by ticket id)."""
        by_ticket: dict[int, list] = {}
        for row in events:
            by_ticket.setdefault(row.ticket_id, []).append(row)
        refs = self.directory.by_id
        kinds, phases = self.config.kinds, self.config.phases
        rows: list[dict] = []
        changed: list[dict] = []
        for t in tickets:
            kind = kinds.kind(t.type_name, tuple(t.labels or ()))
            phase = phases.phase(t.status)
            if kind != t.kind or phase != t.phase:
                changed.append({"b_id": t.id, "kind": kind, "phase": phase})
            record = TicketRecord(
                source=t.source, external_id=t.external_id, key=t.key, project=t.project,
                type_name=t.type_name, kind=kind, title=t.title, status=t.status,
                created=t.created, updated=t.updated, resolved=t.resolved, url=t.url,
                reporter=_ref(refs, t.reporter_id), assignee=_ref(refs, t.assignee_id),
                priority=t.priority, labels=tuple(t.labels or ()),
            )
            ticket_events = by_ticket.get(t.id, [])
            event_ids = {e.external_id: e.id for e in ticket_events}
            records = [
                EventRecord(e.external_id, e.kind, e.at, _ref(refs, e.actor_id), e.field, e.from_value, e.to_value)
                for e in ticket_events
            ]
            seen: set[tuple[str, int]] = set()
            for a in attribute(record, records, phases, describe=self._describe):
                known = self.directory.by_ref.get(a.actor) or self._learn(session, a.actor)
                if (a.role, known.person_id) in seen:
                    continue  # two accounts of one person: one attribution
                seen.add((a.role, known.person_id))
                aff = self.affiliator.affiliate(a.actor, known.email, a.at)
                rows.append({
                    "ticket_id": t.id, "role": a.role, "account_id": known.id, "person_id": known.person_id,
                    "organisation": aff.organisation, "side": aff.side,
                    "event_id": event_ids.get(a.event_id) if a.event_id else None,
                    "at": a.at, "rule": a.rule, "explanation": a.explanation,
                })
        if changed:
            session.connection().execute(update(TICKETS).where(TICKETS.c.id == bindparam("b_id")), changed)
        if rows:
            session.execute(ATTRIBUTIONS.insert(), rows)
        return ClassifyResult(tickets=len(tickets), events=len(events), attributions=len(rows))

    def _describe(self, ref: str) -> str:
        known = self.directory.by_ref.get(ref)
        return (known.display_name or known.email or ref) if known else ref

    def _learn(self, session: Session, ref: str):
        """An account named only inside an event value (an assignee change): store it now."""
        tracker, _, external_id = ref.partition(":")
        self.directory.ensure(session, [AccountRecord(tracker, external_id)])
        return self.directory.by_ref[ref]


def _ref(refs: dict, account_id: int | None) -> str | None:
    known = refs.get(account_id) if account_id is not None else None
    return known.ref if known else None


def _ticket_select():
    c = TICKETS.c
    return select(c.id, c.source, c.external_id, c.key, c.project, c.type_name, c.kind, c.title, c.status,
                  c.phase, c.created, c.updated, c.resolved, c.url, c.reporter_id, c.assignee_id, c.priority,
                  c.labels)


def _event_select():
    c = EVENTS.c
    return select(c.id, c.ticket_id, c.external_id, c.kind, c.at, c.actor_id, c.field, c.from_value, c.to_value)


def _add(total: ClassifyResult, part: ClassifyResult) -> None:
    total.tickets += part.tickets
    total.events += part.events
    total.attributions += part.attributions


def classify_all(session: Session, config: Config, on_progress: Callable[[int, int], None] | None = None) -> ClassifyResult:
    """`partnerscope classify`: recompute kinds, phases and all attributions."""
    return Classifier(config, Directory(session)).classify_all(session, on_progress)


