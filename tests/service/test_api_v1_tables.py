"""API v1's tables beyond the tickets: the areas month by month, the attributed acts and the people,
with exact values on a small story, every filter, paging and CSV; every JSON answer is checked
against the OpenAPI document."""
from __future__ import annotations

import csv
import io

import pytest

from connectors.records import Account, Event
from tests.service.builders import at, parsed, ticket, transition
from tests.service.test_api_v1 import check
from tests.service.test_signals_report import bug
from tests.service.test_store import ingest


def four_tickets(sessions, config) -> None:
    """SHOP-1 (January) deployed by the client, PAY-2 (February) by the partner, SHOP-3 (April) by
    a stranger no organisation covers; nothing in March. SHOP-4 (February), a task the client
    created and Ola tested, a partner person with a Jira and a GitHub account (one email)."""
    ola = [Account("jira", "client-1", "client-1"), Account("jira", "j-ola", "Ola", "ola@nordlys.example"),
           Account("github", "ola-dev", "Ola N", "OLA@nordlys.example")]
    ingest(sessions, config, [
        bug(1, 0, deployer="jira:client-1"),
        bug(2, 30, deployer="jira:partner-1", project="PAY"),
        bug(3, 90, deployer="jira:stranger"),
        parsed(ticket(4, kind="task", type_name="Task", status="UAT"),
               [transition(1, 1, "jira:j-ola", "In QA", "UAT"), transition(2, 30, "github:ola-dev", "In QA", "UAT")],
               ola),
    ])


def rows(answer) -> list[list[str]]:
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True))))


def month(name: str, partner: int, client: int, unknown: int, share: float | None) -> dict:
    return {"month": name, "partner": partner, "client": client, "unknown": unknown, "partner_share": share}


# Areas

def test_every_area_comes_month_by_month_with_empty_months_and_shares(client, sessions, config) -> None:
    four_tickets(sessions, config)
    areas = {a["area"]: a for a in check(client, client.get("/api/v1/areas"), "Areas")["areas"]}
    assert list(areas) == ["requirements", "quality_assurance", "issue_management", "improvements", "deployment"]
    assert areas["deployment"] == {"area": "deployment", "roles": ["deploy"], "months": [
        month("2025-01", 0, 1, 0, 0.0), month("2025-02", 1, 0, 0, 1.0), month("2025-03", 0, 0, 0, None),
        month("2025-04", 0, 0, 1, None)]}
    assert areas["quality_assurance"]["months"] == [  # detect, test, accept; SHOP-4's test is Ola's
        month("2025-01", 1, 1, 0, 0.5), month("2025-02", 2, 1, 0, 0.6667), month("2025-03", 0, 0, 0, None),
        month("2025-04", 1, 1, 0, 0.5)]
    assert areas["issue_management"]["months"][-1] == month("2025-04", 1, 0, 1, 1.0)  # the stranger resolved
    assert areas["requirements"]["months"] == [month("2025-02", 0, 1, 0, 0.0)]
    assert areas["improvements"] == {"area": "improvements", "roles": ["improve", "prioritise"], "months": []}


@pytest.mark.parametrize("query, deployment, quality", [
    pytest.param("?project=PAY", [month("2025-02", 1, 0, 0, 1.0)], [month("2025-02", 1, 1, 0, 0.5)], id="project"),
    # Days cut both months: SHOP-1's acts of 6 January and PAY-2's deploy of 6 February fall outside.
    pytest.param("?since=2025-01-07&until=2025-02-05", [month("2025-01", 0, 1, 0, 0.0)],
                 [month("2025-02", 2, 1, 0, 0.6667)], id="since-until-cut-months"),
    pytest.param("?since=2025-03-01&until=2025-03-31", [], [], id="a-month-without-acts"),
    pytest.param("?until=9999-12-31", None, None, id="until-the-last-day"),
])
def test_the_areas_follow_the_report_filters(client, sessions, config, query, deployment, quality) -> None:
    four_tickets(sessions, config)
    areas = {a["area"]: a["months"] for a in check(client, client.get(f"/api/v1/areas{query}"), "Areas")["areas"]}
    if deployment is None:  # no filter at all
        deployment, quality = ({a["area"]: a["months"] for a in client.get("/api/v1/areas").get_json()["areas"]}[name]
                               for name in ("deployment", "quality_assurance"))
    assert (areas["deployment"], areas["quality_assurance"]) == (deployment, quality)
    for name, months in areas.items():  # one area alone has the months the list gives it
        assert check(client, client.get(f"/api/v1/areas/{name}{query}"), "Area")["months"] == months


