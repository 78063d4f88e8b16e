"""The API's OpenAPI document (`/api/v1/openapi.json`), written by hand beside the views it
describes; `tests/service/test_api_v1.py` checks every answer of the API against it."""
from __future__ import annotations

from typing import Any

from analytics.attribution import ROLES
from analytics.scorecard import AREAS
from analytics.scorecard import COUNTED_SIDES as SIDES
from service.store.attributions import ID_MAX
from service.store.tickets import PAGE as PAGE_SIZE
from service.store.tickets import PAGES

STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
COUNT = {"type": "integer", "minimum": 0}
SHARE = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
FILTERS = [
    {"name": "project", "in": "query", "schema": STRING, "description": "a project key"},
    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "acts from this day"},
    {"name": "until", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "acts to this day"},
]
PAGE = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": PAGES},
        "description": f"{PAGE_SIZE} rows a page, from 1; `more` says whether another follows"}
FORMAT = {"name": "format", "in": "query", "schema": {"enum": ["json", "csv"]}}
ACT_FILTERS = [
    {"name": name, "in": "query", "schema": schema, "description": text} for name, schema, text in (
        ("kind", STRING, "the ticket's kind"), ("side", {"enum": list(SIDES)}, "the side of an attributed act"),
        ("role", {"enum": list(ROLES)}, "the role of an attributed act"),
        ("area", {"enum": list(AREAS)}, "an area: an act of any of its roles"),
        ("q", STRING, "text in the key or the title"),
        ("partner", STRING, "a partner organisation of the configuration: tickets on which it carried a role"))
]
TICKET_FILTERS = FILTERS + ACT_FILTERS + [PAGE, FORMAT]
ATTRIBUTION_FILTERS = FILTERS + ACT_FILTERS + [
    {"name": "ticket", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": ID_MAX},
     "description": "a ticket's id: its acts"},
    {"name": "account", "in": "query", "schema": STRING,
     "description": "an account as `tracker:id` (`jira:5b10ac8d`, `github:octocat`): the acts of its person, "
                    "under any of the person's merged accounts"},
    PAGE, FORMAT]
PEOPLE_FILTERS = [{"name": "unaffiliated", "in": "query", "schema": {"enum": ["1"]},
                   "description": "1: only the people no organisation covers"}, PAGE, FORMAT]


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def _list(schema: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{schema}"}}


def _counted(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A row of acts by side, named by `name`, with the partner's share of partner and client acts."""
    return _object({name: schema, "partner": COUNT, "client": COUNT, "unknown": COUNT, "partner_share": SHARE})


SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": STRING, "message": STRING}),
    "TicketRow": _object({"id": INTEGER, "key": STRING, "title": STRING, "kind": STRING, "status": STRING,
                          "project": STRING, "updated": TIME}),
    "TicketPage": _object({"page": INTEGER, "more": BOOLEAN,
                           "tickets": {"type": "array", "items": {"$ref": "#/components/schemas/TicketRow"}}}),
    "Event": _object({"at": TIME, "kind": STRING, "actor": NULLABLE_STRING, "field": NULLABLE_STRING,
                      "from": NULLABLE_STRING, "to": NULLABLE_STRING}),
    "Attribution": _object({"role": STRING, "person": NULLABLE_STRING, "side": STRING,
                            "organisation": NULLABLE_STRING, "at": TIME, "rule": STRING, "evidence": STRING}),
    "Ticket": _object({"id": INTEGER, "key": STRING, "title": STRING, "kind": STRING, "status": STRING,
                       "project": STRING, "created": TIME, "updated": TIME, "deleted": BOOLEAN,
                       "incomplete": NULLABLE_STRING, "link": NULLABLE_STRING,
                       "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                       "attributions": {"type": "array", "items": {"$ref": "#/components/schemas/Attribution"}}}),
    "Report": {"type": "object", "required": ["roles", "areas", "signals", "data_quality"]},
    "Month": _counted("month", {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}),
    "ProjectCounts": _counted("project", STRING),
    "PartnerCounts": _counted("organisation", NULLABLE_STRING),  # null: tickets no partner acted on
    "TopPerson": _object({"person": STRING, "acts": COUNT}),
    "AreaMonths": _object({"area": {"enum": list(AREAS)}, "roles": {"type": "array", "items": STRING},
                           "months": _list("Month")}),
    "Areas": _object({"areas": _list("AreaMonths")}),
    "Area": _object({"area": {"enum": list(AREAS)}, "roles": {"type": "array", "items": STRING},
                     "months": _list("Month"), "projects": _list("ProjectCounts"), "partners": _list("PartnerCounts"),
                     "top": _object({side: _list("TopPerson") for side in SIDES})}),
    "AttributionRow": _object({"ticket": INTEGER, "key": STRING, "role": {"enum": list(ROLES)},
                               "side": {"enum": list(SIDES)}, "organisation": NULLABLE_STRING, "account": STRING,
                               "person": STRING, "at": TIME, "rule": STRING, "evidence": STRING}),
    "AttributionPage": _object({"page": INTEGER, "more": BOOLEAN, "attributions": _list("AttributionRow")}),
    "Person": _object({"account": STRING, "name": NULLABLE_STRING, "organisation": NULLABLE_STRING,
                       "side": {"enum": list(SIDES)}, "acts": COUNT,
                       "last_act": {"type": ["string", "null"], "format": "date-time"},
                       "other_accounts": {"type": "array", "items": STRING}}),
    "PeoplePage": _object({"page": INTEGER, "more": BOOLEAN, "people": _list("Person")}),
}


def _get(summary: str, schema: str, parameters: list[dict[str, Any]], csv: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}
    if csv:
        content["text/csv"] = {"schema": STRING}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return {"get": {"summary": summary, "parameters": parameters, "responses": {
        "200": {"description": "found", "content": content}, "400": {"description": "a bad value", **error},
        "401": {"description": "no user: log in or send a token", **error},
        "404": {"description": "nothing there", **error}}}}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Partnerscope", "version": "1"},
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"token": {"type": "http", "scheme": "bearer"},
                                           "session": {"type": "apiKey", "in": "cookie", "name": "session"}}},
        "security": [{"token": []}, {"session": []}],
        "paths": {
            "/api/v1/report": _get("The report: roles, areas, signals, data quality", "Report", FILTERS + [FORMAT], csv=True),
            "/api/v1/tickets": _get("A page of tickets, newest change first", "TicketPage", TICKET_FILTERS, csv=True),
            "/api/v1/tickets/{id}": _get("A ticket with its acts and attributions", "Ticket",
                                         [{"name": "id", "in": "path", "required": True, "schema": INTEGER}]),
            "/api/v1/areas": _get("Every area's acts by side, month by month (CSV: a row per area and month)",
                                  "Areas", FILTERS + [FORMAT], csv=True),
            "/api/v1/areas/{area}": _get(
                "One area: its months, projects, partners and the people who carried it most (CSV: its months)",
                "Area", [{"name": "area", "in": "path", "required": True, "schema": {"enum": list(AREAS)}},
                         *FILTERS, FORMAT], csv=True),
            "/api/v1/attributions": _get("A page of attributed acts with their evidence, oldest first",
                                         "AttributionPage", ATTRIBUTION_FILTERS, csv=True),
            "/api/v1/people": _get("A page of people (merged accounts once), most active first", "PeoplePage",
                                   PEOPLE_FILTERS, csv=True),
        },
    }
