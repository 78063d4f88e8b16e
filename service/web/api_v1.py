"""The API, version 1: the report, the areas month by month, the ticket list and each ticket, the
attributed acts and the people, as JSON (and CSV for tables), described by `/api/v1/openapi.json`.
The same filters, checks and login as the pages; lists come a page at a time with a `more` flag."""
from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import BadRequest

from analytics.scorecard import AREAS, partner_share
from service.store.areas import NO_PARTNER, area_months, area_view
from service.store.attributions import ID_MAX, AttributionFilters, attribution_list
from service.store.report import FilterError, people as all_people
from service.store.tickets import PAGE, PAGES, ticket_list
from service.web.api import chosen_format, report_json
from service.web.areas import known_area
from service.web.context import filters, state, unaffiliated_only
from service.web.openapi import document
from service.web.tickets import stored_ticket, ticket_filters, whole_number

api_v1 = Blueprint("api_v1", __name__, url_prefix="/api/v1")
TICKET_COLUMNS = ("id", "key", "title", "kind", "status", "project", "updated")
AREA_COLUMNS = ("area", "month", "partner", "client", "unknown", "partner_share")
ATTRIBUTION_COLUMNS = ("ticket", "key", "role", "side", "organisation", "account", "person", "at", "rule", "evidence")
PERSON_COLUMNS = ("account", "name", "organisation", "side", "acts", "last_act", "other_accounts")


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


@api_v1.get("/areas")
def areas() -> Response:
    fmt = chosen_format()
    _, sessions = state()
    chosen = filters()
    with sessions() as session:
        months = area_months(session, chosen)
    listed = [{"area": name, "roles": list(AREAS[name]), "months": _months(months[name])} for name in AREAS]
    if fmt == "csv":
        return _csv(AREA_COLUMNS, _area_rows(listed), "partnerscope-areas.csv")
    return jsonify({"areas": listed})


@api_v1.get("/areas/<area>")
def one_area(area: str) -> Response:
    known_area(area)
    fmt = chosen_format()
    _, sessions = state()
    chosen = filters()
    with sessions() as session:
        view = area_view(session, area, chosen)
    one = {"area": area, "roles": list(AREAS[area]), "months": _months(view.months),
           "projects": [{"project": project, **_counts(counts)} for project, counts in view.projects.items()],
           "partners": [{"organisation": None if partner == NO_PARTNER else partner, **_counts(counts)}
                        for partner, counts in view.partners.items()],
           "top": {side: [{"person": person, "acts": n} for person, n in rows] for side, rows in view.top.items()}}
    if fmt == "csv":
        return _csv(AREA_COLUMNS, _area_rows([one]), f"partnerscope-area-{area}.csv")
    return jsonify(one)


@api_v1.get("/attributions")
def attributions() -> Response:
    fmt = chosen_format()
    _, sessions = state()
    chosen = _attribution_filters()
    with sessions() as session:
        rows, more = attribution_list(session, chosen)
    listed = [{"ticket": r.ticket, "key": r.key, "role": r.role, "side": r.side, "organisation": r.organisation,
               "account": r.account, "person": r.person, "at": r.at.isoformat(), "rule": r.rule,
               "evidence": r.evidence} for r in rows]
    if fmt == "csv":
        return _csv(ATTRIBUTION_COLUMNS, listed, "partnerscope-attributions.csv")
    return jsonify({"page": chosen.acts.page, "more": more, "attributions": listed})


@api_v1.get("/people")
def people() -> Response:
    fmt = chosen_format()
    config, sessions = state()
    only = unaffiliated_only()
    page = whole_number("page", PAGES) or 1
    with sessions() as session:
        everyone = all_people(session, config, unaffiliated_only=only)  # most active first
    listed = [{"account": p.account, "name": p.name, "organisation": p.organisation, "side": p.side,
               "acts": p.activity, "last_act": p.last_active.isoformat() if p.last_active else None,
               "other_accounts": list(p.accounts[1:])} for p in everyone[(page - 1) * PAGE:page * PAGE]]
    if fmt == "csv":
        return _csv(PERSON_COLUMNS, [{**p, "other_accounts": " ".join(p["other_accounts"])} for p in listed],
                    "partnerscope-people.csv")
    return jsonify({"page": page, "more": len(everyone) > page * PAGE, "people": listed})


@api_v1.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())


def _csv(columns: tuple[str, ...], rows: list[dict[str, Any]], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; a "\r" in a cell is then quoted too
    writer.writerow(columns)
    for row in rows:  # a cell a spreadsheet would run as a formula starts with a quote
        writer.writerow(["'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v
                         for v in (row[c] for c in columns)])
    return Response(out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"})


def _attribution_filters() -> AttributionFilters:
    """The attribution list's filters of this request: the ticket list's, `ticket` and `account`."""
    acts = ticket_filters()
    try:
        return AttributionFilters(acts=acts, ticket=whole_number("ticket", ID_MAX),
                                  account=request.args.get("account") or None)
    except FilterError as exc:
        raise BadRequest(str(exc)) from None


def _counts(counts: dict[str, int]) -> dict[str, Any]:
    """Acts by side and the partner's share of them, as the report gives an area's."""
    return {**counts, "partner_share": partner_share(counts["partner"], counts["client"])}


def _months(series: list[tuple[str, dict[str, int]]]) -> list[dict[str, Any]]:
    return [{"month": month, **_counts(counts)} for month, counts in series]


def _area_rows(listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One CSV row per area and month."""
    return [{"area": one["area"], **month} for one in listed for month in one["months"]]