def test_one_area_by_project_partner_and_its_people(client, sessions, config) -> None:
    four_tickets(sessions, config)
    deployment = check(client, client.get("/api/v1/areas/deployment"), "Area")
    assert deployment["projects"] == [
        {"project": "PAY", "partner": 1, "client": 0, "unknown": 0, "partner_share": 1.0},
        {"project": "SHOP", "partner": 0, "client": 1, "unknown": 1, "partner_share": 0.0}]
    assert deployment["partners"] == [  # the partner acted on every deployed ticket
        {"organisation": "Nordlys", "partner": 1, "client": 1, "unknown": 1, "partner_share": 0.5}]
    assert deployment["top"] == {"partner": [{"person": "partner-1", "acts": 1}],
                                 "client": [{"person": "client-1", "acts": 1}],
                                 "unknown": [{"person": "stranger", "acts": 1}]}
    quality = check(client, client.get("/api/v1/areas/quality_assurance?project=SHOP"), "Area")
    assert quality["top"]["partner"] == [{"person": "partner-1", "acts": 2}, {"person": "Ola", "acts": 1}]
    assert quality["partners"] == [{"organisation": "Nordlys", "partner": 3, "client": 2, "unknown": 0,
                                    "partner_share": 0.6}]


def test_an_area_no_partner_acted_on_names_no_organisation(client, sessions, config) -> None:
    ingest(sessions, config, [parsed(ticket(2, kind="task", type_name="Task"), [])])  # only the client created it
    requirements = check(client, client.get("/api/v1/areas/requirements"), "Area")
    assert requirements["partners"] == [{"organisation": None, "partner": 0, "client": 1, "unknown": 0,
                                         "partner_share": 0.0}]


def test_the_areas_as_csv_are_a_row_per_area_and_month(client, sessions, config) -> None:
    four_tickets(sessions, config)
    table = rows(client.get("/api/v1/areas?format=csv"))
    assert table[0] == ["area", "month", "partner", "client", "unknown", "partner_share"]
    assert table[1] == ["requirements", "2025-02", "0", "1", "0", "0.0"]
    assert [r for r in table if r[0] == "deployment"] == [
        ["deployment", "2025-01", "0", "1", "0", "0.0"], ["deployment", "2025-02", "1", "0", "0", "1.0"],
        ["deployment", "2025-03", "0", "0", "0", ""], ["deployment", "2025-04", "0", "0", "1", ""]]
    assert len(table) == 1 + 1 + 4 + 4 + 4  # requirements, quality, issues, deployment; improvements has none
    assert rows(client.get("/api/v1/areas/deployment?format=csv&project=PAY")) == [
        table[0], ["deployment", "2025-02", "1", "0", "0", "1.0"]]


# Attributions

def test_the_attributions_come_oldest_first_with_their_evidence(client, sessions, config) -> None:
    four_tickets(sessions, config)
    page = check(client, client.get("/api/v1/attributions"), "AttributionPage")
    assert (page["page"], page["more"], len(page["attributions"])) == (1, False, 17)
    assert [a["at"] for a in page["attributions"]] == sorted(a["at"] for a in page["attributions"])
    first, last = page["attributions"][0], page["attributions"][-1]
    assert first == {"ticket": first["ticket"], "key": "SHOP-1", "role": "detect", "side": "client",
                     "organisation": "Acme", "account": "jira:client-1", "person": "client-1",
                     "at": "2025-01-06T09:00:00+00:00", "rule": "reporter-detects",
                     "evidence": "reported bug SHOP-1 on 2025-01-06"}
    assert (last["key"], last["role"], last["side"], last["organisation"], last["account"]) == (
        "SHOP-3", "resolve", "unknown", None, "jira:stranger")
    assert last["evidence"] == "moved Ready for Release → Deployed by stranger on 2025-04-07"


def keys_and_roles(client, query: str) -> list[tuple[str, str]]:
    page = check(client, client.get(f"/api/v1/attributions?{query}"), "AttributionPage")
    return [(a["key"], a["role"]) for a in page["attributions"]]


