"""API v1 under hostile input: every parameter the document names refuses NUL bytes and 10,000
characters with a 400 that names it, odd pages, ids, accounts and days get the documented error
(never a 500), extreme but valid values answer 200, and nothing answers without a user."""
from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from service.store.db import transaction
from service.store.users import add_user, create_token
from tests.service.test_api_v1 import check
from tests.service.test_report import three_bugs

NEW_PATHS = ("/api/v1/areas", "/api/v1/areas/deployment", "/api/v1/attributions", "/api/v1/people")


def documented_parameters(client) -> list[tuple[str, str]]:
    """(path, query parameter) for every query parameter of every path in the document."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    return [(path.replace("{area}", "deployment"), p["name"]) for path, item in paths.items()
            for p in item["get"]["parameters"] if p["in"] == "query"]


def refused(client, path: str, status: int, naming: str) -> None:
    answer = client.get(path)
    assert answer.status_code == status, (path, answer.get_data(as_text=True)[:300])
    assert naming in check(client, answer, "Error")["message"], path


def test_every_documented_parameter_refuses_nul_and_huge_values_naming_itself(client, sessions, config) -> None:
    three_bugs(sessions, config)
    found = documented_parameters(client)
    assert {name for path, name in found if path == "/api/v1/attributions"} == {
        "project", "since", "until", "kind", "side", "role", "area", "q", "partner", "ticket", "account", "page",
        "format"}
    for path, name in found:
        for value in ("%00", "x" * 10_000, "1%00"):
            refused(client, f"{path}?{name}={value}", 400, f"'{name}'")


PAGES = [
    pytest.param("page=%C2%B2", id="page-superscript-two"),
    pytest.param("page=100001", id="page-past-the-last"),
    pytest.param("page=99999999999999999999999", id="page-huge"),
    pytest.param("page=0", id="page-zero"),
    pytest.param("page=-1", id="page-negative"),
    pytest.param("page=1.5", id="page-fraction"),
    pytest.param("page=+1", id="page-space"),
    pytest.param("page=%EF%BC%91", id="page-fullwidth-one"),
]


@pytest.mark.parametrize("query", PAGES)
@pytest.mark.parametrize("path", ["/api/v1/attributions", "/api/v1/people"])
def test_bad_pages(client, path: str, query: str) -> None:
    refused(client, f"{path}?{query}", 400, "'page'")


@pytest.mark.parametrize("query, naming", [
    pytest.param("since=2025-03-01&until=2025-02-01", "'since'", id="since-after-until"),
    pytest.param("since=2025-02-30", "'since'", id="since-no-such-day"),
    pytest.param("until=10000-01-01", "'until'", id="until-past-year-9999"),
    pytest.param("project=" + "P" * 201, "'project'", id="project-too-long"),
    pytest.param("project=%E2%80%AEPAY", "'project'", id="project-bidi"),
    pytest.param("format=xml", "'format'", id="format"),
])
@pytest.mark.parametrize("path", ["/api/v1/areas", "/api/v1/areas/deployment", "/api/v1/attributions"])
def test_bad_report_filters(client, path: str, query: str, naming: str) -> None:
    refused(client, f"{path}?{query}", 400, naming)


@pytest.mark.parametrize("query, naming", [
    pytest.param("role=boss", "'role'", id="role-unknown"),
    pytest.param("side=both", "'side'", id="side-unknown"),
    pytest.param("area=nope", "'area'", id="area-unknown"),
    pytest.param("kind=" + "k" * 201, "'kind'", id="kind-too-long"),
    pytest.param("q=%1B%5B2J", "'q'", id="text-escape-sequence"),
    pytest.param("ticket=0", "'ticket'", id="ticket-zero"),
    pytest.param("ticket=2147483648", "'ticket'", id="ticket-past-32-bits"),
    pytest.param("ticket=" + "9" * 30, "'ticket'", id="ticket-huge"),
    pytest.param("ticket=%C2%B2", "'ticket'", id="ticket-superscript-two"),
    pytest.param("ticket=SHOP-1", "'ticket'", id="ticket-a-key"),
    pytest.param("account=nobody", "'account'", id="account-without-tracker"),
    pytest.param("account=jira:", "'account'", id="account-without-id"),
    pytest.param("account=:x", "'account'", id="account-empty-tracker"),
    pytest.param("account=jira:" + "a" * 201, "'account'", id="account-id-too-long"),
    pytest.param("account=" + "t" * 21 + ":x", "'account'", id="account-tracker-too-long"),
    pytest.param("account=jira:%E2%80%AEx", "'account'", id="account-bidi"),
])
def test_bad_values_of_the_attribution_filters(client, query: str, naming: str) -> None:
    refused(client, f"/api/v1/attributions?{query}", 400, naming)


@pytest.mark.parametrize("path, status, naming", [
    pytest.param("/api/v1/people?unaffiliated=yes", 400, "'unaffiliated'", id="unaffiliated-yes"),
    pytest.param("/api/v1/people?unaffiliated=0", 400, "'unaffiliated'", id="unaffiliated-zero"),
    pytest.param("/api/v1/areas/nope", 404, "the areas are requirements, quality_assurance", id="area-unknown"),
    pytest.param("/api/v1/areas/%00", 404, "the areas are", id="area-nul"),
    pytest.param("/api/v1/areas/" + "a" * 10_000, 404, "'" + "a" * 40 + "'", id="area-huge-cut-short"),
    pytest.param("/api/v1/areas/deployment?format=pdf", 400, "'format'", id="area-format"),
    pytest.param("/api/v1/areas/nope?since=2025-99-01", 404, "the areas are", id="area-unknown-before-filters"),
])
def test_bad_people_and_area_values(client, path: str, status: int, naming: str) -> None:
    refused(client, path, status, naming)


@pytest.mark.parametrize("path, schema, query", [
    (path, schema, query) for path, schema in (("/api/v1/areas", "Areas"), ("/api/v1/areas/deployment", "Area"),
                                               ("/api/v1/attributions", "AttributionPage"))
    for query in ("until=9999-12-31", "since=0001-01-01", "since=9999-12-31", "until=0001-01-01",
                  "since=9999-12-31&until=9999-12-31", "project=NOPE", "project=%ED%A0%80")
] + [("/api/v1/attributions", "AttributionPage", "page=100000"), ("/api/v1/people", "PeoplePage", "page=100000")])
def test_extreme_but_valid_values_answer(client, sessions, config, path: str, schema: str, query: str) -> None:
    three_bugs(sessions, config)
    answer = client.get(f"{path}?{query}")
    assert answer.status_code == 200
    body = check(client, answer, schema)
    if query.startswith("until=9999"):  # the last day there is: everything
        assert body == client.get(path).get_json()
    if query == "page=100000":
        assert (body["page"], body["more"]) == (100000, False)


def test_extreme_but_valid_attribution_filters_answer(client, sessions, config) -> None:
    three_bugs(sessions, config)
    for query in ("ticket=2147483647", "account=jira:nobody", "account=github:" + "x" * 200, "account=jira:%EF%BF%BD",
                  "q=%25_%5C", "kind=" + "k" * 200):
        page = check(client, client.get(f"/api/v1/attributions?{query}"), "AttributionPage")
        assert page == {"page": 1, "more": False, "attributions": []}, query


def test_without_a_user_the_new_routes_answer_401(app, client) -> None:
    for path in NEW_PATHS + ("/api/v1/areas/nope", "/api/v1/attributions?page=%C2%B2", "/api/v1/people?format=csv"):
        answer = app.test_client().get(path)
        assert answer.status_code == 401, path
        check(client, answer, "Error")


def test_a_token_opens_the_new_routes(app, sessions, config) -> None:
    three_bugs(sessions, config)
    with transaction(sessions) as s:
        add_user(s, "script", "viewer", "a long enough password")
        token = create_token(s, "script")
    api = app.test_client()
    for path in NEW_PATHS + ("/api/v1/attributions?format=csv",):
        assert api.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200, path


def test_the_documents_schemas_are_json_schemas(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    for path, item in document["paths"].items():
        for parameter in item["get"]["parameters"]:
            Draft202012Validator.check_schema(parameter["schema"])
