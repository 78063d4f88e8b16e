"""POST /webhooks/github/<source> and /webhooks/jira/<source>: verified, stored raw, then applied.

The guard chain runs in a fixed order, and each refusal logs a stable event name
(`webhook.github.bad_signature`, …): the endpoint exists and has a secret (else 404, unless the
source sets `allow_unsigned`) → a body within GitHub's 25 MB cap (413) → the event header
(400) → the signature, HMAC-SHA256 of the raw body compared in constant time (401, and the
delivery is stored nowhere) → JSON (400) → stored raw in one transaction, keyed by its delivery
id → 202. Deliveries are applied after the answer (`service.jobs.deliveries`), so a slow
database never makes a tracker wait. These endpoints sit outside any login: their signature is
their authentication.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest, NotFound, RequestEntityTooLarge, ServiceUnavailable, Unauthorized

from connectors.github_webhooks import GITHUB_EVENTS
from connectors.jira_webhooks import JIRA_EVENTS
from connectors.webhooks import verify_signature
from service.config import Config
from service.config_sources import SourceConfig
from service.store.deliveries import APPLIED, IGNORED, RECEIVED, store_delivery

log = logging.getLogger(__name__)
webhooks = Blueprint("webhooks", __name__, url_prefix="/webhooks")
MAX_BODY = 25 * 1024 * 1024  # GitHub's own cap on a delivery
_KEPT_HEADERS = ("X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID", "X-GitHub-Hook-Installation-Target-ID",
                 "X-Atlassian-Webhook-Identifier", "X-Atlassian-Webhook-Retry", "User-Agent", "Content-Type")


@dataclass(frozen=True, slots=True)
class Hook:
    """A source's webhook endpoint: its configuration and the secret read from the environment."""

    source: SourceConfig
    secret: bytes | None  # None: unsigned deliveries are accepted (`allow_unsigned`)


def hooks_of(config: Config) -> dict[tuple[str, str], Hook]:
    """The endpoints that exist: sources with a secret in the environment, or `allow_unsigned`."""
    found = {}
    for source in config.sources:
        secret = source.webhook_secret()
        if secret is not None or source.allow_unsigned:
            found[(source.kind, source.name)] = Hook(source, secret)
        if secret is None and source.allow_unsigned:
            log.warning("webhook.unsigned_allowed: source '%s' accepts unsigned webhook deliveries; anyone who "
                        "can reach the endpoint can change its data", source.name)
    return found


@webhooks.post("/github/<name>")
def github(name: str) -> Any:
    return _receive("github", name)


@webhooks.post("/jira/<name>")
def jira(name: str) -> Any:
    return _receive("jira", name)


