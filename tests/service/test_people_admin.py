"""An admin settles who people are from the people page: assign an account to an organisation (for
a span of days), merge two accounts, take an assignment back; the numbers follow at once, and match
what a full reclassification gives. Viewers may only read; bad input is refused by name."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from service.jobs.classify import classify_all
from service.store.db import transaction
from service.store.models import Assignment, Attribution
from service.store.report import responsibility_report
from tests.conftest import logged_in
from tests.service.builders import bug_through_qa, parsed, ticket, transition
from tests.service.test_store import ingest


@pytest.fixture
def admin(app, sessions):
    return logged_in(app, sessions, "boss", "admin")


def post(client, path: str, **fields: str):
    """POST a form of the people page with the page's CSRF token, as a browser would."""
    page = client.get("/people").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(path, data={"csrf_token": token, **fields})


def deploys(sessions, config) -> dict[str, int]:
    with sessions() as s:
        return responsibility_report(s, config)["roles"]["deploy"]


def attributions(sessions) -> list[tuple]:
    a = Attribution
    with sessions() as s:
        return sorted(s.execute(select(a.ticket_id, a.role, a.person_id, a.side, a.organisation, a.rule)).all())


def deployed_on(number: int, day: int, by: str):
    """A ticket deployed by `by` on February `day`, 2025."""
    return parsed(ticket(number), [transition(1, 24 * (day - 1) + 1, by, "Ready for Release", "Deployed")])


def test_assigning_an_unaffiliated_account_moves_its_acts_and_taking_it_back_restores_them(
        admin, sessions, config) -> None:
    ingest(sessions, config, [bug_through_qa(1, deployer="jira:stranger"), bug_through_qa(2)])
    before = deploys(sessions, config)
    assert before == {"partner": 0, "client": 1, "unknown": 1}
    page = admin.get("/people").get_data(as_text=True)
    assert 'class="assign"' in page and 'value="jira:stranger"' in page

    answer = post(admin, "/people/assign", account="jira:stranger", organisation="Nordlys", since="", until="")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/people")
    page = admin.get("/people").get_data(as_text=True)
    assert "Assigned jira:stranger to Nordlys; attributed 1 tickets again." in page
    assert "<td>jira:stranger</td><td>Stranger</td><td>Nordlys</td>" in page
    assert deploys(sessions, config) == {"partner": 1, "client": 1, "unknown": 0}
    assert "jira:stranger" not in admin.get("/").get_data(as_text=True)  # no longer listed as unaffiliated

    incremental = attributions(sessions)
    with transaction(sessions) as session:
        classify_all(session, config)
    assert attributions(sessions) == incremental  # what a full reclassification gives

    with sessions() as s:
        (assignment_id, by), = s.execute(select(Assignment.id, Assignment.by)).all()
    assert by == "boss"
    assert post(admin, f"/people/assignments/{assignment_id}/remove").status_code == 303
    assert deploys(sessions, config) == before
    assert "Took back assignment" in admin.get("/people").get_data(as_text=True)


def test_an_assignment_holds_for_its_days_only_and_for_tickets_that_arrive_later(admin, sessions, config) -> None:
    ingest(sessions, config, [deployed_on(1, 3, "jira:stranger"), deployed_on(2, 20, "jira:stranger")])
    post(admin, "/people/assign", account="jira:stranger", organisation="Acme", since="2025-02-10", until="2025-02-25")
    assert deploys(sessions, config) == {"partner": 0, "client": 1, "unknown": 1}
    ingest(sessions, config, [deployed_on(3, 21, "jira:stranger"), deployed_on(4, 26, "jira:stranger")])
    assert deploys(sessions, config) == {"partner": 0, "client": 2, "unknown": 2}


def test_a_newer_assignment_wins_at_the_same_start(admin, sessions, config) -> None:
    ingest(sessions, config, [deployed_on(1, 3, "jira:stranger")])
    post(admin, "/people/assign", account="jira:stranger", organisation="Acme")
    post(admin, "/people/assign", account="jira:stranger", organisation="Nordlys")
    assert deploys(sessions, config) == {"partner": 1, "client": 0, "unknown": 0}


def test_merging_two_accounts_from_the_page(admin, sessions, config) -> None:
    ingest(sessions, config, [bug_through_qa(1, deployer="jira:stranger"), bug_through_qa(2, deployer="jira:partner-1")])
    answer = post(admin, "/people/merge", account_a="jira:stranger", account_b="jira:partner-1")
    assert answer.status_code == 303
    assert "Merged jira:stranger and jira:partner-1" in admin.get("/people").get_data(as_text=True)
    assert deploys(sessions, config) == {"partner": 2, "client": 0, "unknown": 0}


