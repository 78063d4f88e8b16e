"""What a Jira sync asks besides issues: unexplained Server user keys, once each, and the field
list, once, when a changelog names a custom field that may be a localised rank."""
from __future__ import annotations

from typing import Any

import responses
from responses import matchers

from connectors.jira_context import JiraContext, JiraUsers
from tests.connectors.jira_fakes import SERVER, Waits, connector, issue, server_page
from tests.connectors.test_jira_fetch import search_params

API2 = f"{SERVER}/rest/api/2"
LISE = {"self": f"{API2}/user?username=lise", "name": "lise", "key": "JIRAUSER10555",
        "displayName": "Lise Dahl", "emailAddress": "lise@nordlys.example", "active": True}


def assigned(number: int, key: str, updated: str) -> dict[str, Any]:
    raw = issue(number, project="OPS", base=SERVER, updated=updated, histories=[{
        "id": str(number * 10), "created": "2024-02-01T09:00:00.000+0000",
        "author": {"name": "bot", "key": "bot", "displayName": "Bot"},
        "items": [{"field": "assignee", "fieldtype": "jira", "from": None, "fromString": None,
                   "to": key, "toString": "Lise Dahl"}],
    }])
    return raw


def test_an_unexplained_server_key_is_asked_once_and_names_its_user(http: responses.RequestsMock, waits: Waits) -> None:
    pages = [assigned(1, "JIRAUSER10555", "2024-03-01T10:00:00.000+0000"),
             assigned(2, "JIRAUSER10555", "2024-03-01T10:00:00.000+0000")]
    http.get(f"{API2}/search", json=server_page(pages, 0, 2), match=[matchers.query_param_matcher(search_params(startAt="0"))])
    http.get(f"{API2}/user", json=LISE, match=[matchers.query_param_matcher({"key": "JIRAUSER10555"})])
    context = JiraContext()

    tickets = [t for page in connector(waits, "server", context=context).pages(None) for t in page.tickets]

    assert [e.to_value for t in tickets for e in t.events if e.kind == "assign"] == ["jira:lise", "jira:lise"]
    assert [c.request.url.split("?")[0] for c in http.calls].count(f"{API2}/user") == 1
    assert context.users.take_new()[("key", "JIRAUSER10555")] == "lise"


def test_a_deleted_users_key_is_kept_and_not_asked_again(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(f"{API2}/search", json=server_page([assigned(1, "JIRAUSER666", "2024-03-01T10:00:00.000+0000")], 0, 1),
             match=[matchers.query_param_matcher(search_params(startAt="0"))])
    http.get(f"{API2}/user", status=404, json={"errorMessages": ["The user with key 'JIRAUSER666' does not exist"]})
    context = JiraContext(JiraUsers())

    [page] = list(connector(waits, "server", context=context).pages(None))

    # A stand-in of its own: the key is no user name, and may equal someone else's name.
    assert [e.to_value for e in page.tickets[0].events if e.kind == "assign"] == ["jira:key:JIRAUSER666"]
    assert context.users.knows("JIRAUSER666") and context.users.take_new()[("key", "JIRAUSER666")] == "key:JIRAUSER666"


def test_keys_the_database_knows_are_not_asked(http: responses.RequestsMock, waits: Waits) -> None:
    http.get(f"{API2}/search", json=server_page([assigned(1, "JIRAUSER10555", "2024-03-01T10:00:00.000+0000")], 0, 1),
             match=[matchers.query_param_matcher(search_params(startAt="0"))])
    context = JiraContext(JiraUsers([("key", "JIRAUSER10555", "lise")]))

    [page] = list(connector(waits, "server", context=context).pages(None))

    assert [e.to_value for e in page.tickets[0].events if e.kind == "assign"] == ["jira:lise"]
    assert len(http.calls) == 1


def test_a_localised_rank_field_makes_the_sync_read_the_field_list_once(http: responses.RequestsMock, waits: Waits) -> None:
    def ranked(number: int) -> dict[str, Any]:
        return issue(number, project="OPS", base=SERVER, updated=f"2024-03-0{number}T10:00:00.000+0000", histories=[{
            "id": str(number), "created": "2024-02-01T09:00:00.000+0000", "author": {"name": "bot", "key": "bot"},
            "items": [{"field": "Rang", "fieldtype": "custom", "from": "", "fromString": "", "to": "",
                       "toString": "Höher eingestuft"}]}])
    http.get(f"{API2}/search", json=server_page([ranked(1), ranked(2)], 0, 2),
             match=[matchers.query_param_matcher(search_params(startAt="0"))])
    http.get(f"{API2}/field", json=[
        {"id": "customfield_10019", "name": "Rang", "custom": True,
         "schema": {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-lexo-rank", "customId": 10019}}])

    [page] = list(connector(waits, "server").pages(None))

    assert [e.field for t in page.tickets for e in t.events if e.kind == "field"] == ["Rank", "Rank"]
    assert [c.request.url.split("?")[0] for c in http.calls].count(f"{API2}/field") == 1
