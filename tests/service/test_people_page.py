"""The people page: the same people and counts as `partnerscope people`, the unaffiliated first."""
from __future__ import annotations

import re

from service.store.report import people
from tests.service.builders import bug_through_qa
from tests.service.test_report import three_bugs
from tests.service.test_store import ingest


def accounts(page: str) -> list[str]:
    return re.findall(r"<tr><td>([^<]+)</td>", page)


def test_the_page_lists_people_as_the_command_counts_them_unaffiliated_first(client, sessions, config) -> None:
    three_bugs(sessions, config)
    ingest(sessions, config, [bug_through_qa(4, deployer="jira:stranger")])
    page = client.get("/people").get_data(as_text=True)
    with sessions() as s:
        counted = people(s, config)
    assert accounts(page)[0] == "jira:stranger"
    assert sorted(accounts(page)) == sorted(p.account for p in counted)
    partner = next(p for p in counted if p.account == "jira:partner-1")
    assert f"<td>{partner.account}</td><td>{partner.name}</td><td>{partner.organisation}</td><td class=\"\">partner</td><td>{partner.activity}</td>" in page
    assert accounts(client.get("/people?unaffiliated=1").get_data(as_text=True)) == ["jira:stranger"]


def test_bad_values_and_no_login(client, app) -> None:
    assert client.get("/people?unaffiliated=yes").status_code == 400
    assert client.get("/people?unaffiliated=%00").status_code == 400
    assert app.test_client().get("/people").status_code == 302