BUG = ("detect", "investigate", "test", "deploy", "resolve")


@pytest.mark.parametrize("query, expected", [
    pytest.param("project=PAY", [("PAY-2", r) for r in BUG], id="project"),
    pytest.param("since=2025-02-01&until=2025-02-28",
                 [("SHOP-4", "specify"), ("SHOP-4", "test")] + [("PAY-2", r) for r in BUG], id="since-until"),
    pytest.param("since=2025-04-07", [("SHOP-3", "deploy"), ("SHOP-3", "resolve")], id="since-a-day"),
    pytest.param("until=2025-01-06", [("SHOP-1", "detect"), ("SHOP-1", "investigate"), ("SHOP-1", "test")],
                 id="until-a-day"),
    pytest.param("role=deploy", [("SHOP-1", "deploy"), ("PAY-2", "deploy"), ("SHOP-3", "deploy")], id="role"),
    pytest.param("side=unknown", [("SHOP-3", "deploy"), ("SHOP-3", "resolve")], id="side"),
    pytest.param("area=requirements", [("SHOP-4", "specify")], id="area"),
    pytest.param("kind=task", [("SHOP-4", "specify"), ("SHOP-4", "test")], id="kind"),
    pytest.param("q=bug+3", [("SHOP-3", r) for r in BUG], id="text-in-title"),
    pytest.param("q=PAY-2", [("PAY-2", r) for r in BUG], id="text-is-key"),
    pytest.param("account=github:ola-dev", [("SHOP-4", "test")], id="account-of-a-merged-person"),
    pytest.param("account=jira:partner-1&role=test&project=SHOP", [("SHOP-1", "test"), ("SHOP-3", "test")],
                 id="account-role-project"),
    pytest.param("account=jira:nobody", [], id="account-unknown"),
    pytest.param("side=partner&area=quality_assurance&until=2025-02-28",
                 [("SHOP-1", "test"), ("SHOP-4", "test"), ("PAY-2", "test")], id="side-area-until"),
    pytest.param("project=NOPE", [], id="project-unknown"),
    pytest.param("until=9999-12-31&since=0001-01-01", None, id="the-widest-days"),
])
def test_every_filter_of_the_attributions(client, sessions, config, query: str, expected) -> None:
    four_tickets(sessions, config)
    if expected is None:
        expected = keys_and_roles(client, "")
    assert keys_and_roles(client, query) == expected


def test_the_ticket_filter_lists_one_tickets_acts_and_the_merged_persons_own_account(client, sessions, config) -> None:
    four_tickets(sessions, config)
    shop_4 = client.get("/api/v1/tickets?q=SHOP-4").get_json()["tickets"][0]["id"]
    page = check(client, client.get(f"/api/v1/attributions?ticket={shop_4}"), "AttributionPage")
    assert [(a["ticket"], a["role"], a["account"], a["person"]) for a in page["attributions"]] == [
        (shop_4, "specify", "jira:client-1", "client-1"), (shop_4, "test", "jira:j-ola", "Ola")]
    assert keys_and_roles(client, "ticket=2147483647") == []


def test_attributions_page_by_page_in_a_stable_order(client, sessions, config) -> None:
    ingest(sessions, config, [bug(n, n, deployer="jira:client-1") for n in range(1, 12)])  # 55 acts
    first = check(client, client.get("/api/v1/attributions"), "AttributionPage")
    second = check(client, client.get("/api/v1/attributions?page=2"), "AttributionPage")
    third = check(client, client.get("/api/v1/attributions?page=3"), "AttributionPage")
    assert [(p["page"], p["more"], len(p["attributions"])) for p in (first, second, third)] == [
        (1, True, 50), (2, False, 5), (3, False, 0)]
    listed = first["attributions"] + second["attributions"]
    assert len({(a["ticket"], a["role"]) for a in listed}) == 55
    assert [a["at"] for a in listed] == sorted(a["at"] for a in listed)
    assert {a["key"] for a in second["attributions"]} == {"SHOP-11"}
    assert listed == check(client, client.get("/api/v1/attributions"), "AttributionPage")["attributions"] + \
        second["attributions"]  # asked again, the same order
    assert rows(client.get("/api/v1/attributions?format=csv&page=2"))[1][1] == "SHOP-11"


