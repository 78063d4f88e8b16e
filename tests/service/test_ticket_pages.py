"""The tickets behind the numbers: the list and its filters, a ticket's evidence, and hostile input."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from service.store.models import Ticket
from tests.service.builders import bug_through_qa
from tests.service.test_report import three_bugs
from tests.service.test_store import ingest


def keys(page: str) -> list[str]:
    return re.findall(r'<a href="/tickets/\d+">([^<]+)</a>', page)


def test_the_list_filters_by_project_side_role_area_and_text(client, sessions, config) -> None:
    three_bugs(sessions, config)
    assert sorted(keys(client.get("/tickets").get_data(as_text=True))) == ["PAY-3", "SHOP-1", "SHOP-2"]
    assert keys(client.get("/tickets?project=PAY").get_data(as_text=True)) == ["PAY-3"]
    assert sorted(keys(client.get("/tickets?role=deploy&side=client").get_data(as_text=True))) == ["SHOP-1", "SHOP-2"]
    assert keys(client.get("/tickets?area=deployment&side=partner").get_data(as_text=True)) == ["PAY-3"]
    assert keys(client.get("/tickets?q=ticket 2").get_data(as_text=True)) == ["SHOP-2"]
    assert keys(client.get("/tickets?q=PAY-3").get_data(as_text=True)) == ["PAY-3"]
    assert keys(client.get("/tickets?q=100%25").get_data(as_text=True)) == []  # % is a character, not a pattern
    assert keys(client.get("/tickets?since=2031-01-01").get_data(as_text=True)) == []


def test_the_reports_area_counts_link_to_their_tickets(client, sessions, config) -> None:
    three_bugs(sessions, config)
    page = client.get("/?project=SHOP").get_data(as_text=True)
    link = re.search(r'<a href="(/tickets\?[^"]*area=deployment[^"]*side=client[^"]*)">2</a>', page)
    assert link, "the deployment area's client count links to its tickets"
    listed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert sorted(keys(listed)) == ["SHOP-1", "SHOP-2"]


def test_the_list_pages_by_fifty_newest_first(client, sessions, config) -> None:
    ingest(sessions, config, [bug_through_qa(n, updated=n) for n in range(1, 56)])
    first = client.get("/tickets").get_data(as_text=True)
    assert len(keys(first)) == 50 and keys(first)[0] == "SHOP-55" and "Older →" in first
    second = client.get("/tickets?page=2").get_data(as_text=True)
    assert keys(second) == [f"SHOP-{n}" for n in range(5, 0, -1)] and "Older →" not in second


def test_a_ticket_shows_its_evidence_and_its_hostile_text_as_text(client, sessions, config) -> None:
    hostile = bug_through_qa(7)
    hostile = replace(hostile, ticket=replace(hostile.ticket, title="<script>alert(1)</script>",
                                              url="javascript:alert(1)"))
    ingest(sessions, config, [hostile, bug_through_qa(8)])
    with sessions() as s:
        ids = dict(s.execute(select(Ticket.key, Ticket.id)).all())
    page = client.get(f"/tickets/{ids['SHOP-7']}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "javascript:" not in page  # a tracker address that is no web address is not linked
    assert "deploy" in page and "Client-1" in page and "Timeline" in page
    with sessions() as s:
        s.execute(Ticket.__table__.update().where(Ticket.id == ids["SHOP-8"]).values(url="https://acme.atlassian.net/browse/SHOP-8"))
        s.commit()
    assert 'href="https://acme.atlassian.net/browse/SHOP-8"' in client.get(f"/tickets/{ids['SHOP-8']}").get_data(as_text=True)


@pytest.mark.parametrize("path, status", [
    ("/tickets/999999", 404), ("/tickets/abc", 404), ("/tickets/-1", 404), ("/tickets/" + "9" * 40, 404),
    ("/tickets?side=both", 400), ("/tickets?role=boss", 400), ("/tickets?area=everything", 400),
    ("/tickets?page=0", 400), ("/tickets?page=-1", 400), ("/tickets?page=abc", 400), ("/tickets?page=9999999", 400),
    ("/tickets?page=%C2%B2", 400), ("/tickets?page=%D9%A1", 400),  # "²" and Arabic-Indic "١": digits to Python
    ("/tickets?q=%00", 400), ("/tickets?q=" + "x" * 201, 400), ("/tickets?kind=%0a", 400),
    ("/tickets?q=%ED%A0%80", 200),  # bytes that are no UTF-8 arrive as U+FFFD: searched for, found nowhere
    ("/tickets?since=2025-13-01", 400), ("/tickets?since=2025-05-01&until=2025-01-01", 400),
    ("/tickets?q=%25%5F", 200), ("/tickets?_external=1&_method=POST", 200),
])
def test_hostile_values_get_a_clear_answer_never_a_500(client, sessions, config, path: str, status: int) -> None:
    three_bugs(sessions, config)
    assert client.get(path).status_code == status


def test_the_ticket_pages_need_a_login(app) -> None:
    assert app.test_client().get("/tickets").status_code == 302
    assert app.test_client().get("/tickets/1").status_code == 302


def test_the_timeline_names_the_people_an_assignment_moved_between(client, sessions, config) -> None:
    from connectors.records import Event
    from tests.service.builders import at

    item = bug_through_qa(1)
    moved = Event("a1", "assign", at(0.5), "jira:client-1", "assignee", "jira:client-1", "jira:partner-1")
    ingest(sessions, config, [replace(item, events=[moved, *item.events])])
    with sessions() as s:
        ticket_id = s.scalar(select(Ticket.id))
    page = client.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "<td>assign (assignee)</td><td>Client-1 → Partner-1</td>" in page


@pytest.mark.parametrize("window", [pytest.param(1, id="window of one per row"),
                                    pytest.param(10_000, id="window past every ticket")])
@pytest.mark.parametrize("side, page, expected, more", [
    pytest.param("client", 1, list(range(70, 20, -1)), True, id="many matches, newest first"),
    pytest.param("client", 2, list(range(20, 10, -1)), False, id="many matches, the last page"),
    pytest.param("partner", 1, list(range(10, 0, -1)), False, id="few matches, all old"),
])
def test_the_list_is_the_same_however_far_it_walks_the_newest_tickets(
        sessions, config, monkeypatch, window: int, side: str, page: int, expected: list[int], more: bool) -> None:
    from service.store import tickets as store
    from service.store.report import Filters

    # Seventy tickets, the oldest ten deployed by the partner and the rest by the client: with a
    # window of one ticket per row, a page of the client's is found among the newest tickets and
    # the partner's, none of which is there, are asked of the acts.
    ingest(sessions, config, [bug_through_qa(n, updated=n, deployer="jira:partner-1" if n <= 10 else "jira:client-1")
                              for n in range(1, 71)])
    monkeypatch.setattr(store, "WINDOW", window)
    with sessions() as s:
        rows, more_follow = store.ticket_list(s, store.TicketFilters(report=Filters(project="SHOP"), role="deploy",
                                                                     side=side, page=page))
    assert [row.key for row in rows] == [f"SHOP-{n}" for n in expected]
    assert more_follow is more


def test_a_partner_keeps_the_tickets_it_carried_a_role_on(engine, sessions, config) -> None:
    from analytics.affiliation import Organisation
    from service.web import create_app
    from tests.conftest import logged_in

    two = replace(config, organisations=(*config.organisations,
                                         Organisation("Fjord", "partner", accounts=("jira:partner-2",))))
    client = logged_in(create_app(two, engine=engine), sessions)
    ingest(sessions, two, [bug_through_qa(1), bug_through_qa(2, tester="jira:partner-2", deployer="jira:client-1"),
                           bug_through_qa(3, tester="jira:partner-2", deployer="jira:partner-2")])
    keys = lambda url: re.findall(r">(SHOP-\d+)</a>", client.get(url).get_data(as_text=True))  # noqa: E731
    assert keys("/tickets?partner=Fjord") == ["SHOP-3", "SHOP-2"]  # it tested those two
    assert keys("/tickets?partner=Nordlys") == ["SHOP-3", "SHOP-2", "SHOP-1"]  # partner-1 investigated all three
    assert keys("/tickets?partner=Fjord&side=client&role=deploy") == ["SHOP-2"]  # and the client deployed this one
    page = client.get("/tickets?partner=Nordlys").get_data(as_text=True)
    assert "<option selected>Nordlys</option>" in page and "Tickets on which Nordlys carried a role." in page
    assert client.get("/tickets?partner=Acme").status_code == 400
    assert client.get("/api/v1/tickets?partner=Nordlys").get_json()["tickets"][0]["key"] == "SHOP-3"
    assert client.get("/api/v1/attributions?partner=Nope").status_code == 400
