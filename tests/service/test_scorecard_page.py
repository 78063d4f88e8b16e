"""The scorecard page: DESIGN.md's eleven behaviours with both ends, figures, sparkline, shift and
a link to the evidence; a partner picker when there are several partners."""
from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

import pytest

from analytics.affiliation import Organisation
from analytics.signals.catalog import SIGNALS
from service.store.report import Filters, responsibility_report
from service.web import create_app
from service.web.scorecard import sparkline
from tests.conftest import logged_in
from tests.service.builders import bug_through_qa
from tests.service.test_store import ingest


def row(page: str, name: str) -> str:
    return re.search(rf'<tr id="signal-{name}">(.*?)</tr>', page, re.S).group(1)


def test_every_behaviour_is_a_row_with_its_two_ends_and_its_evidence(client, sessions, config) -> None:
    ingest(sessions, config, [bug_through_qa(n, deployer="jira:partner-1") for n in range(1, 4)])
    page = client.get("/?project=SHOP").get_data(as_text=True)
    assert re.findall(r'<tr id="signal-(\w+)">', page) == [s.name for s in SIGNALS]
    deployment = unescape(row(page, "deployment"))
    assert "<b>win-lose:</b> the client's personnel deploy" in deployment
    assert "<b>win-win:</b> the partner deploys" in deployment
    assert 'href="/areas/deployment?project=SHOP"' in deployment
    assert '<span class="kind measured"' in deployment
    assert 'href="/tickets?project=SHOP"' in row(page, "communication")  # no area: the tickets of the range
    assert "not declared" in row(page, "contract_type")
    with sessions() as s:
        whole = responsibility_report(s, config, Filters(project="SHOP"))["signals"]["deployment"]["whole"]
    assert f"n = {whole['n']}" in deployment and whole["n"] == 3
    assert '<svg class="spark"' in deployment and "month by month: 2025-02: 100 %" in deployment


def test_the_partner_picker_shows_one_partners_own_figures(engine, sessions, config) -> None:
    two = replace(config, organisations=(*config.organisations,
                                         Organisation("Fjord", "partner", accounts=("jira:partner-2",))))
    app = create_app(two, engine=engine)
    client = logged_in(app, sessions)
    ingest(sessions, two, [bug_through_qa(1, deployer="jira:partner-1"),
                           bug_through_qa(2, deployer="jira:partner-2", tester="jira:partner-2"),
                           bug_through_qa(3, deployer="jira:client-1", tester="jira:partner-2")])
    page = client.get("/").get_data(as_text=True)
    assert '<select name="partner">' in page and "<option>Fjord</option>" in page
    with sessions() as s:
        signals = responsibility_report(s, two)["signals"]
    for partner in ("Fjord", "Nordlys"):
        page = client.get(f"/?partner={partner}").get_data(as_text=True)
        assert f"<option selected>{partner}</option>" in page and f"Scorecard: {partner}" in page
        mine = signals["quality_assurance"]["by_partner"][partner]["whole"]
        assert f"n = {mine['n']}" in row(page, "quality_assurance")
        assert f"partner={partner}" in row(page, "deployment")  # the area page keeps the pick
    assert client.get("/?partner=Acme").status_code == 400  # the client is no partner
    assert client.get("/?partner=" + "x" * 5000).status_code == 400
    assert client.get("/?partner=%00").status_code == 400


def test_one_partner_gets_no_picker(client, sessions, config) -> None:
    ingest(sessions, config, [bug_through_qa(1)])
    assert '<select name="partner">' not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("unit, values, lines", [
    ("partner_share", [0.0, 0.5, 1.0], ["0.0,22.0 48.0,12.0 96.0,2.0"]),
    ("partner_share", [0.5, None, 0.5, 0.5], ["0.0,12.0", "64.0,12.0 96.0,12.0"]),
    ("pairs_per_person", [2.0, 4.0], ["0.0,22.0 96.0,2.0"]),  # a rate on its own range
    ("pairs_per_person", [None, None], []),
])
def test_the_sparkline_draws_the_last_months(unit, values, lines) -> None:
    series = [{"month": f"2025-{i + 1:02d}", "value": v} for i, v in enumerate(values)]
    assert sparkline(series, unit)["lines"] == lines


def test_the_sparkline_keeps_twelve_months_and_says_them() -> None:
    series = [{"month": f"20{24 + i // 12}-{i % 12 + 1:02d}", "value": 0.25} for i in range(15)]
    drawn = sparkline(series, "partner_share")
    assert drawn["label"].startswith("month by month: 2024-04: 25 %,") and drawn["label"].endswith("2025-03: 25 %")
    assert len(drawn["lines"][0].split()) == 12
