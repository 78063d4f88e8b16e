"""The partnership review: a quarter against the one before, the shifts, the latest evidence per area."""
from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest

from service.store.report import Filters, responsibility_report
from tests.service.builders import parsed, ticket, transition
from tests.service.test_store import ingest


def deployed(number: int, day: date, by: str):
    hours = (day - date(2025, 2, 1)).days * 24 + 1
    return parsed(ticket(number), [transition(1, hours, by, "Ready for Release", "Deployed")])


@pytest.fixture
def two_quarters(sessions, config) -> None:
    ingest(sessions, config, [deployed(1, date(2025, 2, 3), "jira:client-1"),
                              deployed(2, date(2025, 3, 30), "jira:client-1"),
                              deployed(3, date(2025, 4, 2), "jira:partner-1"),
                              deployed(4, date(2025, 5, 9), "jira:partner-1"),
                              deployed(5, date(2025, 6, 30), "jira:client-1")])


def row(page: str, name: str) -> str:
    return unescape(re.search(rf'<tr id="review-{name}">(.*?)</tr>\s*(<tr class="evidence">.*?</tr>)?', page,
                              re.S).group(0))


def test_the_newest_quarter_against_the_one_before(client, sessions, config, two_quarters) -> None:
    page = client.get("/review").get_data(as_text=True)
    assert "Partnership review 2025-Q2" in page and "2025-Q2 (2025-04-01 to 2025-06-30) against 2025-Q1" in page
    deployment = row(page, "deployment")
    with sessions() as s:
        q1, q2 = (responsibility_report(s, config, Filters(since=a, until=b))["signals"]["deployment"]["whole"]
                  for a, b in ((date(2025, 1, 1), date(2025, 3, 31)), (date(2025, 4, 1), date(2025, 6, 30))))
    assert (q1["n"], q1["value"], q2["n"], q2["value"]) == (2, 0.0, 3, 0.6667)
    assert re.search(r"0 %.*n = 2.*67 %.*n = 3", deployment, re.S), deployment
    assert [k for k in re.findall(r">(SHOP-\d+)</a>", deployment)] == ["SHOP-4", "SHOP-3", "SHOP-5"]  # partner first


def test_an_earlier_quarter_by_name_and_bad_names_refused(client, two_quarters) -> None:
    page = client.get("/review?quarter=2025-Q1").get_data(as_text=True)
    assert "Partnership review 2025-Q1" in page and "against 2024-Q4" in page
    assert re.findall(r">(SHOP-\d+)</a>", row(page, "deployment")) == ["SHOP-2", "SHOP-1"]
    assert client.get("/review?quarter=9999-Q4").status_code == 200  # the last quarter there is
    for bad in ("2025-Q5", "2025Q1", "0001-Q1", "-1-Q1", "x" * 5000, "2025-Q1\x00", "２０２５-Q1"):
        answer = client.get("/review", query_string={"quarter": bad})
        assert answer.status_code == 400, bad
        assert "must be a year and quarter like 2026-Q2" in answer.get_data(as_text=True)


def test_no_acts_no_quarter(client) -> None:
    assert "No acts yet, so no quarter to review." in client.get("/review").get_data(as_text=True)


def test_the_review_keeps_the_filters_and_refuses_a_stranger_partner(client, two_quarters) -> None:
    page = client.get("/review?project=SHOP&partner=Nordlys").get_data(as_text=True)
    assert "Partnership review 2025-Q2: Nordlys, project SHOP" in page
    assert '<input type="hidden" name="project" value="SHOP">' in page
    assert client.get("/review?partner=Acme").status_code == 400
    assert client.get("/review?project=NOPE").status_code == 200


def test_a_picked_partner_sees_its_own_acts_as_partner_evidence(engine, sessions, config) -> None:
    from dataclasses import replace

    from analytics.affiliation import Organisation
    from service.web import create_app
    from tests.conftest import logged_in

    two = replace(config, organisations=(*config.organisations,
                                         Organisation("Fjord", "partner", accounts=("jira:partner-2",))))
    client = logged_in(create_app(two, engine=engine), sessions)
    ingest(sessions, two, [deployed(1, date(2025, 4, 2), "jira:partner-1"), deployed(2, date(2025, 4, 3), "jira:partner-2"),
                           deployed(3, date(2025, 4, 4), "jira:client-1")])
    keys = {p: re.findall(r">(SHOP-\d+)</a>", row(client.get(f"/review?partner={p}").get_data(as_text=True), "deployment"))
            for p in ("Nordlys", "Fjord")}
    assert keys == {"Nordlys": ["SHOP-1", "SHOP-3"], "Fjord": ["SHOP-2", "SHOP-3"]}
