"""The webhook endpoints: verified, stored raw, applied exactly once, and never a 500.

Deliveries are the project's own fixtures in the documented shapes (tests/data/github_webhooks,
tests/data/jira_webhooks); they are sent through Flask's test client with real signatures.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from service.config import parse_config
from service.store.db import transaction
from service.store.models import Attribution, Event, Ticket, WebhookDelivery
from service.web import create_app
from tests.conftest import logged_in

DATA = Path(__file__).resolve().parent.parent / "data"
GH_SECRET, JIRA_SECRET = "It's a Secret to Everybody", "jira-hook-secret"


def fixture(tracker: str, name: str) -> bytes:
    return (DATA / f"{tracker}_webhooks" / f"{name}.json").read_bytes()


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def hooks_config(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("GH_HOOK_SECRET", GH_SECRET)
    monkeypatch.setenv("JIRA_HOOK_SECRET", JIRA_SECRET)
    monkeypatch.delenv("NOT_SET_SECRET", raising=False)
    return parse_config({
        "database": {"url": db_url},
        "organisations": [{"name": "Acme", "side": "client", "accounts": ["github:c-lind"]},
                          {"name": "Nordlys", "side": "partner", "accounts": ["github:p-berg"]}],
        "sources": [
            {"name": "acme-github", "kind": "github", "repos": ["acme/widgets"], "token_env": "GITHUB_TOKEN",
             "webhook_secret_env": "GH_HOOK_SECRET"},
            {"name": "acme-jira", "kind": "jira", "url": "https://acme.atlassian.net", "email": "bot@acme.example",
             "token_env": "JIRA_TOKEN", "webhook_secret_env": "JIRA_HOOK_SECRET", "jql": "project = ACME"},
            {"name": "open-github", "kind": "github", "repos": ["acme/widgets"], "token_env": "GITHUB_TOKEN",
             "allow_unsigned": True},
            {"name": "quiet-github", "kind": "github", "repos": ["acme/widgets"], "token_env": "GITHUB_TOKEN",
             "webhook_secret_env": "NOT_SET_SECRET"},
        ],
    }, Path("hooks.toml"))


@pytest.fixture
def hooks_app(hooks_config: Any, engine: Any) -> Any:
    app = create_app(hooks_config, engine=engine)
    app.config.update(TESTING=True)
    return app


def github(client: Any, event: str, body: bytes, *, delivery: str = "d-1", source: str = "acme-github",
           secret: str | None = GH_SECRET, headers: dict[str, str] | None = None) -> Any:
    sent = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json"}
    if secret is not None:
        sent["X-Hub-Signature-256"] = sign(body, secret)
    sent.update(headers or {})
    return client.post(f"/webhooks/github/{source}", data=body, headers=sent)


def jira(client: Any, body: bytes, *, delivery: str | None = "j-1", secret: str | None = JIRA_SECRET) -> Any:
    sent = {"Content-Type": "application/json"}
    if delivery:
        sent["X-Atlassian-Webhook-Identifier"] = delivery
    if secret is not None:
        sent["X-Hub-Signature"] = sign(body, secret)
    return client.post("/webhooks/jira/acme-jira", data=body, headers=sent)


def drain(app: Any) -> int:
    return app.extensions["partnerscope"]["applier"].drain()


def rows(sessions: Any, *columns: Any, where: Any = None) -> list[Any]:
    with sessions() as s:
        query = select(*columns)
        return list(s.execute(query.where(where) if where is not None else query).all())


# -- verification and refusals ----------------------------------------------------------------------

def test_githubs_documented_test_vector_verifies() -> None:
    from connectors.webhooks import verify_signature

    assert verify_signature(b"It's a Secret to Everybody", b"Hello, World!",
                            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")


@pytest.mark.parametrize(("send", "code", "stored"), [
    pytest.param(lambda c: github(c, "issues", fixture("github", "issues.opened"), secret="wrong"), 401, 0, id="wrong-signature"),
    pytest.param(lambda c: github(c, "issues", fixture("github", "issues.opened"), secret=None), 401, 0, id="no-signature"),
    pytest.param(lambda c: github(c, "issues", b"{not json", ), 400, 0, id="not-json"),
    pytest.param(lambda c: github(c, "issues", b"[1, 2]"), 400, 0, id="json-array"),
    pytest.param(lambda c: github(c, "", fixture("github", "issues.opened")), 400, 0, id="no-event-header"),
    pytest.param(lambda c: github(c, "issues", b""), 400, 0, id="empty"),
    pytest.param(lambda c: github(c, "issues", fixture("github", "issues.opened"), source="nobody"), 404, 0, id="unknown-source"),
    pytest.param(lambda c: github(c, "issues", fixture("github", "issues.opened"), source="quiet-github"), 404, 0,
                 id="secret-not-set"),
    pytest.param(lambda c: c.post("/webhooks/jira/acme-github", data=b"{}"), 404, 0, id="wrong-tracker"),
    pytest.param(lambda c: jira(c, b'{"issue": {}}'), 400, 0, id="jira-no-webhookEvent"),
    pytest.param(lambda c: jira(c, fixture("jira", "issue_created"), secret="wrong"), 401, 0, id="jira-wrong-signature"),
    pytest.param(lambda c: github(c, "issues", b"\xff\xfe\x00garbage"), 400, 0, id="binary-body"),
    pytest.param(lambda c: github(c, "issues", b"[" * 100_000 + b"]" * 100_000), 400, 0, id="deep-nesting"),
    pytest.param(lambda c: github(c, "issues\x01", fixture("github", "issues.opened")), 202, 1, id="odd-event-ignored"),
    pytest.param(lambda c: github(c, "push", fixture("github", "push")), 202, 1, id="ignored-event-stored"),
])
def test_refusals_answer_with_a_sentence_and_store_nothing(hooks_app: Any, sessions: Any, send: Any, code: int,
                                                           stored: int) -> None:
    answer = send(hooks_app.test_client())
    assert answer.status_code == code and answer.is_json and answer.get_json()["message" if code >= 400 else "status"]
    assert len(rows(sessions, WebhookDelivery.id)) == stored


def test_a_body_over_githubs_25_mb_cap_is_413(hooks_app: Any, sessions: Any) -> None:
    body = b'{"x": "' + b"a" * (25 * 1024 * 1024) + b'"}'
    answer = github(hooks_app.test_client(), "issues", body)
    assert answer.status_code == 413 and rows(sessions, WebhookDelivery.id) == []


def test_ping_is_200_and_stored(hooks_app: Any, sessions: Any) -> None:
    answer = github(hooks_app.test_client(), "ping", fixture("github", "ping"))
    assert (answer.status_code, answer.get_json()["status"]) == (200, "pong")
    assert [r.state for r in rows(sessions, WebhookDelivery.state)] == ["applied"]


def test_an_unsigned_source_must_say_so_and_is_warned_about(hooks_config: Any, engine: Any, sessions: Any,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING"):
        app = create_app(hooks_config, engine=engine)
    answer = github(app.test_client(), "issues", fixture("github", "issues.opened"), source="open-github", secret=None)
    assert answer.status_code == 202
    assert "webhook.unsigned_allowed: source 'open-github'" in caplog.text
    browser = logged_in(app, sessions)
    assert "open-github" in browser.get("/").get_data(as_text=True).split("accept unsigned")[0]


def test_a_repository_the_source_does_not_list_is_ignored(hooks_app: Any, sessions: Any) -> None:
    body = json.loads(fixture("github", "issues.opened"))
    body["repository"]["full_name"] = "acme/other"
    raw = json.dumps(body).encode()
    answer = github(hooks_app.test_client(), "issues", raw)
    assert (answer.status_code, answer.get_json()["status"]) == (202, "ignored")
    assert "acme/other is not one of source 'acme-github's repositories" in answer.get_json()["detail"]


# -- stored, then applied once ----------------------------------------------------------------------

def test_a_delivery_is_applied_and_a_redelivery_changes_nothing(hooks_app: Any, sessions: Any) -> None:
    client = hooks_app.test_client()
    first = github(client, "issues", fixture("github", "issues.closed"), delivery="abc")
    again = github(client, "issues", fixture("github", "issues.closed"), delivery="abc")
    drain(hooks_app)

    assert (first.status_code, first.get_json()["status"], again.get_json()["status"]) == (202, "accepted", "duplicate")
    assert [r.state for r in rows(sessions, WebhookDelivery.state)] == ["applied"]
    assert rows(sessions, Event.external_id, where=Event.kind == "transition") == [("w:abc",)]
    assert ("resolve", "partner") in rows(sessions, Attribution.role, Attribution.side)


def test_every_github_event_type_is_applied(hooks_app: Any, sessions: Any) -> None:
    client = hooks_app.test_client()
    for n, (event, name) in enumerate([
        ("issues", "issues.opened"), ("issues", "issues.labeled"), ("issues", "issues.assigned"),
        ("issue_comment", "issue_comment.created"), ("pull_request", "pull_request.opened"),
        ("pull_request_review", "pull_request_review.submitted"), ("pull_request", "pull_request.closed_merged"),
        ("deployment", "deployment.created"), ("deployment_status", "deployment_status.created"),
        ("release", "release.published"),
    ]):
        assert github(client, event, fixture("github", name), delivery=f"g{n}").status_code == 202, name
    drain(hooks_app)

    assert {r.state for r in rows(sessions, WebhookDelivery.state)} == {"applied"}
    kinds = {r.kind for r in rows(sessions, Event.kind)}
    assert {"created", "label", "assign", "comment", "review", "merge", "deploy", "release"} <= kinds


def test_jira_deliveries_in_and_out_of_order_end_as_the_newest_state(hooks_app: Any, sessions: Any) -> None:
    client = hooks_app.test_client()
    assert jira(client, fixture("jira", "issue_updated"), delivery="j-2").status_code == 202  # the newer first
    assert jira(client, fixture("jira", "issue_created"), delivery="j-1").status_code == 202
    assert jira(client, fixture("jira", "comment_created"), delivery="j-3").status_code == 202
    drain(hooks_app)

    [(updated, status)] = rows(sessions, Ticket.updated, Ticket.status)
    assert updated.isoformat().startswith("2024-03-06T09:00")  # issue_updated's, not issue_created's
    ids = {r.external_id for r in rows(sessions, Event.external_id)}
    assert {"created", "h20004.0"} <= ids and any(i.startswith("c") for i in ids)


def test_a_deleted_jira_issue_leaves_the_reports_and_keeps_its_history(hooks_app: Any, sessions: Any) -> None:
    client = logged_in(hooks_app, sessions)  # a logged-in browser: webhooks need no login, the report does
    jira(client, fixture("jira", "issue_created"), delivery="j-1")
    jira(client, fixture("jira", "issue_updated"), delivery="j-2")
    drain(hooks_app)
    before = client.get("/api/report").get_json()["roles"]["detect"]
    jira(client, fixture("jira", "issue_deleted"), delivery="j-3")
    drain(hooks_app)

    after = client.get("/api/report").get_json()["roles"]
    assert sum(before.values()) == 1 and all(sum(counts.values()) == 0 for counts in after.values())
    assert rows(sessions, Ticket.deleted_at)[0][0] is not None
    assert len(rows(sessions, Event.id)) >= 2


def test_a_failed_delivery_is_kept_and_replayed(hooks_app: Any, sessions: Any, hooks_config: Any, db_url: str,
                                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import service.jobs.deliveries as deliveries

    real = deliveries.github_change
    monkeypatch.setattr(deliveries, "github_change", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk on fire")))
    github(hooks_app.test_client(), "issues", fixture("github", "issues.closed"), delivery="f-1")
    tries = []
    for _ in range(6):  # the first try and three retries; a fifth never comes
        tries.append(drain(hooks_app))
        [(state, error, retry_at)] = rows(sessions, WebhookDelivery.state, WebhookDelivery.error,
                                          WebhookDelivery.retry_at)
        assert error == "RuntimeError: disk on fire"
        if state == "received":  # waiting for its retry, which does not come early
            assert drain(hooks_app) == 0
            with transaction(sessions) as s:  # as if its backoff had passed
                s.execute(update(WebhookDelivery).values(retry_at=retry_at - timedelta(hours=1)))
    assert tries == [1, 1, 1, 1, 0, 0] and state == "failed"

    monkeypatch.setattr(deliveries, "github_change", real)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "{db_url}"\n', encoding="utf-8")
    listed = CliRunner().invoke(_cli(), ["--config", str(cfg), "deliveries", "--failed"])
    assert listed.exit_code == 0 and "f-1  acme-github  issues.closed  failed" in listed.output
    monkeypatch.setattr("service.commands.context.load_config", lambda path=None: hooks_config)
    replayed = CliRunner().invoke(_cli(), ["deliveries", "replay", "--failed"])
    assert replayed.exit_code == 0, replayed.output
    assert "replayed 1 deliveries: 1 applied, 0 failed" in replayed.output
    assert [r.state for r in rows(sessions, WebhookDelivery.state)] == ["applied"]


def test_retries_back_off_thirty_seconds_then_four_times_longer(sessions: Any) -> None:
    from service.store.deliveries import now, retry_or_fail, store_delivery

    with transaction(sessions) as s:
        stored = store_delivery(s, source="acme-github", tracker="github", delivery_id="r-1", event="issues",
                                headers={}, body=b"{}")
    at = now()
    waits = []
    for attempts in (1, 2, 3, 4):
        with transaction(sessions) as s:
            state = retry_or_fail(s, stored.id, attempts, "boom", at=at)
            retry_at = s.scalar(select(WebhookDelivery.retry_at))
        waits.append((state, round((retry_at - at).total_seconds()) if state == "received" else None))
    assert waits == [("received", 30), ("received", 120), ("received", 480), ("failed", None)]


def _cli() -> Any:
    from service.cli import cli

    return cli


def test_a_malformed_payload_of_a_known_event_fails_by_name_and_the_others_land(hooks_app: Any, sessions: Any) -> None:
    client = hooks_app.test_client()
    broken = json.loads(fixture("github", "issues.closed"))
    del broken["issue"]["closed_at"]
    github(client, "issues", json.dumps(broken).encode(), delivery="bad")
    github(client, "issues", fixture("github", "issues.opened"), delivery="good")
    drain(hooks_app)

    states = dict(rows(sessions, WebhookDelivery.delivery_id, WebhookDelivery.state))
    assert states == {"bad": "failed", "good": "applied"}
    [(error,)] = rows(sessions, WebhookDelivery.error, where=WebhookDelivery.delivery_id == "bad")
    assert "closed_at" in error


# -- a webhook and a sync meeting on one change --------------------------------------------------------

def _rest_export(tmp_path: Path) -> list[Path]:
    issue = json.loads(fixture("github", "issues.closed"))["issue"]
    (tmp_path / "issues.json").write_text(json.dumps([issue]), encoding="utf-8")
    # Up to the close the delivery reports (the recording goes on to reopen it).
    events = [e for e in json.loads(fixture("github", "rest_issue_events_12")) if e["created_at"] <= issue["closed_at"]]
    for event in events:  # as the repository-wide listing (/issues/events) gives them: with their issue
        event["issue"] = {"number": issue["number"], "url": issue["url"], "repository_url": issue["repository_url"]}
    (tmp_path / "events.json").write_text(json.dumps(events), encoding="utf-8")
    return [tmp_path / "issues.json", tmp_path / "events.json"]


@pytest.mark.parametrize("webhook_first", [True, False], ids=["webhook-then-sync", "sync-then-webhook"])
def test_a_close_reported_by_both_is_stored_once(hooks_app: Any, hooks_config: Any, sessions: Any, tmp_path: Path,
                                                 webhook_first: bool) -> None:
    from service.jobs.github_import import import_github_files

    def by_webhook() -> None:
        github(hooks_app.test_client(), "issues", fixture("github", "issues.closed"), delivery="w-close")
        drain(hooks_app)

    def by_sync() -> None:
        import_github_files(sessions, hooks_config, _rest_export(tmp_path), "acme-github")

    for step in (by_webhook, by_sync) if webhook_first else (by_sync, by_webhook):
        step()

    closes = rows(sessions, Event.external_id, where=(Event.kind == "transition") & (Event.to_value == "closed"))
    assert len(closes) == 1 and not closes[0][0].startswith("w:")
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Attribution).where(Attribution.role == "resolve")) == 1


def test_a_jira_change_reported_by_a_webhook_and_a_search_is_stored_once(hooks_app: Any, hooks_config: Any,
                                                                          sessions: Any, tmp_path: Path) -> None:
    from service.jobs.ingest import import_files

    client = hooks_app.test_client()
    jira(client, fixture("jira", "issue_created"), delivery="j-1")
    jira(client, fixture("jira", "issue_updated"), delivery="j-2")
    drain(hooks_app)
    webhook_events = {r.external_id for r in rows(sessions, Event.external_id)}
    (tmp_path / "search.json").write_bytes(fixture("jira", "search_after_update"))
    import_files(sessions, hooks_config, [tmp_path / "search.json"], "acme-jira")

    ids = [r.external_id for r in rows(sessions, Event.external_id)]
    assert "h20004.0" in webhook_events and len(ids) == len(set(ids)) and webhook_events <= set(ids)
    [(incomplete,)] = rows(sessions, Ticket.incomplete)
    assert incomplete is None  # the search's whole history replaced "only webhook deliveries so far"


def test_jira_comment_events_add_keep_and_remove_the_comment(hooks_app: Any, sessions: Any) -> None:
    client = hooks_app.test_client()
    jira(client, fixture("jira", "issue_created"), delivery="j-1")
    jira(client, fixture("jira", "comment_created"), delivery="j-2")
    drain(hooks_app)
    assert ("c30003",) in rows(sessions, Event.external_id, where=Event.kind == "comment")

    jira(client, fixture("jira", "comment_updated"), delivery="j-3")
    drain(hooks_app)
    assert ("c30003",) in rows(sessions, Event.external_id, where=Event.kind == "comment")
    jira(client, fixture("jira", "comment_deleted"), delivery="j-4")
    drain(hooks_app)

    assert ("c30003",) not in rows(sessions, Event.external_id, where=Event.kind == "comment")
    states = dict(rows(sessions, WebhookDelivery.delivery_id, WebhookDelivery.state))
    assert states == {"j-1": "applied", "j-2": "applied", "j-3": "ignored", "j-4": "applied"}
