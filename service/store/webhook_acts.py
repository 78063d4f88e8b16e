"""One act stored once, whether a webhook or a sync reported it first.

GitHub's webhooks report some acts (an issue closed, reopened, labelled, assigned, renamed)
without the issue event's id that the sync stores them under (`e<id>`); the parser gives such
an act the delivery's id (`w:<delivery>`) and otherwise the very same fields
(`connectors.webhooks.same_act` says whether two are one act). Whichever copy arrives second
gives way: a webhook act already stored under its tracker id is not stored again, and a
tracker-id event replaces the webhook copy of its act. Tickets without webhook acts pay one
indexed look-up per page.
"""
from __future__ import annotations

from typing import Callable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connectors.records import Event, ParsedTicket
from connectors.webhooks import WEBHOOK_ACT_PREFIX, match_acts
from service.store.sql import EVENTS, chunks

ACT_KINDS = ("transition", "label", "assign", "field")


def reconcile(session: Session, items: Sequence[tuple[int, ParsedTicket]],
              ref_of: Callable[[int | None], str | None]) -> set[tuple[int, str]]:
    """For tickets about to get events: delete stored webhook acts that an incoming tracker-id
    event is; return the incoming webhook acts that are stored already (to skip)."""
    incoming_w = {tid: [e for e in item.events if e.external_id.startswith(WEBHOOK_ACT_PREFIX)] for tid, item in items}
    incoming_ids = {tid: [e for e in item.events if e.kind in ACT_KINDS and not e.external_id.startswith(WEBHOOK_ACT_PREFIX)]
                    for tid, item in items}
    ids = [tid for tid, _ in items]
    stored_w: dict[int, list[Event]] = {}
    for chunk in chunks(ids, 500):  # the webhook acts stored for these tickets: an indexed range per ticket
        rows = session.execute(select(*_COLUMNS).where(EVENTS.c.ticket_id.in_(chunk),
                                                       EVENTS.c.external_id.like(WEBHOOK_ACT_PREFIX + "%")))
        for row in rows:
            stored_w.setdefault(row.ticket_id, []).append(_event(row, ref_of))
    gone: list[tuple[int, str]] = []
    for tid, events in stored_w.items():  # each act pairs once: a label added, removed, added again is three
        gone += [(tid, w.external_id) for w, _ in match_acts(events, incoming_ids.get(tid, ()))]
    for tid, external_id in gone:
        session.execute(delete(EVENTS).where(EVENTS.c.ticket_id == tid, EVENTS.c.external_id == external_id))
    wanted = [tid for tid, events in incoming_w.items() if events]
    skip: set[tuple[int, str]] = set()
    for chunk in chunks(wanted, 500):
        rows = session.execute(select(*_COLUMNS).where(EVENTS.c.ticket_id.in_(chunk), EVENTS.c.kind.in_(ACT_KINDS)))
        stored: dict[int, list[Event]] = {}
        for row in rows:
            if not row.external_id.startswith(WEBHOOK_ACT_PREFIX):
                stored.setdefault(row.ticket_id, []).append(_event(row, ref_of))
        for tid in chunk:
            skip |= {(tid, w.external_id) for w, _ in match_acts(incoming_w[tid], stored.get(tid, ()))}
    return skip


_COLUMNS = (EVENTS.c.ticket_id, EVENTS.c.external_id, EVENTS.c.kind, EVENTS.c.at, EVENTS.c.actor_id, EVENTS.c.field,
            EVENTS.c.from_value, EVENTS.c.to_value)


def _event(row: object, ref_of: Callable[[int | None], str | None]) -> Event:
    return Event(row.external_id, row.kind, row.at, ref_of(row.actor_id), row.field,  # type: ignore[attr-defined]
                 row.from_value, row.to_value)  # type: ignore[attr-defined]
