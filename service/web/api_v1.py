"""The API, version 1: the report, the ticket list and each ticket, as JSON (and CSV for tables),
described by `/api/v1/openapi.json`. The same filters, checks and login as the pages."""
from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, jsonify

from service.store.tickets import ticket_list
from service.web.api import chosen_format, report_json
from service.web.context import state
from service.web.openapi import document
from service.web.tickets import stored_ticket, ticket_filters

api_v1 = Blueprint("api_v1", __name__, url_prefix="/api/v1")
TICKET_COLUMNS = ("id", "key", "title", "kind", "status", "project", "updated")


@api_v1.get("/report")
def report() -> Response:
    return report_json()


@api_v1.get("/tickets")
def tickets() -> Response:
    fmt = chosen_format()
    _, sessions = state()
    chosen = ticket_filters()
    with sessions() as session:
        rows, more = ticket_list(session, chosen)
    listed = [{"id": r.id, "key": r.key, "title": r.title, "kind": r.kind, "status": r.status,
               "project": r.project, "updated": r.updated.isoformat()} for r in rows]
    if fmt == "csv":
        return _csv(TICKET_COLUMNS, listed, "partnerscope-tickets.csv")
    return jsonify({"page": chosen.page, "more": more, "tickets": listed})


@api_v1.get("/tickets/<int(max=2147483647):ticket_id>")
def ticket(ticket_id: int) -> Response:
    view = stored_ticket(ticket_id)
    t = view.ticket
    return jsonify({
        "id": t.id, "key": t.key, "title": t.title, "kind": t.kind, "status": t.status, "project": t.project,
        "created": t.created.isoformat(), "updated": t.updated.isoformat(), "deleted": t.deleted_at is not None,
        "incomplete": t.incomplete, "link": view.link,
        "events": [{"at": e.at.isoformat(), "kind": e.kind, "actor": e.actor, "field": e.field, "from": e.from_value,
                    "to": e.to_value} for e in view.events],
        "attributions": [{"role": a.role, "person": a.person, "side": a.side, "organisation": a.organisation,
                          "at": a.at.isoformat(), "rule": a.rule, "evidence": a.explanation} for a in view.attributions],
    })


@api_v1.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:  # a cell a spreadsheet would run as a formula starts with a quote
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v
                         for v in (row[c] for c in columns)])
    return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"})
