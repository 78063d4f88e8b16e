"""Per-ticket facts behind the signals, checked by hand on small histories."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from analytics.phases import PhaseMap
from analytics.signals.facts import ticket_facts
from analytics.signals.records import Attributed, Fact, working_days_after
from connectors.records import Event, Ticket

START = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)  # a Monday
CLIENT, CLIENT2, PARTNER, PARTNER_B, STRANGER, MOVER = (
    "jira:cli", "jira:cli2", "jira:par", "jira:parb", "jira:who", "jira:mover")
MOVES_ON = date(2025, 3, 10)  # the mover works for the partner until then, for the client after


def side_of(ref: str, at: datetime) -> tuple[str, str | None]:
    if ref == MOVER:
        return ("partner", "Nordlys") if at.date() < MOVES_ON else ("client", "Acme")
    return {CLIENT: ("client", "Acme"), CLIENT2: ("client", "Acme"), PARTNER: ("partner", "Nordlys"),
            PARTNER_B: ("partner", "Fjord")}.get(ref, ("unknown", None))


def day(n: float) -> datetime:
    return START + timedelta(days=n)


def ticket(kind: str = "bug", reporter: str | None = CLIENT, assignee: str | None = None) -> Ticket:
    return Ticket(source="s", external_id="1", key="SHOP-1", project="SHOP", type_name=kind.title(), kind=kind,
                  title="t", status="Done", created=START, updated=day(30), reporter=reporter, assignee=assignee)


def ev(eid: str, kind: str, n: float, actor: str | None, frm: str | None = None, to: str | None = None,
       name: str | None = None) -> Event:
    return Event(eid, kind, day(n), actor, name or ("status" if kind == "transition" else None), frm, to)


def facts(t: Ticket, events: list[Event], attributed: list[Attributed] | None = None) -> list[Fact]:
    return ticket_facts(t, events, attributed or [], PhaseMap(), side_of)


def of(found: list[Fact], measure: str) -> list[Fact]:
    return [f for f in found if f.measure == measure]


def test_co_specification_counts_partner_part_before_development_only() -> None:
    before = facts(ticket("feature"), [ev("c", "created", 0, CLIENT), ev("m", "comment", 1, PARTNER),
                                       ev("t", "transition", 2, PARTNER, "To Do", "In Progress")])
    assert [(f.k, f.n, f.at, f.partner) for f in of(before, "co_specification")] == [(1, 1, day(2), "Nordlys")]
    after = facts(ticket("feature"), [ev("c", "created", 0, CLIENT), ev("d", "field", 1, CLIENT, name="description"),
                                      ev("t", "transition", 2, PARTNER, "To Do", "In Progress"),
                                      ev("m", "comment", 3, PARTNER)])
    assert [f.k for f in of(after, "co_specification")] == [0]
    never = facts(ticket("feature"), [ev("c", "created", 0, CLIENT), ev("m", "comment", 1, PARTNER)])
    assert of(never, "co_specification") == []
    assert of(facts(ticket("bug"), [ev("t", "transition", 2, PARTNER, "To Do", "In Progress")]),
              "co_specification") == []


def test_client_reopens_of_partner_closes() -> None:
    found = facts(ticket(), [ev("c", "created", 0, CLIENT),
                             ev("t1", "transition", 1, PARTNER, "In Progress", "Done"),
                             ev("t2", "transition", 2, CLIENT, "Done", "Reopened"),
                             ev("t3", "transition", 3, PARTNER, "Reopened", "Done"),
                             ev("t4", "transition", 4, PARTNER, "Done", "In Progress"),
                             ev("t5", "transition", 5, CLIENT, "In Progress", "Done")])
    # The first close was reopened by the client, the second by the partner; the client's own close counts not.
    assert [(f.at, f.k) for f in of(found, "client_reopen")] == [(day(1), 1), (day(3), 0)]


def test_client_reported_defect_response_and_escape() -> None:
    found = facts(ticket(), [ev("c", "created", 0, CLIENT), ev("m", "comment", 0.125, PARTNER)])
    assert [(f.k, f.x) for f in of(found, "first_response")] == [(1, 3.0)]
    assert [(f.k, f.n) for f in of(found, "escaped_defect")] == [(1, 1)]
    silent = facts(ticket(), [ev("c", "created", 0, CLIENT), ev("m", "comment", 1, CLIENT2)])
    assert [(f.k, f.x) for f in of(silent, "first_response")] == [(0, None)]
    by_partner = facts(ticket(reporter=PARTNER), [ev("c", "created", 0, PARTNER)])
    assert of(by_partner, "first_response") == []
    assert [f.k for f in of(by_partner, "escaped_defect")] == [0]
    unknown = facts(ticket(reporter=STRANGER), [ev("c", "created", 0, STRANGER), ev("m", "comment", 1, PARTNER)])
    assert of(unknown, "first_response") == [] and of(unknown, "escaped_defect") == []


def test_prioritised_together_needs_both_sides() -> None:
    both = facts(ticket("improvement"), [ev("r", "field", 1, CLIENT, name="Rank"),
                                         ev("p", "field", 2, PARTNER, "Low", "High", name="priority")])
    assert [(f.k, f.at) for f in of(both, "prioritised_together")] == [(1, day(1))]
    one = facts(ticket("improvement"), [ev("r", "field", 1, CLIENT, name="Rank")])
    assert [f.k for f in of(one, "prioritised_together")] == [0]
    assert of(facts(ticket("bug"), [ev("r", "field", 1, CLIENT, name="Rank")]), "prioritised_together") == []


def test_both_sides_and_an_unaffiliated_actor() -> None:
    assert [f.k for f in of(facts(ticket(), [ev("c", "created", 0, CLIENT), ev("m", "comment", 1, STRANGER)]),
                            "both_sides")] == [0]
    assert [f.k for f in of(facts(ticket(), [ev("c", "created", 0, CLIENT), ev("m", "comment", 1, PARTNER)]),
                            "both_sides")] == [1]
    assert of(facts(ticket(reporter=STRANGER), [ev("c", "created", 0, STRANGER)]), "both_sides") == []


def test_interventions_on_partner_owned_tickets() -> None:
    found = facts(ticket("task", assignee=CLIENT2), [
        ev("c", "created", 0, CLIENT),
        ev("a1", "assign", 1, CLIENT, None, PARTNER),       # assigns to the partner: not on partner-owned work yet
        ev("t1", "transition", 2, CLIENT, "To Do", "In Progress"),   # client moves partner-owned work
        ev("t2", "transition", 3, PARTNER, "In Progress", "In Review"),
        ev("a2", "assign", 4, STRANGER, PARTNER, CLIENT2),  # an unaffiliated act counts in no share
        ev("t3", "transition", 5, CLIENT2, "In Review", "Done"),     # the client's own ticket now
    ])
    assert [(f.at, f.k, f.partner) for f in of(found, "intervention")] == [(day(2), 1, "Nordlys"),
                                                                             (day(3), 0, "Nordlys")]


def test_comment_pairs_and_replies_within_two_working_days() -> None:
    friday = 4  # START is a Monday
    found = facts(ticket(), [
        ev("c", "created", 0, CLIENT),
        ev("m1", "comment", friday, CLIENT),
        ev("m2", "comment", friday + 4, PARTNER),    # Tuesday: two working days after Friday
        ev("m3", "comment", friday + 30, CLIENT2),   # beyond 14 days of the others: no pair, no cross
    ])
    assert sorted((f.person, f.other) for f in of(found, "comment_pair")) == [(PARTNER, CLIENT)]
    assert [(f.person, f.k) for f in of(found, "reply")] == [(CLIENT, 1), (PARTNER, 0), (CLIENT2, 0)]
    assert [(f.person, f.k) for f in of(found, "comment")] == [(CLIENT, 1), (PARTNER, 1), (CLIENT2, 0)]
    assert working_days_after(day(friday), 2) == day(friday + 4)


def test_a_person_who_changes_sides_counts_for_each_side_in_turn() -> None:
    attributed = [Attributed("test", MOVER, day(1), "partner", "Nordlys"),
                  Attributed("accept", MOVER, day(9), "client", "Acme")]
    found = facts(ticket(), [ev("c", "created", 0, CLIENT), ev("m", "comment", 1, MOVER),
                             ev("n", "comment", 9, MOVER)], attributed)
    assert [(f.measure, f.side, f.k, f.n, f.partner) for f in found if f.measure.startswith("role:")] == [
        ("role:test", "partner", 1, 1, "Nordlys"), ("role:accept", "client", 0, 1, "Nordlys")]
    assert [f.side for f in of(found, "comment")] == ["partner", "client"]


def test_two_partners_on_one_ticket() -> None:
    attributed = [Attributed("test", PARTNER_B, day(1), "partner", "Fjord"),
                  Attributed("resolve", PARTNER, day(2), "partner", "Nordlys"),
                  Attributed("accept", CLIENT, day(3), "client", "Acme"),
                  Attributed("investigate", STRANGER, day(3), "unknown", None)]
    events = [ev("c", "created", 0, CLIENT), ev("m1", "comment", 1, PARTNER_B), ev("m2", "comment", 2, PARTNER),
              ev("m3", "comment", 2.5, PARTNER)]
    found = facts(ticket(), events, attributed)
    roles = [(f.measure, f.partner, f.k, f.n) for f in found if f.measure.startswith("role:")]
    # Each partner's acts are its own; the client's act goes to the partner that acted most.
    assert roles == [("role:test", "Fjord", 1, 1), ("role:resolve", "Nordlys", 1, 1),
                     ("role:accept", "Nordlys", 0, 1), ("role:investigate", "Nordlys", 0, 0)]


def test_focus_counts_service_work_against_scope_work() -> None:
    assert [(f.k, f.at) for f in of(facts(ticket("incident"), []), "service_mix")] == [(1, START)]
    assert [f.k for f in of(facts(ticket("service_request"), []), "service_mix")] == [1]
    assert [f.k for f in of(facts(ticket("feature"), []), "service_mix")] == [0]
    assert of(facts(ticket("bug"), []), "service_mix") == []  # a defect is neither


def test_first_acts_of_partner_people_only() -> None:
    found = facts(ticket(), [ev("c", "created", 0, CLIENT), ev("m1", "comment", 1, PARTNER),
                             ev("m2", "comment", 2, PARTNER), ev("m3", "comment", 3, PARTNER_B),
                             ev("m4", "comment", 4, STRANGER)])
    assert [(f.person, f.at, f.partner) for f in of(found, "first_act")] == [
        (PARTNER, day(1), "Nordlys"), (PARTNER_B, day(3), "Fjord")]


def test_contacts_are_client_assignments_of_partner_people() -> None:
    found = facts(ticket(), [ev("a1", "assign", 1, CLIENT, None, PARTNER), ev("a2", "assign", 2, PARTNER, PARTNER, CLIENT2),
                             ev("a3", "assign", 3, CLIENT, CLIENT2, STRANGER)])
    assert [(f.person, f.other, f.at) for f in of(found, "contact")] == [(PARTNER, CLIENT, day(1))]
