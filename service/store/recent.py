"""Issues of a Jira Cloud source that changed lately, which the next sync reads consistently
(`reconcileIssues`): Cloud's search can miss a change for minutes after newer ones show.

Two places know them: the webhook deliveries received since the source's last sync began, and
the tickets stored with a change in the window the sync reads again (since its start less the
index lag and the overlap). At most `RECONCILE_MAX` ids, the newest first: each 50 cost a search
request.
"""
from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.models import SyncRun, Ticket, WebhookDelivery

RECONCILE_MAX = 500


def recent_issue_ids(session: Session, source: str, window: datetime | None) -> list[str]:
    """Issue ids (numbers, as text) named by deliveries since the source's last sync began, or of
    tickets stored with a change since `window`."""
    last = session.scalar(select(SyncRun.started).where(SyncRun.source == source, SyncRun.outcome != "skipped",
                                                        SyncRun.outcome != "running")
                          .order_by(SyncRun.started.desc()).limit(1))
    ids: dict[str, None] = {}
    if last is not None:
        for body in session.scalars(select(WebhookDelivery.body).where(
                WebhookDelivery.source == source, WebhookDelivery.tracker == "jira",
                WebhookDelivery.received_at >= last).order_by(WebhookDelivery.id.desc()).limit(RECONCILE_MAX)):
            if (issue_id := _issue_id(body)) is not None:
                ids[issue_id] = None
    if window is not None:
        for external_id in session.scalars(select(Ticket.external_id).where(
                Ticket.source == source, Ticket.updated >= window).order_by(Ticket.updated.desc())
                .limit(RECONCILE_MAX)):
            ids[external_id] = None
    return [i for i in ids if i.isascii() and i.isdigit()][:RECONCILE_MAX]


def _issue_id(body: bytes) -> str | None:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    issue = payload.get("issue") if isinstance(payload, dict) else None
    issue_id = issue.get("id") if isinstance(issue, dict) else None
    return str(issue_id) if isinstance(issue_id, (str, int)) and not isinstance(issue_id, bool) else None
