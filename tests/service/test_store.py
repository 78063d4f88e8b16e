"""Store and attribution in the database: idempotent, newest copy wins, affiliation at the time of the act."""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from connectors.records import Account
from service.jobs.classify import Classifier, classify_all
from service.store.db import transaction
from service.store.models import Account as AccountRow
from service.store.models import Attribution, Event, Ticket
from service.jobs.pipeline import store_and_attribute
from service.store.directory import Directory
from tests.service.builders import at, bug_through_qa, parsed, ticket, transition


def ingest(sessions, config, items):
    """Store and attribute one page as every ingestion path does."""
    with transaction(sessions) as session:
        directory = Directory(session)
        classifier = Classifier(config, directory)
        return store_and_attribute(session, items, directory, classifier, config)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_same_page_twice_changes_nothing(sessions, config) -> None:
    page = [bug_through_qa(1), bug_through_qa(2)]
    first = ingest(sessions, config, page)
    assert (first.tickets, first.events) == (2, 10)
    with sessions() as s:
        before = (count(s, Ticket), count(s, Event), count(s, Attribution), count(s, AccountRow))
    again = ingest(sessions, config, page)
    assert (again.tickets, again.events, again.skipped_stale) == (0, 0, 2)
    with sessions() as s:
        assert (count(s, Ticket), count(s, Event), count(s, Attribution), count(s, AccountRow)) == before


def test_older_copy_never_overwrites_newer(sessions, config) -> None:
    ingest(sessions, config, [bug_through_qa(1, updated=10, status="Deployed")])
    older = parsed(ticket(1, updated=5, status="In Progress"), [])
    assert ingest(sessions, config, [older]).tickets == 0
    with sessions() as s:
        assert s.scalar(select(Ticket.status)) == "Deployed"


def test_newer_copy_updates_ticket_and_adds_only_new_events(sessions, config) -> None:
    ingest(sessions, config, [bug_through_qa(1, updated=10)])
    newer = bug_through_qa(1, updated=20, status="Done")
    newer.events.append(transition(5, 19, "jira:client-1", "Deployed", "Done"))
    result = ingest(sessions, config, [newer])
    assert (result.tickets, result.events) == (1, 1)
    with sessions() as s:
        assert s.scalar(select(Ticket.status)) == "Done"
        assert s.scalar(select(Ticket.phase)) == "done"
        assert count(s, Event) == 6


def test_newest_copy_wins_inside_one_batch(sessions, config) -> None:
    result = ingest(sessions, config, [bug_through_qa(1, updated=20, status="Done"), bug_through_qa(1, updated=10, status="In QA")])
    assert result.tickets == 1
    with sessions() as s:
        assert s.scalar(select(Ticket.status)) == "Done"


def test_account_learns_email_later_and_stays_one_row(sessions, config) -> None:
    t = ticket(1)
    ingest(sessions, config, [parsed(t, [], [Account("jira", "client-1", "Cleo")])])
    later = ticket(1, updated=20)
    ingest(sessions, config, [parsed(later, [], [Account("jira", "client-1", "Cleo C", "cleo@acme.example")])])
    with sessions() as s:
        rows = s.execute(select(AccountRow.display_name, AccountRow.email)).all()
    assert rows == [("Cleo C", "cleo@acme.example")]


def test_attributions_carry_side_at_the_time_and_evidence(sessions, config) -> None:
    # The mover is with the partner until 2025-03-31 and with the client from 2025-04-01.
    item = bug_through_qa(1, tester="jira:mover", deployer="jira:stranger")
    ingest(sessions, config, [item])
    with sessions() as s:
        rows = {r.role: r for r in s.scalars(select(Attribution))}
        test_event = s.scalar(select(Event).where(Event.ticket_id == rows["test"].ticket_id,
                                                Event.external_id == rows["test"].event_external_id))
    assert rows["detect"].side == "client" and rows["detect"].organisation == "Acme"
    assert rows["test"].side == "partner" and rows["test"].organisation == "Nordlys"
    assert test_event.external_id == "h3.0" and rows["test"].rule
    assert "In QA" in rows["test"].explanation
    assert rows["deploy"].side == "unknown" and rows["deploy"].organisation is None
    assert rows["investigate"].side == "partner"


