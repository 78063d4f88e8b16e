"""Apply stored webhook deliveries through the same parsers, store and attribution as a sync.

One applier runs beside each web server (a thread on SQLite, a process of its own on
PostgreSQL: `service.jobs.applier_process`), and `deliveries replay` or the worker can drain the
queue too: deliveries are claimed in the database (`service.store.deliveries.claim`),
so appliers never apply one twice. A batch of deliveries is applied in one transaction; when it
fails, each delivery of it is applied alone, so one bad delivery is marked `failed` with its
error and the others land. Copies of one ticket within a batch are merged first: a delivery
carries only its own change, and the store keeps one copy of a ticket per batch.

On SQLite the applier shares its process, and Python's one running thread, with the threads
that acknowledge deliveries, and it holds the database's one write lock from its first write to
its commit, which every acknowledgement waits for. Two things keep it from crowding
them out (measured by the `webhooks` benchmark case, 200 deliveries a second):

- Most of a batch's cost does not grow with its size (accounts and aliases loaded, the claim
  and finish statements): applied alone, a delivery cost 6 to 13 ms of CPU on the benchmark's
  machine, in a batch of 20 to 50 about 1 ms. Woken by every stored delivery, the applier would
  apply them one or two at a time and need more than a core. So after a batch that emptied the
  queue it lets deliveries gather for `GATHER` seconds; after a full batch it goes on at once,
  and after a quiet spell it applies the first delivery at once.
- On SQLite a batch is at most `SQLITE_BATCH` deliveries, so the write lock is held for tens of
  milliseconds, not the hundreds a backlog of 100 or 200 takes. PostgreSQL locks rows, and there
  a batch's fixed cost is mostly round trips and updates of the claimed rows: applied 50 at a
  time a delivery took about 3.5 ms, 200 at a time about 1 to 1.5 ms, so its batches are
  `BATCH`, or the applier falls behind 200 deliveries a second on a busy machine.
- Every transaction of the applier goes through the process's `WriteGate` (`service.store.gate`),
  which lets the acknowledgements waiting go first.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Sequence

import orjson
from sqlalchemy.orm import Session, sessionmaker

from connectors.errors import SkippableError
from connectors.github_webhooks import github_change
from connectors.jira_webhooks import jira_change
from connectors.records import ParsedTicket
from connectors.webhooks import TicketEvents, WebhookChange
from service.config import Config
from service.config_sources import SourceConfig
from service.jobs.classify import Classifier
from service.jobs.pipeline import store_and_attribute
from service.store.db import transaction
from service.store.deliveries import APPLIED, CLAIM_TIMEOUT, FAILED, IGNORED, claim, finish, prune, retry_or_fail
from service.store.directory import Directory, jira_context
from service.store.gate import WriteGate
from service.store.tombstones import remove_events
from service.store.upserts import attach_events, mark_deleted

log = logging.getLogger(__name__)
BATCH = 200  # deliveries a transaction applies at most on PostgreSQL (see the module docstring)
SQLITE_BATCH = 50  # … and on SQLite, where a batch holds the database's one write lock
GATHER = 0.2  # seconds deliveries may gather after a batch that emptied the queue
IDLE_WAIT = 1.0  # seconds between looks at the queue when nothing woke the applier
PRUNE_EVERY = 3600.0  # seconds


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    source: str
    tracker: str
    event: str
    delivery_id: str
    body: bytes
    attempts: int


class DeliveryApplier:
    """Applies what the webhook endpoints stored; `wake()` after a delivery is stored."""

    def __init__(self, sessions: sessionmaker[Session], config: Config, *, batch: int | None = None,
                 gather: float = GATHER, gate: WriteGate | None = None, events: tuple[Any, Any] | None = None,
                 prunes: bool = True) -> None:
        """`events`: the (wake, stop) pair to use instead of threading events, when `run()` is
        driven from another process (`service.jobs.applier_process`). `prunes`: whether its loop
        also prunes old deliveries (the worker prunes on a schedule of its own)."""
        self.sessions, self.config, self.gather = sessions, config, gather
        self.batch = batch or (SQLITE_BATCH if sessions.kw["bind"].dialect.name == "sqlite" else BATCH)
        self.gate = gate or WriteGate(enabled=False)  # alone in its process (deliveries replay): no one to wait for
        self.claim_timeout = config.claim_timeout or CLAIM_TIMEOUT
        self.sources = {(s.kind, s.name): s for s in config.sources}
        self._wake, self._stop = events or (threading.Event(), threading.Event())
        self._thread: threading.Thread | None = None
        self._pruned_at = 0.0 if prunes else float("inf")

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        """Apply in a background thread until `stop()`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="partnerscope-deliveries", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 20.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def drain(self) -> int:
        """Apply every delivery waiting now; returns how many were claimed."""
        total = 0
        while (done := self.apply_once(self.batch)):
            total += done
        return total

    def run(self) -> None:
        """Apply as deliveries come until stopped (the thread's or the applier process's loop)."""
        while not self._stop.is_set():
            try:
                done = self.apply_once(self.batch)
                if not done:
                    self._wake.wait(IDLE_WAIT)
                    self._wake.clear()
                elif done < self.batch:
                    self._stop.wait(self.gather)
                if time.monotonic() - self._pruned_at > PRUNE_EVERY:
                    with self.gate.apply(), transaction(self.sessions) as session:
                        prune(session, self.config.webhook_retention_days)
                    self._pruned_at = time.monotonic()
            except Exception:  # the database went away, say: keep the thread, try again shortly
                log.exception("webhook.applier.error")
                self._stop.wait(IDLE_WAIT)

    def apply_once(self, limit: int = BATCH) -> int:
        """Claim up to `limit` deliveries and apply them; returns how many were claimed."""
        with self.gate.apply(), transaction(self.sessions) as session:
            claimed = [Claimed(d.id, d.source, d.tracker, d.event, d.delivery_id, d.body, d.attempts)
                       for d in claim(session, limit, timeout=self.claim_timeout)]
        if not claimed:
            return 0
        try:
            with self.gate.apply(), transaction(self.sessions) as session:
                self._apply(session, claimed)
        except Exception as exc:
            if len(claimed) == 1:
                self._fail(claimed[0], exc)
            else:  # find the delivery that failed the batch: the others still land
                for one in claimed:
                    try:
                        with self.gate.apply(), transaction(self.sessions) as session:
                            self._apply(session, [one])
                    except Exception as alone:
                        self._fail(one, alone)
        return len(claimed)

    def _fail(self, delivery: Claimed, exc: Exception) -> None:
        with self.gate.apply(), transaction(self.sessions) as session:
            state = retry_or_fail(session, delivery.id, delivery.attempts, f"{type(exc).__name__}: {exc}")
        log.error("webhook.%s.apply_failed: source '%s' delivery %s, attempt %d: %s: %s; %s", delivery.tracker,
                  delivery.source, delivery.delivery_id, delivery.attempts, type(exc).__name__, exc,
                  "it stays failed until replayed" if state == FAILED else "it will be tried again")

    def _apply(self, session: Session, deliveries: Sequence[Claimed]) -> None:
        directory = Directory(session)
        classifier = Classifier(self.config, directory)
        contexts: dict[str, Any] = {}
        tickets: dict[str, list[ParsedTicket]] = {}
        attached: list[TicketEvents] = []
        deleted: dict[str, list[str]] = {}
        removed: dict[str, list[tuple[str, str]]] = {}
        applied, ignored = [], []
        for delivery in deliveries:
            source = self.sources.get((delivery.tracker, delivery.source))
            if source is None:
                finish(session, [delivery.id], FAILED, f"source '{delivery.source}' is no longer configured")
                continue
            try:
                change = self._change(session, directory, source, delivery, contexts)
            except SkippableError as exc:
                finish(session, [delivery.id], FAILED, f"the payload {exc}")
                continue
            if change.ignored:
                finish(session, [delivery.id], IGNORED, change.ignored)
                ignored.append(delivery.id)
                continue
            # A delivery's copy holds its own change only (`ParsedTicket.partial`).
            tickets.setdefault(source.name, []).extend(replace(t, partial=True) for t in change.tickets)
            attached.extend(change.events_only)
            deleted.setdefault(source.name, []).extend(change.deleted)
            removed.setdefault(source.name, []).extend(change.removed_events)
            applied.append(delivery.id)
        for name, parsed in tickets.items():
            if parsed:
                store_and_attribute(session, merge_copies(parsed), directory, classifier, self.config, contexts.get(name))
        # Tickets that gained or lost acts are attributed again once, whatever else the batch did to them.
        changed = set(attach_events(session, directory, attached)) if attached else set()
        for name, pairs in removed.items():
            if pairs:
                changed.update(remove_events(session, name, pairs))
        if changed:
            classifier.reclassify(session, sorted(changed))
        for name, ids in deleted.items():
            if ids:
                mark_deleted(session, name, ids)
        finish(session, applied, APPLIED)

    def _change(self, session: Session, directory: Directory, source: SourceConfig, delivery: Claimed,
                contexts: dict[str, Any]) -> WebhookChange:
        try:
            payload = orjson.loads(delivery.body)
        except orjson.JSONDecodeError:
            raise SkippableError("is not JSON") from None
        kind_of = self.config.kinds.kind
        if delivery.tracker == "github":
            return github_change(delivery.event.split(".", 1)[0], payload, source.name,
                                 delivery_id=delivery.delivery_id, kind_of=kind_of)
        if source.name not in contexts:
            contexts[source.name] = jira_context(session, directory, source.deployment == "cloud")
        return jira_change(payload, source.name, kind_of=kind_of, base_url=source.url, context=contexts[source.name])


def merge_copies(parsed: Sequence[ParsedTicket]) -> list[ParsedTicket]:
    """One copy per ticket: the newest copy's fields, every copy's events and accounts. Webhook
    deliveries carry one change each, so no copy alone holds all a batch says about a ticket."""
    merged: dict[tuple[str, str], ParsedTicket] = {}
    for item in parsed:
        key = (item.ticket.source, item.ticket.external_id)
        held = merged.get(key)
        if held is None:
            merged[key] = item
            continue
        newer, older = (item, held) if item.ticket.updated >= held.ticket.updated else (held, item)
        events = {e.external_id: e for e in older.events}
        events.update({e.external_id: e for e in newer.events})
        accounts = {a.ref: a for a in older.accounts}
        accounts.update({a.ref: a for a in newer.accounts})
        merged[key] = replace(newer, events=sorted(events.values(), key=lambda e: (e.at, e.external_id)),
                              accounts=list(accounts.values()))
    return list(merged.values())
