"""`/metrics`: no login, sync and delivery figures read from the database, request durations by
route endpoint (never by path), and an answer even when the database does not give one."""
from __future__ import annotations

import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.store.db import transaction
from service.store.deliveries import store_delivery
from service.store.runs import recorded

LATENCY = "partnerscope_http_request_duration_seconds"


def scrape(client) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Sample name → sorted labels → value."""
    response = client.get("/metrics")
    assert response.status_code == 200 and response.content_type.startswith("text/plain")
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def record(sessions, source: str, outcome: str, requests: int, waits: int) -> None:
    try:
        with recorded(sessions, source, "manual") as counts:
            counts.requests, counts.waits, counts.tickets = requests, waits, 5
            if outcome == "failed":
                raise RuntimeError("the tracker said no")
    except RuntimeError:
        pass


def test_metrics_answer_without_a_login(app) -> None:
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert "partnerscope_database_up 1.0" in response.get_data(as_text=True)


def test_sync_runs_and_deliveries_are_counted_from_the_database(app, sessions) -> None:
    record(sessions, "acme-jira", "ok", 7, 1)
    record(sessions, "acme-jira", "ok", 3, 0)
    record(sessions, "acme-jira", "failed", 1, 2)
    record(sessions, "nordlys-github", "ok", 4, 0)
    with transaction(sessions) as session:
        store_delivery(session, source="acme-jira", tracker="jira", delivery_id="d-1", event="jira:issue_updated",
                       headers={}, body=b"{}")
    with recorded(sessions, "nordlys-github", "manual"):  # a run in progress: running, not yet by outcome
        found = scrape(app.test_client())
    syncs = found["partnerscope_syncs_total"]
    assert syncs == {(("outcome", "ok"), ("source", "acme-jira")): 2, (("outcome", "failed"), ("source", "acme-jira")): 1,
                     (("outcome", "ok"), ("source", "nordlys-github")): 1}
    assert found["partnerscope_syncs_running"] == {(("source", "acme-jira"),): 0, (("source", "nordlys-github"),): 1}
    assert found["partnerscope_tracker_requests_total"] == {(("source", "acme-jira"),): 11,
                                                            (("source", "nordlys-github"),): 4}
    assert found["partnerscope_rate_limit_waits_total"] == {(("source", "acme-jira"),): 3,
                                                            (("source", "nordlys-github"),): 0}
    deliveries = found["partnerscope_webhook_deliveries"]
    assert deliveries[(("state", "received"),)] == 1 and deliveries[(("state", "applied"),)] == 0
    assert found["partnerscope_database_up"] == {(): 1}


def test_requests_are_timed_by_endpoint_not_by_path(app, client) -> None:
    for path in ("/healthz", "/tickets/123456", "/tickets/654321", "/api/v1/tickets/42", "/no/such/SHOP-1"):
        client.get(path)
    client.open("/healthz", method="BREW")
    counts = scrape(client)[f"{LATENCY}_count"]
    endpoints = {dict(labels)["endpoint"] for labels in counts}
    assert {"health.healthz", "tickets.ticket_page", "api_v1.ticket", "unmatched"} <= endpoints
    assert counts[(("endpoint", "tickets.ticket_page"), ("method", "GET"), ("status", "404"))] == 2
    assert counts[(("endpoint", "unmatched"), ("method", "other"), ("status", "405"))] == 1
    labels = " ".join(value for key in counts for _, value in key)
    assert "123456" not in labels and "SHOP-1" not in labels and "/" not in labels


@pytest.mark.parametrize("path", [
    pytest.param("/metrics?x=%00", id="nul-in-query"),
    pytest.param("/metrics?name[]=a&name[]=%FF%FE", id="odd-bytes-in-query"),
    pytest.param("/no%00such/page", id="nul-in-a-404-path"),
    pytest.param("/tickets/%00", id="nul-as-a-ticket-id"),
    pytest.param("/tickets/99999999999999999999", id="huge-ticket-id"),
    pytest.param("/%E2%80%AEmetrics", id="bidi-path"),
    pytest.param("/" + "a" * 5000, id="long-path"),
])
def test_hostile_paths_never_fail_and_add_no_label_value(app, path: str) -> None:
    client = app.test_client()
    client.get("/healthz")
    before = scrape(client)[f"{LATENCY}_count"]
    response = client.get(path)
    assert response.status_code < 500
    after = scrape(client)[f"{LATENCY}_count"]
    known = {dict(labels)["endpoint"] for labels in before} | {"unmatched", "metrics.scrape", "tickets.ticket_page"}
    assert {dict(labels)["endpoint"] for labels in after} <= known
    assert {dict(labels)["status"] for labels in after} <= {"200", "302", "404"}


def test_without_a_database_metrics_still_answer(app, engine, monkeypatch, caplog) -> None:
    client = app.test_client()
    client.get("/healthz")
    engine.dispose()
    refused = engine.dialect.loaded_dbapi.OperationalError("connection refused")

    def no_database(*_args, **_kwargs):
        raise refused

    monkeypatch.setattr(engine.dialect, "connect", no_database)
    with caplog.at_level(logging.WARNING):
        found = scrape(client)
    assert found["partnerscope_database_up"] == {(): 0}
    assert "partnerscope_syncs_total" not in found and "partnerscope_webhook_deliveries" not in found
    assert found[f"{LATENCY}_count"][(("endpoint", "health.healthz"), ("method", "GET"), ("status", "200"))] == 1
    assert "web.metrics.database_unavailable: OperationalError" in caplog.text
    assert "connection refused" not in caplog.text  # a driver's message may name a host; the log gets its type


def test_each_app_keeps_its_own_figures(config, engine) -> None:
    from service.web import create_app

    first, second = create_app(config, engine=engine), create_app(config, engine=engine)
    first.test_client().get("/healthz")
    assert f"{LATENCY}_count" not in scrape(second.test_client())
    assert scrape(first.test_client())[f"{LATENCY}_count"][
        (("endpoint", "health.healthz"), ("method", "GET"), ("status", "200"))] == 1
