"""Turn tickets and their events into attribution rows, for a stored page or for everything.

Both paths share `Classifier.rows_for`: apply the analytics rules to one ticket's records,
affiliate each actor at the time of the act, and produce the rows to insert. A freshly stored
page is attributed from the records already in memory; `classify_all` walks the tickets table
in id ranges and rebuilds the records from the database, so memory stays flat however large
the database grows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from typing import Any, Callable, Sequence

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from analytics.affiliation import Affiliation
from analytics.attribution import attribute, attribute_linked
from analytics.signals.facts import ticket_facts
from analytics.signals.records import Attributed
from connectors.records import Account as AccountRecord
from connectors.records import Event as EventRecord
from connectors.records import ParsedTicket
from connectors.records import Ticket as TicketRecord
from service.config import Config
from service.store.directory import Directory, KnownAccount
from service.store.identity import affected_tickets, recompute_people
from service.store.affiliations import Affiliations
from service.store.models import Setting
from service.store.quality import SIGNALS_OWED
from service.store.rollups import Share, Sums, TicketShare, add_shares, forget_shares, rebuilding, share_key
from service.store.sql import ATTRIBUTION_COLUMNS, ATTRIBUTIONS, EVENTS, LINKS, TICKETS, bulk_insert

BATCH = 2000
SIDE_CACHE = 200_000  # affiliations remembered by account and day (a person's acts cluster in days)


@dataclass(slots=True)
class ClassifyResult:
    tickets: int = 0
    events: int = 0
    attributions: int = 0


class Classifier:
    """Applies the configured phases, kinds, rules and affiliations to tickets."""

    def __init__(self, config: Config, directory: Directory) -> None:
        self.config = config
        self.directory = directory
        self.affiliations = Affiliations(config, directory)
        self._sides: dict[tuple[str, int], tuple[str, str | None]] = {}  # (account, day) -> side, organisation
        self._rebuild: Sums | None = None  # the sums `classify_all` gathers

    def attribute_new(self, session: Session, inserted: Sequence[tuple[int, ParsedTicket]]) -> ClassifyResult:
        """Attribute tickets this transaction has just inserted, from their records in memory. They
        hold no attributions or signal shares yet, so none are looked for: on PostgreSQL without
        planner statistics, deleting a page's attributions by ticket scans the whole table."""
        self._sides.clear()  # people may have been regrouped or assigned since the last page
        self.affiliations.refresh()
        rows: list[tuple[Any, ...]] = []
        shares: list[TicketShare] = []
        events = 0
        linked = self._linked_prs(session, [item.ticket.key for _, item in inserted])
        for tid, item in inserted:
            found = self.rows_for(session, tid, item.ticket, item.events, linked.get(item.ticket.key, ()))
            rows.extend(found)
            shares.append(self.share_of(session, tid, item.ticket, item.events, found))
            events += len(item.events)
        bulk_insert(session, ATTRIBUTIONS, ATTRIBUTION_COLUMNS, rows)
        add_shares(session, shares)
        return ClassifyResult(tickets=len(inserted), events=events, attributions=len(rows))

    def classify_all(self, session: Session, on_progress: Callable[[int, int], None] | None = None) -> ClassifyResult:
        """Recompute every kind, phase and attribution, in id ranges so memory stays bounded."""
        count = session.scalar(select(func.count()).select_from(TICKETS)) or 0
        session.execute(delete(ATTRIBUTIONS))
        session.execute(delete(Setting).where(Setting.key == SIGNALS_OWED))
        total = ClassifyResult()
        with rebuilding(session) as sums:
            self._rebuild = sums
            try:
                self._classify_batches(session, count, total, on_progress)
            finally:
                self._rebuild = None
        return total

    def _classify_batches(self, session: Session, count: int, total: ClassifyResult,
                          on_progress: Callable[[int, int], None] | None) -> None:
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
                .order_by(EVENTS.c.ticket_id)
            ).all()
            self._classify_rows(session, tickets, events, total)
            if on_progress:
                on_progress(total.tickets, count)

    def _classify_rows(self, session: Session, tickets: Sequence[Any], events: Sequence[Any],
                       total: ClassifyResult) -> None:
        by_ticket = self._events_by_ticket(events)
        linked = self._linked_prs(session, [t.key for t in tickets])
        rows: list[tuple[Any, ...]] = []
        shares: list[TicketShare] = []
        changed: list[dict[str, Any]] = []
        for t in tickets:
            if t.deleted_at is not None:
                continue  # deleted by the tracker: out of the reports, its history kept
            record = self._record(t)
            if record.kind != t.kind or self.config.phases.phase(t.status) != t.phase:
                changed.append({"b_id": t.id, "kind": record.kind, "phase": self.config.phases.phase(t.status)})
            history = by_ticket.get(t.id, ())
            found = self.rows_for(session, t.id, record, history, linked.get(t.key, ()))
            rows.extend(found)
            shares.append(self.share_of(session, t.id, record, history, found))
        if changed:
            session.connection().execute(update(TICKETS).where(TICKETS.c.id == bindparam("b_id")), changed)
        bulk_insert(session, ATTRIBUTIONS, ATTRIBUTION_COLUMNS, rows)
        add_shares(session, shares, self._rebuild)
        total.tickets += len(tickets)
        total.events += len(events)
        total.attributions += len(rows)

    def _record(self, t: Any) -> TicketRecord:
        """A stored ticket row as a neutral record, kind recomputed from the configuration."""
        labels = tuple(t.labels or ())
        ref = self._ref
        return TicketRecord(
            source=t.source, external_id=t.external_id, key=t.key, project=t.project,
            type_name=t.type_name, kind=self.config.kinds.kind(t.type_name, labels), title=t.title,
            status=t.status, created=t.created, updated=t.updated, resolved=t.resolved, url=t.url,
            reporter=ref(t.reporter_id), assignee=ref(t.assignee_id), priority=t.priority, labels=labels,
            site=t.site, resolution=t.resolution,
        )

    def _events_by_ticket(self, events: Sequence[Any]) -> dict[int, list[EventRecord]]:
        # The hot loop of a classify (a million events at 100,000 tickets): rows unpacked and the
        # actor looked up inline, which halves its time against attribute access and `_ref`.
        by_ticket: dict[int, list[EventRecord]] = {}
        by_id = self.directory.by_id
        for ticket_id, external_id, kind, at, actor_id, field, from_value, to_value in events:
            known = by_id.get(actor_id) if actor_id is not None else None
            event = EventRecord(external_id, kind, at, known.ref if known else None, field, from_value, to_value)
            found = by_ticket.get(ticket_id)
            if found is None:
                by_ticket[ticket_id] = [event]
            else:
                found.append(event)
        return by_ticket

    def _linked_prs(self, session: Session, keys: Sequence[str]) -> dict[str, list[tuple[TicketRecord, list[EventRecord]]]]:
        """The pull requests that say they work on these tickets, with their events, by ticket key."""
        links: list[tuple[int, str]] = []
        for start in range(0, len(keys), 500):
            links.extend(session.execute(
                select(LINKS.c.ticket_id, LINKS.c.target_key).where(LINKS.c.target_key.in_(keys[start:start + 500]))))
        if not links:
            return {}
        pr_ids = sorted({pr for pr, _ in links})
        prs = {t.id: t for t in session.execute(_ticket_select().where(TICKETS.c.id.in_(pr_ids)))}
        events = self._events_by_ticket(session.execute(_event_select().where(EVENTS.c.ticket_id.in_(pr_ids))).all())
        linked: dict[str, list[tuple[TicketRecord, list[EventRecord]]]] = {}
        for pr, key in links:
            if pr in prs:
                linked.setdefault(key, []).append((self._record(prs[pr]), events.get(pr, [])))
        return linked

    def rows_for(self, session: Session, ticket_id: int, ticket: TicketRecord, events: Sequence[EventRecord],
                 linked: Sequence[tuple[TicketRecord, Sequence[EventRecord]]] = ()) -> list[tuple[Any, ...]]:
        """The attribution rows of one ticket (and of the pull requests linked to it): one per role
        and person, side as of the act."""
        rows = []
        seen: set[tuple[str, int]] = set()
        settings = self.config.rules
        if linked:
            found = attribute_linked(ticket, events, linked, self.config.phases, describe=self._describe,
                                     settings=settings)
        else:
            found = attribute(ticket, events, self.config.phases, describe=self._describe, settings=settings)
        for a in found:
            known = self.directory.by_ref.get(a.actor) or self._learn(session, a.actor)
            if (a.role, known.person_id) in seen:
                continue  # two accounts of one person: one attribution
            seen.add((a.role, known.person_id))
            aff = self.affiliation_of(session, known, a.at)
            rows.append((ticket_id, a.role, known.id, known.person_id, aff.organisation, aff.side,
                         a.event_id, a.at, a.rule, a.explanation))
        return rows

    def share_of(self, session: Session, ticket_id: int, ticket: TicketRecord, events: Sequence[EventRecord],
                 rows: Sequence[tuple[Any, ...]]) -> TicketShare:
        """The signal facts of one ticket (`analytics.signals.facts`), summed as the store keeps them."""
        by_id = self.directory.by_id
        attributed = [Attributed(r[1], by_id[r[2]].ref, r[7], r[5], r[4]) for r in rows]
        sides = self._sides
        if len(sides) > SIDE_CACHE:
            sides.clear()

        def side_of(ref: str, at: Any) -> tuple[str, str | None]:
            key = (ref, (at.astimezone(timezone.utc) if at.tzinfo else at).toordinal())  # a UTC day
            found = sides.get(key)
            if found is None:
                known = self.directory.by_ref.get(ref) or self._learn(session, ref)
                aff = self.affiliation_of(session, known, at)
                found = sides[key] = (aff.side, aff.organisation)
            return found

        person = self._person
        share: Share = {}
        uncredited = False
        for f in ticket_facts(ticket, events, attributed, self.config.phases, side_of):
            key = share_key(f.measure, f.at, f.partner, f.side, person(session, f.person), person(session, f.other), f.x)
            cell = share.get(key)
            if cell is None:
                share[key] = [f.n, f.k, 1]
            else:
                cell[0] += f.n
                cell[1] += f.k
                cell[2] += 1
            uncredited = uncredited or f.measure == "uncredited"
        return TicketShare(ticket_id, ticket.project, uncredited, share)

    def _person(self, session: Session, ref: str | None) -> int | None:
        if ref is None:
            return None
        known = self.directory.by_ref.get(ref) or self._learn(session, ref)
        return known.person_id

    def affiliation_of(self, session: Session, known: KnownAccount, at: Any) -> Affiliation:
        """The acting account's affiliation at `at` (`service.store.affiliations`)."""
        return self.affiliations.of(session, known, at)

    def reclassify(self, session: Session, ticket_ids: Sequence[int]) -> ClassifyResult:
        """Attribute these stored tickets again from the database (after people were regrouped)."""
        self._sides.clear()  # what the regroup or assignment changed must not be read from the cache
        self.affiliations.refresh()
        total = ClassifyResult()
        for start in range(0, len(ticket_ids), BATCH):
            chunk = list(ticket_ids[start:start + BATCH])
            forget(session, chunk)
            tickets = session.execute(_ticket_select().where(TICKETS.c.id.in_(chunk)).order_by(TICKETS.c.id)).all()
            events = session.execute(_event_select().where(EVENTS.c.ticket_id.in_(chunk))).all()
            self._classify_rows(session, tickets, events, total)
        return total

    def _ref(self, account_id: int | None) -> str | None:
        known = self.directory.by_id.get(account_id) if account_id is not None else None
        return known.ref if known else None

    def _describe(self, ref: str) -> str:
        known = self.directory.by_ref.get(ref)
        return (known.display_name or known.email or ref) if known else ref

    def _learn(self, session: Session, ref: str) -> KnownAccount:
        """An account named only inside an event value (an assignee change): store it now."""
        tracker, _, external_id = ref.partition(":")
        self.directory.ensure(session, [AccountRecord(tracker, external_id)])
        return self.directory.by_ref[ref]


