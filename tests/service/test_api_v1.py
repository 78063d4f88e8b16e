"""The API, version 1: every answer matches the OpenAPI document, tables come as CSV too, and bad
values or no user get the documented errors."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import pytest
from jsonschema import Draft202012Validator

from tests.service.builders import bug_through_qa
from tests.service.test_report import three_bugs
from tests.service.test_store import ingest


def check(client, answer, schema: str) -> dict:
    """The answer's JSON, checked against `schema` of the API's own OpenAPI document."""
    components = client.get("/api/v1/openapi.json").get_json()["components"]
    Draft202012Validator({"$ref": f"#/components/schemas/{schema}", "components": components}).validate(
        answer.get_json())
    return answer.get_json()


def test_the_ticket_list_and_a_ticket_match_the_document(client, sessions, config) -> None:
    three_bugs(sessions, config)
    listed = check(client, client.get("/api/v1/tickets?project=SHOP&side=client&role=deploy"), "TicketPage")
    assert sorted(t["key"] for t in listed["tickets"]) == ["SHOP-1", "SHOP-2"] and listed["more"] is False
    one = check(client, client.get(f"/api/v1/tickets/{listed['tickets'][0]['id']}"), "Ticket")
    assert {a["role"] for a in one["attributions"]} >= {"deploy", "test"} and one["events"][0]["kind"] == "created"
    report = check(client, client.get("/api/v1/report?project=PAY"), "Report")
    assert report["roles"]["deploy"] == {"partner": 1, "client": 0, "unknown": 0}


def test_the_ticket_list_as_csv_defuses_formulas(client, sessions, config) -> None:
    item = bug_through_qa(5)
    ingest(sessions, config, [replace(item, ticket=replace(item.ticket, title="=HYPERLINK(\"http://evil\")"))])
    answer = client.get("/api/v1/tickets?format=csv")
    assert answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["id", "key", "title", "kind", "status", "project", "updated"]
    assert rows[1][1:3] == ["SHOP-5", "'=HYPERLINK(\"http://evil\")"]


@pytest.mark.parametrize("path, status", [
    ("/api/v1/tickets?side=both", 400), ("/api/v1/tickets?page=0", 400), ("/api/v1/tickets?format=xml", 400),
    ("/api/v1/tickets?q=%00", 400), ("/api/v1/tickets/999999", 404), ("/api/v1/tickets/" + "9" * 30, 404),
    ("/api/v1/report?since=2025-99-01", 400), ("/api/v1/nothing", 404),
])
def test_bad_values_get_the_documented_error(client, sessions, config, path: str, status: int) -> None:
    three_bugs(sessions, config)
    answer = client.get(path)
    assert answer.status_code == status
    check(client, answer, "Error")


def test_without_a_user_the_api_answers_401_and_the_document_too(app, client) -> None:
    for path in ("/api/v1/tickets", "/api/v1/tickets/1", "/api/v1/report", "/api/v1/openapi.json"):
        answer = app.test_client().get(path)
        assert answer.status_code == 401, path
        check(client, answer, "Error")


def test_the_document_names_every_v1_route_of_the_app(app, client) -> None:
    documented = set(client.get("/api/v1/openapi.json").get_json()["paths"])
    routes = {re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", str(rule).replace("<int(max=2147483647):ticket_id>", "{id}"))
              for rule in app.url_map.iter_rules()
              if str(rule).startswith("/api/v1/") and not str(rule).endswith("openapi.json")}
    assert routes == documented


def test_a_title_starting_with_a_tab_or_carriage_return_is_defused_too(client, sessions, config) -> None:
    items = [bug_through_qa(n) for n in (6, 7)]
    ingest(sessions, config, [replace(i, ticket=replace(i.ticket, title=t + "=1+1")) for i, t in zip(items, "\t\r")])
    rows = list(csv.reader(io.StringIO(client.get("/api/v1/tickets?format=csv").get_data(as_text=True), newline="")))
    assert sorted(r[2] for r in rows[1:]) == ["'\t=1+1", "'\r=1+1"]
