"""Two databases compared on natural keys: what webhooks stored against an import of the same state.

Row ids differ between two databases, so every row is keyed by what names it outside one:
tickets by (source, issue id), events by (ticket key, event id), attributions by (ticket key,
role, account), accounts by (tracker, account id). Each difference is reported by table and field
with a few examples, never summed into one flag, so a mismatch says what it is.

One difference is the product's intent, and is counted apart (`by_design`) but still reported:
a ticket first stored from a webhook delivery keeps `incomplete` = `service.store.upserts.PARTIAL`
("only webhook deliveries so far…") until a sync or an import brings its whole history, since a
delivery never claims to hold it all.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from service.store.db import make_engine, session_factory
from service.store.models import Account, Attribution, Event, Ticket
from service.store.upserts import PARTIAL

EXAMPLES = 5
TICKET_FIELDS = ("key", "project", "type_name", "kind", "title", "status", "phase", "created", "updated", "resolved",
                 "url", "priority", "labels", "site", "resolution", "incomplete", "deleted_at")


def natural_rows(url: str) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """Every ticket, event, attribution and account of the database at `url`, by natural key."""
    engine = make_engine(url)
    reporter, assignee, actor = aliased(Account), aliased(Account), aliased(Account)
    try:
        with session_factory(engine)() as s:
            tickets = {}
            for t, reporter_id, assignee_id in s.execute(
                    select(Ticket, reporter.external_id, assignee.external_id)
                    .outerjoin(reporter, Ticket.reporter_id == reporter.id)
                    .outerjoin(assignee, Ticket.assignee_id == assignee.id)):
                row = {name: getattr(t, name) for name in TICKET_FIELDS}
                row.update(labels=tuple(t.labels or ()), reporter=reporter_id, assignee=assignee_id)
                tickets[(t.source, t.external_id)] = row
            events = {(key, e.external_id): {"kind": e.kind, "at": e.at, "actor": who, "field": e.field,
                                             "from": e.from_value, "to": e.to_value}
                      for e, key, who in s.execute(select(Event, Ticket.key, actor.external_id)
                                                   .join(Ticket, Event.ticket_id == Ticket.id)
                                                   .outerjoin(actor, Event.actor_id == actor.id))}
            attributions = {(key, a.role, who): {"organisation": a.organisation, "side": a.side,
                                                 "event": a.event_external_id, "at": a.at, "rule": a.rule,
                                                 "explanation": a.explanation}
                            for a, key, who in s.execute(select(Attribution, Ticket.key, actor.external_id)
                                                         .join(Ticket, Attribution.ticket_id == Ticket.id)
                                                         .join(actor, Attribution.account_id == actor.id))}
            accounts = {(a.tracker, a.external_id): {"display_name": a.display_name, "email": a.email}
                        for a in s.scalars(select(Account))}
    finally:
        engine.dispose()
    return {"tickets": tickets, "events": events, "attributions": attributions, "accounts": accounts}


def compare(ours: dict[str, dict[tuple[Any, ...], dict[str, Any]]],
            reference: dict[str, dict[tuple[Any, ...], dict[str, Any]]]) -> dict[str, Any]:
    """Per table: row counts, rows on one side only, and differing fields with examples.
    `identical` is true when no table differs in any way."""
    report: dict[str, Any] = {}
    for table, theirs in reference.items():
        mine = ours.get(table, {})
        only_ours = sorted(set(mine) - set(theirs), key=repr)
        only_theirs = sorted(set(theirs) - set(mine), key=repr)
        fields: Counter[str] = Counter()
        by_design: Counter[str] = Counter()
        examples: list[dict[str, Any]] = []
        for key in sorted(set(mine) & set(theirs), key=repr):
            for name, value in theirs[key].items():
                if mine[key].get(name) != value:
                    if _by_design(table, name, mine[key].get(name), value):
                        by_design[name] += 1
                        continue
                    fields[name] += 1
                    if len(examples) < EXAMPLES:
                        examples.append({"row": _shown(key), "field": name, "webhooks": _shown(mine[key].get(name)),
                                         "import": _shown(value)})
        report[table] = {"webhooks": len(mine), "import": len(theirs),
                         "only_webhooks": len(only_ours), "only_import": len(only_theirs),
                         "only_webhooks_examples": [_shown(k) for k in only_ours[:EXAMPLES]],
                         "only_import_examples": [_shown(k) for k in only_theirs[:EXAMPLES]],
                         "differing_fields": dict(fields), "by_design": dict(by_design), "examples": examples}
    report["identical_but_by_design"] = all(not (r["only_webhooks"] or r["only_import"] or r["differing_fields"])
                                            for r in report.values())
    report["identical"] = report["identical_but_by_design"] and not any(r["by_design"] for r in report.values()
                                                                         if isinstance(r, dict))
    return report


def _by_design(table: str, field: str, ours: Any, reference: Any) -> bool:
    return (table, field) == ("tickets", "incomplete") and ours == PARTIAL and reference is None


def differences(report: dict[str, Any]) -> list[str]:
    """The comparison in words, one line per kind of difference (empty when identical)."""
    lines = []
    for table, r in report.items():
        if not isinstance(r, dict):
            continue
        if r["only_webhooks"]:
            lines.append(f"{table}: {r['only_webhooks']} only after the webhooks, e.g. {r['only_webhooks_examples'][:2]}")
        if r["only_import"]:
            lines.append(f"{table}: {r['only_import']} only after the import, e.g. {r['only_import_examples'][:2]}")
        for name, count in r["differing_fields"].items():
            example = next(e for e in r["examples"] if e["field"] == name) if any(
                e["field"] == name for e in r["examples"]) else None
            lines.append(f"{table}.{name}: {count} rows differ" + (
                f", e.g. {example['row']}: webhooks {example['webhooks']} vs import {example['import']}" if example else ""))
        for name, count in r["by_design"].items():
            lines.append(f"{table}.{name}: {count} rows differ by design (webhooks '{PARTIAL}' vs import none)")
    return lines


def _shown(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_shown(v) for v in value]
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)
