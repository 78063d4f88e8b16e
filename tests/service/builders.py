"""Small builders of neutral records for service tests."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from connectors.records import Account, Event, ParsedTicket, Ticket

T0 = datetime(2025, 2, 1, 9, 0, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def account(external_id: str, name: str | None = None, email: str | None = None) -> Account:
    return Account("jira", external_id, name or external_id.title(), email)


def ticket(
    number: int,
    *,
    kind: str = "bug",
    type_name: str = "Bug",
    status: str = "Done",
    reporter: str | None = "jira:client-1",
    updated: float = 10,
    source: str = "test-jira",
    project: str = "SHOP",
    labels: tuple[str, ...] = (),
) -> Ticket:
    return Ticket(
        source=source, external_id=str(10000 + number), key=f"{project}-{number}", project=project,
        type_name=type_name, kind=kind, title=f"ticket {number}", status=status,
        created=at(0), updated=at(updated), reporter=reporter, labels=labels,
    )


def transition(n: int, hours: float, actor: str | None, old: str, new: str) -> Event:
    return Event(f"h{n}.0", "transition", at(hours), actor, "status", old, new)


def parsed(t: Ticket, events: list[Event], accounts: list[Account] | None = None) -> ParsedTicket:
    refs = {t.reporter} | {e.actor for e in events}
    known = accounts or [Account(r.split(":", 1)[0], r.split(":", 1)[1], r.split(":", 1)[1].title()) for r in refs if r]
    created = [Event("created", "created", t.created, t.reporter)]
    return ParsedTicket(t, known, created + events)


def bug_through_qa(number: int, *, tester: str = "jira:partner-1", deployer: str = "jira:client-1",
                   updated: float = 10, **kw: object) -> ParsedTicket:
    """A bug reported by the client, tested by `tester`, deployed by `deployer`."""
    t = ticket(number, updated=updated, **kw)  # type: ignore[arg-type]
    return parsed(t, [
        transition(1, 1, "jira:partner-1", "Backlog", "In Progress"),
        transition(2, 2, "jira:partner-1", "In Progress", "In QA"),
        transition(3, 3, tester, "In QA", "Ready for Release"),
        transition(4, 4, deployer, "Ready for Release", "Deployed"),
    ])