def test_a_viewer_reads_but_cannot_change(client, sessions, config) -> None:
    ingest(sessions, config, [bug_through_qa(1, deployer="jira:stranger")])
    page = client.get("/people").get_data(as_text=True)
    assert 'class="assign"' not in page and "Merge" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for path in ("/people/assign", "/people/merge", "/people/assignments/1/remove"):
        answer = client.post(path, data={"csrf_token": token, "account": "jira:stranger", "organisation": "Nordlys"})
        assert answer.status_code == 403, path
    with sessions() as s:
        assert s.scalar(select(Assignment.id)) is None


def test_a_form_without_its_token_or_without_login_changes_nothing(app, admin, sessions, config) -> None:
    ingest(sessions, config, [bug_through_qa(1, deployer="jira:stranger")])
    assert admin.post("/people/assign", data={"account": "jira:stranger", "organisation": "Nordlys"}).status_code == 400
    assert app.test_client().post("/people/assign", data={"account": "jira:stranger"}).status_code == 400  # no token
    with sessions() as s:
        assert s.scalar(select(Assignment.id)) is None


@pytest.mark.parametrize("fields, said", [
    ({"account": "jira:nobody", "organisation": "Nordlys"}, "no account 'jira:nobody' has been seen"),
    ({"account": "jira:stranger", "organisation": "Initech"}, "there is no organisation 'Initech'"),
    ({"account": "jira:stranger", "organisation": "Nordlys", "since": "2025-03-01", "until": "2025-02-01"},
     "'until' (2025-02-01) is before 'since' (2025-03-01)"),
    ({"account": "jira:str\x00anger", "organisation": "Nordlys"}, "has been seen"),
    ({"account": "x" * 10_000, "organisation": "Nordlys"}, "has been seen"),
    ({"account": "jira:stranger", "organisation": "N\x00" * 5000}, "there is no organisation"),
])
def test_a_refused_assignment_is_said_by_name_and_stores_nothing(admin, sessions, config, fields, said) -> None:
    ingest(sessions, config, [bug_through_qa(1, deployer="jira:stranger")])
    answer = post(admin, "/people/assign", **fields)
    assert answer.status_code == 303
    page = admin.get("/people").get_data(as_text=True)
    assert said in page.replace("&#39;", "'")
    with sessions() as s:
        assert s.scalar(select(Assignment.id)) is None


@pytest.mark.parametrize("path, fields", [
    ("/people/assign", {"organisation": "Nordlys"}),
    ("/people/assign", {"account": "jira:stranger", "organisation": "Nordlys", "since": "9999-99-99"}),
    ("/people/assign", {"account": "jira:stranger", "organisation": "Nordlys", "until": "yesterday"}),
    ("/people/merge", {"account_a": "jira:stranger"}),
])
def test_a_malformed_form_is_a_400(admin, sessions, config, path, fields) -> None:
    ingest(sessions, config, [bug_through_qa(1, deployer="jira:stranger")])
    assert post(admin, path, **fields).status_code == 400


def test_bad_merges_and_take_backs_are_said_not_raised(admin, sessions, config) -> None:
    ingest(sessions, config, [bug_through_qa(1, deployer="jira:stranger")])
    post(admin, "/people/merge", account_a="jira:stranger", account_b="jira:stranger")
    assert "cannot merge jira:stranger with itself" in admin.get("/people").get_data(as_text=True)
    post(admin, "/people/assignments/999/remove")
    assert "there is no assignment 999" in admin.get("/people").get_data(as_text=True)
    assert post(admin, "/people/assignments/99999999999/remove").status_code == 404


def test_the_commands_assign_list_and_take_back(db_url, tmp_path, sessions, config, capsys) -> None:
    from service.cli import main

    ingest(sessions, config, [deployed_on(1, 3, "jira:stranger")])
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "{db_url}"\n\n[[organisations]]\nname = "Nordlys"\nside = "partner"\n',
                   encoding="utf-8")
    main(["--config", str(cfg), "people", "assign", "jira:stranger", "Nordlys", "--since", "2025-02-01"])
    assert "assigned jira:stranger to Nordlys; attributed 1 tickets again" in capsys.readouterr().out
    assert deploys(sessions, config) == {"partner": 1, "client": 0, "unknown": 0}
    main(["--config", str(cfg), "people", "assignments"])
    listed = capsys.readouterr().out
    assert re.search(r"^\s+1  jira:stranger  Nordlys  2025-02-01 to …  by command line at ", listed, re.M), listed
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(cfg), "people", "assign", "jira:stranger", "Acme"])
    assert exit_.value.code == 2
    assert "there is no organisation 'Acme'; the configured ones are Nordlys." in capsys.readouterr().err
    main(["--config", str(cfg), "people", "unassign", "1"])
    assert "took back assignment 1 of jira:stranger; attributed 1 tickets again" in capsys.readouterr().out
    assert deploys(sessions, config) == {"partner": 0, "client": 0, "unknown": 1}