def _receive(tracker: str, name: str) -> Any:
    ext = current_app.extensions["partnerscope"]
    hook: Hook | None = ext["webhooks"].get((tracker, name))
    if hook is None:
        _refuse(tracker, "unknown_endpoint", name)
        raise NotFound("No webhook endpoint here.")
    if request.content_length is not None and request.content_length > MAX_BODY:
        _refuse(tracker, "too_large", name)
        raise RequestEntityTooLarge(f"A delivery may be at most {MAX_BODY // (1024 * 1024)} MB.")
    body = request.stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        _refuse(tracker, "too_large", name)
        raise RequestEntityTooLarge(f"A delivery may be at most {MAX_BODY // (1024 * 1024)} MB.")
    if not body:
        _refuse(tracker, "empty", name)
        raise BadRequest("The delivery has no body.")
    header_event = request.headers.get("X-GitHub-Event") if tracker == "github" else None
    if tracker == "github" and not header_event:
        _refuse(tracker, "no_event", name)
        raise BadRequest("The X-GitHub-Event header is missing.")
    if hook.secret is not None:
        header = request.headers.get("X-Hub-Signature-256" if tracker == "github" else "X-Hub-Signature")
        if not verify_signature(hook.secret, body, header):
            _refuse(tracker, "bad_signature", name)
            raise Unauthorized("The signature is missing or does not match the body.")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        _refuse(tracker, "not_json", name)
        raise BadRequest("The body is not JSON.") from None
    if not isinstance(payload, dict):
        _refuse(tracker, "not_json", name)
        raise BadRequest("The body is not a JSON object.")
    event = _event(tracker, header_event, payload)
    if event is None:
        _refuse(tracker, "no_event", name)
        raise BadRequest("The body names no webhookEvent.")
    state, why = _triage(tracker, event, payload, hook.source)
    headers = {k: v for k in _KEPT_HEADERS if (v := request.headers.get(k))}
    delivery_id = (request.headers.get("X-GitHub-Delivery") if tracker == "github"
                   else request.headers.get("X-Atlassian-Webhook-Identifier")) or _digest(body)
    try:
        with ext["gate"].acknowledge(), ext["engine"].begin() as connection:
            stored = store_delivery(connection, source=name, tracker=tracker, delivery_id=delivery_id, event=event,
                                    headers=headers, body=body, state=state, error=why)
    except SQLAlchemyError:
        log.exception("webhook.%s.store_failed: source '%s'", tracker, name)
        raise ServiceUnavailable("The delivery could not be stored; deliver it again later.") from None
    if not stored.fresh:
        log.info("webhook.%s.redelivered: source '%s' delivery %s", tracker, name, delivery_id)
        return _answer(202, "duplicate", delivery_id, f"already received ({stored.state})")
    log.info("webhook.%s.stored: source '%s' delivery %s event %s", tracker, name, delivery_id, event)
    if event == "ping":
        return _answer(200, "pong", delivery_id)
    if state == IGNORED:
        return _answer(202, "ignored", delivery_id, why)
    ext["applier"].wake()
    return _answer(202, "accepted", delivery_id)


def _event(tracker: str, header_event: str | None, payload: dict[str, Any]) -> str | None:
    """`issues.closed` (GitHub: header and action), `jira:issue_updated` (Jira: the body's webhookEvent)."""
    if tracker == "github":
        action = payload.get("action")
        return f"{header_event}.{action}" if isinstance(action, str) and action else header_event
    found = payload.get("webhookEvent")
    return found if isinstance(found, str) and found else None


def _triage(tracker: str, event: str, payload: dict[str, Any], source: SourceConfig) -> tuple[str, str | None]:
    """Whether a delivery is worth applying: (state to store it in, why it is not)."""
    kind = event.split(".", 1)[0]
    if tracker == "github" and kind == "ping":
        return APPLIED, None
    if kind not in (GITHUB_EVENTS if tracker == "github" else JIRA_EVENTS):
        return IGNORED, f"Partnerscope does not use {kind} events"
    scope = _scope(tracker, payload)
    if scope is not None and not _in_source(tracker, scope, source):
        return IGNORED, f"{scope} is not one of source '{source.name}'s {'repositories' if tracker == 'github' else 'projects'}"
    return RECEIVED, None


def _scope(tracker: str, payload: dict[str, Any]) -> str | None:
    if tracker == "github":
        repository = payload.get("repository")
        name = repository.get("full_name") if isinstance(repository, dict) else None
        return name if isinstance(name, str) else None
    issue = payload.get("issue")
    key = issue.get("key") if isinstance(issue, dict) else None
    return key.rsplit("-", 1)[0] if isinstance(key, str) and "-" in key else None


def _in_source(tracker: str, scope: str, source: SourceConfig) -> bool:
    if tracker == "github":
        if source.repos:
            return scope.casefold() in {repo.casefold() for repo in source.repos}
        return bool(source.org) and scope.split("/", 1)[0].casefold() == source.org.casefold()
    from connectors.jql import projects_of

    projects = projects_of(source.jql)
    return projects is None or scope.upper() in projects


def _digest(body: bytes) -> str:
    """A delivery id for a tracker that sends none: the same body twice is one delivery."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _answer(code: int, status: str, delivery_id: str, detail: str | None = None) -> tuple[Response, int]:
    answer: dict[str, Any] = {"status": status, "delivery": delivery_id}
    if detail:
        answer["detail"] = detail
    return jsonify(answer), code


def _refuse(tracker: str, what: str, name: str) -> None:
    log.warning("webhook.%s.%s: source '%s' from %s", tracker, what, name, request.remote_addr)