def test_the_attributions_as_csv_with_formulas_defused(client, sessions, config) -> None:
    four_tickets(sessions, config)
    evil = Account("jira", "evil", "=HYPERLINK(\"http://evil.example\")")
    ingest(sessions, config, [parsed(ticket(5, reporter="jira:evil"), [], [evil])])
    table = rows(client.get("/api/v1/attributions?format=csv&role=deploy"))
    assert table[0] == ["ticket", "key", "role", "side", "organisation", "account", "person", "at", "rule", "evidence"]
    assert table[3][1:] == ["SHOP-3", "deploy", "unknown", "", "jira:stranger", "stranger",
                            "2025-04-07T09:00:00+00:00", "deploys",
                            "moved Ready for Release → Deployed by stranger on 2025-04-07"]
    evil_row = rows(client.get("/api/v1/attributions?format=csv&account=jira:evil"))[1]
    assert evil_row[6] == "'=HYPERLINK(\"http://evil.example\")"
    assert evil_row[9].startswith("reported bug SHOP-5 on")


# People

def test_the_people_with_their_acts_and_other_accounts_most_active_first(client, sessions, config) -> None:
    four_tickets(sessions, config)
    page = check(client, client.get("/api/v1/people"), "PeoplePage")
    assert (page["page"], page["more"]) == (1, False)
    assert page["people"] == [
        {"account": "jira:partner-1", "name": "partner-1", "organisation": "Nordlys", "side": "partner", "acts": 13,
         "last_act": "2025-04-06T13:00:00+00:00", "other_accounts": []},
        {"account": "jira:client-1", "name": "client-1", "organisation": "Acme", "side": "client", "acts": 5,
         "last_act": "2025-04-06T09:00:00+00:00", "other_accounts": []},
        {"account": "github:ola-dev", "name": "Ola N", "organisation": "Nordlys", "side": "partner", "acts": 2,
         "last_act": "2025-02-02T15:00:00+00:00", "other_accounts": ["jira:j-ola"]},
        {"account": "jira:stranger", "name": "stranger", "organisation": None, "side": "unknown", "acts": 1,
         "last_act": "2025-04-07T09:00:00+00:00", "other_accounts": []},
    ]
    only = check(client, client.get("/api/v1/people?unaffiliated=1"), "PeoplePage")
    assert [p["account"] for p in only["people"]] == ["jira:stranger"]


def test_the_people_as_csv(client, sessions, config) -> None:
    four_tickets(sessions, config)
    ingest(sessions, config, [parsed(ticket(5, reporter="jira:evil"), [], [Account("jira", "evil", "@SUM(1+1)")])])
    table = rows(client.get("/api/v1/people?format=csv"))
    assert table[0] == ["account", "name", "organisation", "side", "acts", "last_act", "other_accounts"]
    assert table[3] == ["github:ola-dev", "Ola N", "Nordlys", "partner", "2", "2025-02-02T15:00:00+00:00", "jira:j-ola"]
    assert table[4] == ["jira:evil", "'@SUM(1+1)", "", "unknown", "1", "2025-02-01T09:00:00+00:00", ""]
    assert [r[0] for r in rows(client.get("/api/v1/people?format=csv&unaffiliated=1"))[1:]] == [
        "jira:evil", "jira:stranger"]


def test_people_page_by_page(client, sessions, config) -> None:
    # 52 commenters and the reporter: one act each, so the order is by account.
    talk = [Event(f"c{i}", "comment", at(1 + i / 60), f"jira:u{i:02}") for i in range(52)]
    ingest(sessions, config, [parsed(ticket(1), talk)])
    first = check(client, client.get("/api/v1/people"), "PeoplePage")
    second = check(client, client.get("/api/v1/people?page=2"), "PeoplePage")
    assert (first["more"], len(first["people"]), second["more"]) == (True, 50, False)
    assert first["people"][0]["account"] == "jira:client-1"
    assert [p["account"] for p in second["people"]] == ["jira:u49", "jira:u50", "jira:u51"]
    only = check(client, client.get("/api/v1/people?unaffiliated=1&page=2"), "PeoplePage")
    assert (only["page"], only["more"], [p["account"] for p in only["people"]]) == (2, False, ["jira:u50", "jira:u51"])
    assert check(client, client.get("/api/v1/people?page=3"), "PeoplePage") == {"page": 3, "more": False, "people": []}
