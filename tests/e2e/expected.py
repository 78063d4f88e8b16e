"""What a complete sync of scenario issues must store and how many requests it may take."""
from __future__ import annotations

import math
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import aliased

from service.store.models import Account, Attribution, Event, Person, SyncState, Ticket

PAGE = 100


def events_of(issue: dict[str, Any]) -> int:
    """`created`, one event per changelog item, one per comment (as connectors.jira_parse makes them)."""
    items = sum(len(history["items"]) for history in issue["changelog"]["histories"])
    return 1 + items + len(issue["fields"]["comment"]["comments"])


def cloud_requests(issues: list[dict[str, Any]], embedded_histories: int = 40, embedded_comments: int = 20,
                   bulk_histories: int = 10000) -> dict[str, int]:
    """Requests a first Cloud sync needs: the count, one search per 100 issues, the bulk changelog
    requests for the cut changelogs (they wait across pages: per 1000 issues, per `bulk_histories`
    histories), and the comments beyond the embedded page."""
    pages = [issues[i:i + PAGE] for i in range(0, len(issues), PAGE)] or [[]]
    cut = [len(i["changelog"]["histories"]) for i in issues if len(i["changelog"]["histories"]) > embedded_histories]
    bulk = sum(math.ceil(sum(cut[i:i + 1000]) / bulk_histories) for i in range(0, len(cut), 1000))
    comments = sum(math.ceil((len(i["fields"]["comment"]["comments"]) - embedded_comments) / 100)
                   for i in issues if len(i["fields"]["comment"]["comments"]) > embedded_comments)
    counts = {"POST /rest/api/3/search/approximate-count": 1, "GET /rest/api/3/search/jql": len(pages),
              "POST /rest/api/3/changelog/bulkfetch": bulk, "GET /rest/api/3/issue/{id}/comment": comments}
    return {endpoint: n for endpoint, n in counts.items() if n}


def rows(sessions, url: str) -> dict[str, set[tuple]]:
    """Every stored row by natural keys (no database ids), the fake's URL written as <jira>."""
    actor, reporter, assignee = aliased(Account), aliased(Account), aliased(Account)
    with sessions() as s:
        tickets = {
            (t.source, t.external_id, t.key, t.project, t.type_name, t.kind, t.title, t.status, t.phase, t.created,
             t.updated, t.resolved, (t.url or "").replace(url, "<jira>"), r, a, t.priority, tuple(t.labels))
            for t, r, a in s.execute(
                select(Ticket, reporter.external_id, assignee.external_id)
                .outerjoin(reporter, Ticket.reporter_id == reporter.id)
                .outerjoin(assignee, Ticket.assignee_id == assignee.id))
        }
        events = set(map(tuple, s.execute(
            select(Ticket.key, Event.external_id, Event.kind, Event.at, actor.external_id, Event.field,
                   Event.from_value, Event.to_value)
            .join(Ticket, Event.ticket_id == Ticket.id).outerjoin(actor, Event.actor_id == actor.id))))
        attributions = set(map(tuple, s.execute(
            select(Ticket.key, Attribution.role, actor.external_id, Attribution.organisation, Attribution.side,
                   Attribution.event_external_id, Attribution.at, Attribution.rule, Attribution.explanation)
            .join(Ticket, Attribution.ticket_id == Ticket.id).join(actor, Attribution.account_id == actor.id))))
        accounts = set(map(tuple, s.execute(select(Account.tracker, Account.external_id, Account.display_name,
                                                   Account.email))))
    return {"tickets": tickets, "events": events, "attributions": attributions, "accounts": accounts}


def wipe(sessions) -> None:
    """Empty every table, children first, so a second run starts from nothing on the same database."""
    with sessions() as s, s.begin():
        for model in (Attribution, Event, Ticket, Account, Person, SyncState):
            s.execute(delete(model))
