"""Signal facts and their monthly sums, written and forgotten together.

`signal_rollups` holds the facts summed by measure, month, partner, project and, for the
person-level measures, person: reports read those sums, not the facts, so their cost does not
grow with the number of tickets. Every write of facts goes through `add_facts` and every
removal through `forget_facts`, which adjust the sums in the same transaction. Sums are
adjusted in key order, so two transactions adjusting the same months lock rows in the same
order and cannot deadlock on PostgreSQL.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from analytics.signals.durations import bucket
from service.store.models import SignalRollup
from service.store.sql import FACT_COLUMNS, FACTS, bulk_insert, dialect_insert

ROLLUPS = SignalRollup.__table__
#: Measures summed per person (side and person), and per pair of people.
PER_PERSON = frozenset({"comment", "first_act"})
PER_PAIR = frozenset({"comment_pair", "contact"})
DURATIONS = frozenset({"response_hours"})
KEY = ("measure", "month", "partner", "project", "side", "person_id", "other_person_id")
Key = tuple[str, str, str, str, str, int, int]


def rollup_key(measure: str, month: str, partner: str | None, project: str, side: str | None,
               person: int | None, other: int | None, x: float | None) -> Key:
    """The sums' key of a fact: the acting side for roles, person and pair only for the measures
    read per person, the duration's bucket (in `person_id`) for durations."""
    if measure in PER_PAIR:
        return (measure, month, partner or "", project, "", person or 0, other or 0)
    if measure in PER_PERSON:
        return (measure, month, partner or "", project, side or "", person or 0, 0)
    if measure.startswith("role:"):
        return (measure, month, partner or "", project, side or "", 0, 0)
    if measure in DURATIONS:
        return (measure, month, partner or "", project, "", bucket(x or 0.0), 0)
    return (measure, month, partner or "", project, "", 0, 0)


def add_facts(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert fact rows (`FACT_COLUMNS` order) and add them to the sums."""
    bulk_insert(session, FACTS, FACT_COLUMNS, rows)
    sums: dict[Key, list[int]] = {}
    for r in rows:
        cell = sums.setdefault(rollup_key(r[1], r[3], r[5], r[4], r[6], r[7], r[8], r[11]), [0, 0, 0])
        cell[0] += r[9]
        cell[1] += r[10]
        cell[2] += 1
    _adjust(session, sums)


def forget_facts(session: Session, ticket_ids: Sequence[int]) -> None:
    """Delete the facts of these tickets and take them out of the sums."""
    f = FACTS.c
    if not ticket_ids:
        return
    rows = session.execute(
        select(f.measure, f.month, f.partner, f.project, f.side, f.person_id, f.other_person_id, f.x,
               func.sum(f.n), func.sum(f.k), func.count())
        .where(f.ticket_id.in_(list(ticket_ids)))
        .group_by(f.measure, f.month, f.partner, f.project, f.side, f.person_id, f.other_person_id, f.x))
    sums: dict[Key, list[int]] = {}
    for r in rows:
        cell = sums.setdefault(rollup_key(*r[:8]), [0, 0, 0])
        cell[0] -= r[8]
        cell[1] -= r[9]
        cell[2] -= r[10]
    if sums:
        session.execute(delete(FACTS).where(f.ticket_id.in_(list(ticket_ids))))
        _adjust(session, sums)


def forget_all(session: Session) -> None:
    session.execute(delete(FACTS))
    session.execute(delete(ROLLUPS))


@contextmanager
def rebuilding(session: Session) -> Iterator[None]:
    """Every fact is about to be written again (`partnerscope classify`). On SQLite, without the
    facts' indexes, which are built once at the end as a bulk load should be (in the same
    transaction; readers keep their snapshot). PostgreSQL keeps them: dropping one there would
    lock every reader of the facts out until the classify commits."""
    forget_all(session)
    bind = session.connection()
    indexes = list(FACTS.indexes) if bind.dialect.name == "sqlite" else []
    for index in indexes:
        index.drop(bind, checkfirst=True)
    yield
    for index in indexes:
        index.create(bind, checkfirst=True)


def _adjust(session: Session, sums: dict[Key, list[int]]) -> None:
    changes = [dict(zip(KEY, key), n=v[0], k=v[1], c=v[2]) for key, v in sorted(sums.items()) if any(v)]
    if not changes:
        return
    insert = dialect_insert(session, ROLLUPS)
    insert = insert.on_conflict_do_update(
        index_elements=list(KEY),
        set_={"n": ROLLUPS.c.n + insert.excluded.n, "k": ROLLUPS.c.k + insert.excluded.k,
              "c": ROLLUPS.c.c + insert.excluded.c})
    for start in range(0, len(changes), 500):
        session.execute(insert, changes[start:start + 500])
    months = sorted({key[1] for key, v in sums.items() if v[2] < 0})
    if months:  # sums that no fact holds any more
        session.execute(delete(ROLLUPS).where(ROLLUPS.c.month.in_(months), ROLLUPS.c.c <= 0))