def test_time_bounded_enrollment_switches_sides(sessions, config) -> None:
    early = bug_through_qa(1, tester="jira:mover")  # tested in February
    late_ticket = replace(ticket(2), created=at(24 * 70), updated=at(24 * 71))  # April
    late = parsed(late_ticket, [transition(3, 24 * 70 + 1, "jira:mover", "In QA", "UAT")])
    ingest(sessions, config, [early, late])
    with sessions() as s:
        sides = dict(s.execute(select(Ticket.key, Attribution.side).join(Ticket, Ticket.id == Attribution.ticket_id)
                               .where(Attribution.role == "test")).all())
    assert sides == {"SHOP-1": "partner", "SHOP-2": "client"}


def test_classify_recomputes_after_a_config_change(sessions, config) -> None:
    from analytics.phases import PhaseMap

    item = parsed(ticket(1, status="Klar"), [transition(1, 1, "jira:partner-1", "Klar", "Done")])
    ingest(sessions, config, [item])
    with sessions() as s:
        assert count(s, Attribution) == 2  # detect + resolve; "Klar" is unmapped, so no test
    remapped = replace(config, phases=PhaseMap({"Klar": "test"}))
    with transaction(sessions) as s:
        result = classify_all(s, remapped)
    assert result.tickets == 1
    with sessions() as s:
        roles = set(s.scalars(select(Attribution.role)))
        assert s.scalar(select(Ticket.phase)) == "test"
    assert roles == {"detect", "resolve", "test"}


def test_event_times_round_trip_through_the_bulk_insert(sessions, config) -> None:
    from datetime import timedelta, timezone

    offset = timezone(timedelta(hours=2))
    precise = at(1).replace(microsecond=123456).astimezone(offset)  # aware, not UTC, with microseconds
    whole = at(2)
    item = parsed(ticket(1), [transition(1, 0, "jira:partner-1", "In QA", "UAT")])
    item.events[1:] = [replace(item.events[1], at=precise), transition(2, 2, "jira:partner-1", "UAT", "Done")]
    ingest(sessions, config, [item])
    with sessions() as s:
        times = {e.external_id: e.at for e in s.scalars(select(Event))}
        # Comparisons in SQL must agree with Python's for both shapes of stored text.
        later = set(s.scalars(select(Event.external_id).where(Event.at >= precise)))
    assert times["h1.0"] == precise and times["h2.0"] == whole
    assert later == {"h1.0", "h2.0"}


def test_attached_acts_land_once_on_stored_tickets_in_two_queries(sessions, config, engine) -> None:
    from sqlalchemy import event as sa_event

    from connectors.records import Event as Act
    from connectors.webhooks import TicketEvents
    from service.store.models import RemovedEvent
    from service.store.upserts import attach_events

    ingest(sessions, config, [bug_through_qa(1), bug_through_qa(2), bug_through_qa(4)])
    with transaction(sessions) as session:  # the tracker deleted c4 before this batch came
        session.add(RemovedEvent(source="test-jira", ticket_external_id="10004", event_external_id="c4",
                                 removed_at=at(6)))
    comment = Act("c7", "comment", at(5), "jira:partner-1")
    acts = [TicketEvents("test-jira", str(10000 + n), f"SHOP-{n}", (Account("jira", "partner-1", "Partner-1"),),
                         (replace(comment, external_id=f"c{n}"),)) for n in (1, 2, 1, 3, 4)]  # SHOP-1 twice; 3 not stored
    acts.append(TicketEvents("test-jira", "10002", "SHOP-2", (), (bug_through_qa(2).events[1],)))  # stored already
    selects: list[str] = []
    listener = lambda *args: selects.append(args[2]) if args[2].lstrip().upper().startswith("SELECT") else None  # noqa: E731
    with transaction(sessions) as session:
        directory = Directory(session)
        sa_event.listen(engine, "before_cursor_execute", listener)
        try:
            touched = attach_events(session, directory, acts)
        finally:
            sa_event.remove(engine, "before_cursor_execute", listener)
    with sessions() as s:
        ids = dict(s.execute(select(Ticket.key, Ticket.id)).all())
        comments = sorted(s.execute(select(Ticket.key, Event.external_id).join(Ticket, Event.ticket_id == Ticket.id)
                                    .where(Event.kind == "comment")).all())
    assert sorted(touched) == sorted([ids["SHOP-1"], ids["SHOP-2"]])
    assert comments == [("SHOP-1", "c1"), ("SHOP-2", "c2")]
    assert len(selects) == 2  # the tickets, then their stored and removed events: not two per act