def forget(session: Session, ticket_ids: Sequence[int]) -> None:
    """Drop the attributions and signal shares of these tickets (before they are made again)."""
    for start in range(0, len(ticket_ids), BATCH):
        chunk = list(ticket_ids[start:start + BATCH])
        session.execute(delete(ATTRIBUTIONS).where(ATTRIBUTIONS.c.ticket_id.in_(chunk)))
        forget_shares(session, chunk)


def _ticket_select() -> Any:
    c = TICKETS.c
    return select(c.id, c.source, c.external_id, c.key, c.project, c.type_name, c.kind, c.title, c.status,
                  c.phase, c.created, c.updated, c.resolved, c.url, c.reporter_id, c.assignee_id, c.priority,
                  c.labels, c.site, c.resolution, c.deleted_at)


def _event_select() -> Any:
    c = EVENTS.c
    return select(c.ticket_id, c.external_id, c.kind, c.at, c.actor_id, c.field, c.from_value, c.to_value)


def classify_all(session: Session, config: Config, on_progress: Callable[[int, int], None] | None = None) -> ClassifyResult:
    """`partnerscope classify`: regroup people, recompute kinds, phases and all attributions."""
    directory = Directory(session)
    recompute_people(session, config, directory)
    return Classifier(config, directory).classify_all(session, on_progress)


def regroup(session: Session, config: Config, classifier: Classifier) -> int:
    """Recompute people and attribute again every ticket the change touches; returns how many."""
    touched = recompute_people(session, config, classifier.directory)
    tickets = affected_tickets(session, touched) if touched else []
    classifier.reclassify(session, tickets)
    return len(tickets)
