"""An area page: its months, projects, partners and people add up to the report's area, for any filters."""
from __future__ import annotations

import re
from datetime import date

import pytest

from service.store.report import Filters, responsibility_report
from tests.service.test_signals_report import year_of_bugs


def months(page: str) -> dict[str, tuple[int, int, int]]:
    return {m: (int(p), int(c), int(u)) for m, p, c, u in
            re.findall(r"<tr><td>(\d{4}-\d\d)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", page)}


@pytest.mark.parametrize("query, chosen", [
    ("", Filters()),
    ("?project=PAY", Filters(project="PAY")),
    ("?since=2025-02-10&until=2025-08-20", Filters(since=date(2025, 2, 10), until=date(2025, 8, 20))),
])
def test_the_months_add_up_to_the_reports_area(client, sessions, config, query: str, chosen: Filters) -> None:
    year_of_bugs(sessions, config)
    page = client.get(f"/areas/deployment{query}").get_data(as_text=True)
    with sessions() as s:
        area = responsibility_report(s, config, chosen)["areas"]["deployment"]
    found = months(page)
    assert tuple(map(sum, zip(*found.values()))) == (area["partner"], area["client"], area["unknown"])
    if not query:
        assert found["2025-01"][0] == 0 and found["2025-01"][1] > 0  # the client deployed at first
        assert found["2026-01"][0] > 0 and found["2026-01"][1] == 0  # the partner at the end


@pytest.mark.parametrize("chosen", [
    pytest.param(Filters(), id="everything"),
    pytest.param(Filters(project="PAY"), id="one project"),
    pytest.param(Filters(project="SHOP", since=date(2025, 5, 1)), id="one project within dates"),
    pytest.param(Filters(since=date(2025, 2, 10), until=date(2025, 8, 20)), id="within dates"),
])
def test_the_people_add_up_to_the_reports_area(sessions, config, chosen: Filters) -> None:
    from service.store.areas import area_view

    year_of_bugs(sessions, config)  # one person deploys on each side: each side's list holds every act
    with sessions() as s:
        top = area_view(s, "deployment", chosen).top
        area = responsibility_report(s, config, chosen)["areas"]["deployment"]
    assert (sum(n for _, n in top["partner"]), sum(n for _, n in top["client"])) == (area["partner"], area["client"])
    assert area["partner"] + area["client"] > 0


def test_the_page_draws_its_chart_without_script_or_style_and_names_its_people(client, sessions, config) -> None:
    year_of_bugs(sessions, config)
    page = client.get("/areas/deployment").get_data(as_text=True)
    assert page.count("<svg") == 1 and '<rect class="partner"' in page and '<rect class="client"' in page
    assert not re.search(r"<script|\sstyle=", page)
    assert "<td>PAY</td>" in page and "<td>Nordlys</td>" in page
    top = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page.split("carried it most")[1])
    assert top[0][0].startswith("partner-1 (") and top[0][1].startswith("client-1 (") and top[0][2] == ""


@pytest.mark.parametrize("path, status", [
    ("/areas/nope", 404), ("/areas/%3Cscript%3E", 404), ("/areas/deployment?since=2025-02-31", 400),
    ("/areas/deployment?project=%00", 400), ("/areas/deployment?since=2031-01-01", 200),
])
def test_bad_values_get_a_clear_answer(client, sessions, config, path: str, status: int) -> None:
    answer = client.get(path)
    assert answer.status_code == status and "<script>" not in answer.get_data(as_text=True)


def test_the_report_links_each_area_to_its_page_and_a_login_is_needed(client, app, sessions, config) -> None:
    year_of_bugs(sessions, config)
    assert 'href="/areas/deployment?project=PAY"' in client.get("/?project=PAY").get_data(as_text=True)
    assert app.test_client().get("/areas/deployment").status_code == 302
