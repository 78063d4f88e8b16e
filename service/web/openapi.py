"""The API's OpenAPI document (`/api/v1/openapi.json`), written by hand beside the views it
describes; `tests/service/test_api_v1.py` checks every answer of the API against it."""
from __future__ import annotations

from typing import Any

STRING, INTEGER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
FILTERS = [
    {"name": "project", "in": "query", "schema": STRING, "description": "a project key"},
    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "acts from this day"},
    {"name": "until", "in": "query", "schema": {"type": "string", "format": "date"}, "description": "acts to this day"},
]
TICKET_FILTERS = FILTERS + [
    {"name": name, "in": "query", "schema": STRING, "description": text} for name, text in (
        ("kind", "the ticket's kind"), ("side", "partner, client or unknown: of an attributed act"),
        ("role", "the role of an attributed act"), ("area", "an area: any of its roles"),
        ("q", "text in the key or the title"))
] + [{"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
     {"name": "format", "in": "query", "schema": {"enum": ["json", "csv"]}}]


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


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
            "/api/v1/report": _get("The report: roles, areas, signals, data quality", "Report", FILTERS, csv=True),
            "/api/v1/tickets": _get("A page of tickets, newest change first", "TicketPage", TICKET_FILTERS, csv=True),
            "/api/v1/tickets/{id}": _get("A ticket with its acts and attributions", "Ticket",
                                         [{"name": "id", "in": "path", "required": True, "schema": INTEGER}]),
        },
    }
