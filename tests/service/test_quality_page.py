"""The data-quality page: sources, unknown acts, statuses and types without meaning, failed deliveries."""
from __future__ import annotations

from datetime import datetime, timezone

from service.store.db import transaction
from service.store.models import SyncState, WebhookDelivery
from tests.service.builders import bug_through_qa, parsed, ticket, transition
from tests.service.test_store import ingest


def test_the_page_lists_what_the_numbers_rest_on_as_text(client, sessions, config) -> None:
    odd = parsed(ticket(9, status="已完成", type_name="<b>Épica</b>", kind="other"),
                 [transition(1, 1, "jira:partner-1", "Backlog", "已完成")])
    ingest(sessions, config, [bug_through_qa(1, deployer="jira:stranger"), odd])
    now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    with transaction(sessions) as s:
        s.add(SyncState(source="old-jira", bookmark=now, updated_at=now))
        s.add(WebhookDelivery(source="acme-jira", tracker="jira", delivery_id="d-1", event="jira:issue_updated",
                              received_at=now, headers={}, body=b"{}", state="failed", attempts=1,
                              error="ValueError: <script>alert(1)</script>"))
    page = client.get("/quality").get_data(as_text=True)
    assert "old-jira</td><td>no longer configured</td><td>2026-03-01 12:00" in page
    assert "jira:stranger" in page and "已完成</td><td>status without a phase" in page
    assert '&lt;b&gt;Épica&lt;/b&gt;</td><td>ticket type counted as "other"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "d-1</td><td>acme-jira" in page


def test_the_page_keeps_the_reports_filters_and_refuses_bad_ones(client, sessions, config) -> None:
    ingest(sessions, config, [bug_through_qa(1, deployer="jira:stranger")])
    assert "jira:stranger" not in client.get("/quality?project=PAY").get_data(as_text=True)
    assert client.get("/quality?since=2025-02-30").status_code == 400
    assert client.get("/quality?project=%00").status_code == 400
    assert 'href="/?project=PAY"' in client.get("/quality?project=PAY&_external=1").get_data(as_text=True)


def test_the_page_needs_a_login(app) -> None:
    assert app.test_client().get("/quality").status_code == 302
