"""The Jira parser on the shapes real sites send: user ids across issues, cut-short histories,
localised rank fields, and wrong types refused by name rather than stored as garbage."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from connectors.errors import SkippableError
from connectors.jira_context import JiraContext, JiraUsers
from connectors.jira_parse import parse_issue

SERVER = "https://jira.example.de"
CLOUD = "https://legacy.atlassian.net"


def server_user(name: str, key: str, display: str) -> dict[str, Any]:
    """A Jira Server 8 user object (`/rest/api/2`): name, key, no accountId."""
    return {"self": f"{SERVER}/rest/api/2/user?username={name}", "name": name, "key": key,
            "emailAddress": f"{name}@example.de", "displayName": display, "active": True, "timeZone": "Europe/Berlin"}


def transition_user(name: str, account_id: str, display: str) -> dict[str, Any]:
    """A Jira Cloud user object of 2015–2018: accountId beside the legacy name and key."""
    return {"self": f"{CLOUD}/rest/api/2/user?username={name}", "name": name, "key": name,
            "accountId": account_id, "emailAddress": f"{name}@example.com", "displayName": display,
            "active": True, "timeZone": "Europe/Oslo"}


def server_issue(issue_id: int, key: str, reporter: dict, histories: list[dict], **fields: Any) -> dict[str, Any]:
    return {
        "expand": "operations,editmeta,changelog,renderedFields", "id": str(issue_id),
        "self": f"{SERVER}/rest/api/2/issue/{issue_id}", "key": key,
        "fields": {
            "summary": "Kasse rechnet falsch", "issuetype": {"name": "Fehler"}, "status": {"name": "Erledigt"},
            "project": {"key": key.split("-")[0]}, "reporter": reporter, "creator": reporter, "assignee": None,
            "created": "2023-05-02T09:14:00.000+0200", "updated": "2023-05-09T16:40:12.000+0200",
            "resolutiondate": None, "labels": [], "priority": {"name": "Hoch"},
            "comment": {"comments": [], "maxResults": 0, "total": 0, "startAt": 0}, **fields,
        },
        "changelog": {"startAt": 0, "maxResults": len(histories), "total": len(histories), "histories": histories},
    }


def assignee_change(history_id: int, author: dict, frm: str | None, to: str | None, to_name: str) -> dict[str, Any]:
    return {"id": str(history_id), "author": author, "created": "2023-05-03T10:00:00.000+0200",
            "items": [{"field": "assignee", "fieldtype": "jira", "from": frm, "fromString": None,
                       "to": to, "toString": to_name}]}


KARI = server_user("k.olsen", "JIRAUSER10101", "Kari Olsen")
ANNA = server_user("a.berg", "JIRAUSER10100", "Anna Berg")


def test_a_server_user_key_is_resolved_with_a_user_seen_in_another_issue() -> None:
    # Issue 1 only assigns Kari by key; Kari appears as a user object only in issue 2.
    first = server_issue(20001, "KASSE-1", ANNA, [assignee_change(31, ANNA, None, "JIRAUSER10101", "Kari Olsen")])
    second = server_issue(20002, "KASSE-2", KARI, [])
    context = JiraContext()

    before = parse_issue(first, "de", context=context)
    parse_issue(second, "de", context=context)
    again = parse_issue(first, "de", context=context)

    assign = [e for e in before.events if e.kind == "assign"]
    assert assign[0].to_value == "jira:key:JIRAUSER10101"  # not learnt yet: a stand-in, for the service to fold
    assert [e.to_value for e in again.events if e.kind == "assign"] == ["jira:k.olsen"]
    assert context.users.new[("key", "JIRAUSER10101")] == "k.olsen"
    assert "jira:JIRAUSER10101" not in {a.ref for a in again.accounts}


def test_cloud_legacy_names_in_changelogs_name_the_account_id() -> None:
    ola = transition_user("ola", "557058:0f1c2d3e-aaaa-bbbb-cccc-000000000001", "Ola Nordmann")
    per = transition_user("per", "557058:0f1c2d3e-aaaa-bbbb-cccc-000000000002", "Per Hansen")
    raw = server_issue(10100, "LEG-7", ola, [assignee_change(40, ola, None, "per", "Per Hansen")],
                       assignee=per)
    raw["self"] = f"{CLOUD}/rest/api/2/issue/10100"

    parsed = parse_issue(raw, "legacy")

    assert [e.to_value for e in parsed.events if e.kind == "assign"] == [f"jira:{per['accountId']}"]
    assert sorted(a.external_id for a in parsed.accounts) == sorted([ola["accountId"], per["accountId"]])
    assert parsed.ticket.reporter == f"jira:{ola['accountId']}"


def test_two_accounts_claiming_one_legacy_name_leave_it_unresolved() -> None:
    users = JiraUsers()
    users.learn(transition_user("sam", "557058:aaa", "Sam One"))
    users.learn(transition_user("sam", "557058:bbb", "Sam Two"))

    assert users.resolve("sam") == "sam"
    assert users.take_conflicts() == {"sam"} and ("name", "sam") not in users.new
    assert JiraUsers([("conflict", "sam", "")], cloud=True).resolve("sam") == "sam"  # stays so in later runs


def test_ids_stored_before_are_used_and_not_learnt_again() -> None:
    users = JiraUsers([("key", "JIRAUSER10101", "k.olsen"), ("self", "k.olsen", "k.olsen")], cloud=False)
    users.learn(KARI)

    assert users.resolve("JIRAUSER10101") == "k.olsen"
    assert users.take_new() == {}
    assert users.knows("JIRAUSER10101") and not users.knows("JIRAUSER99999")


def test_a_renamed_users_key_keeps_naming_them_not_the_new_holder_of_their_old_name() -> None:
    # Server: A renamed jsmith -> john.smith keeps the key jsmith; B is given the name jsmith later.
    users = JiraUsers()
    users.learn({"name": "john.smith", "key": "jsmith", "displayName": "John Smith"})
    users.learn({"name": "jsmith", "key": "JIRAUSER10200", "displayName": "Jane Smith"})

    assert users.resolve("jsmith") == "john.smith"  # an assignee value is a key: A
    assert users.resolve("JIRAUSER10200") == "jsmith"  # B
    assert users.resolve("JIRAUSER77777") == "key:JIRAUSER77777"  # unexplained: a stand-in, never a name


def test_a_blanked_account_id_is_read_from_the_users_self_link() -> None:
    author = {"self": f"{CLOUD}/rest/api/3/user?accountId=5fb48fe20d2f61006f0d0106", "accountId": "",
              "emailAddress": "", "displayName": "Runjuu", "active": False}
    raw = server_issue(10101, "LEG-8", author, [])

    assert parse_issue(raw, "legacy").ticket.reporter == "jira:5fb48fe20d2f61006f0d0106"


# -- the rank field, whatever the site calls it ---------------------------------------------------

def rank_change(name: str, field_id: str | None = None) -> dict[str, Any]:
    item = {"field": name, "fieldtype": "custom", "from": "", "fromString": "", "to": "", "toString": "Höher eingestuft"}
    if field_id:
        item["fieldId"] = field_id
    return {"id": "77", "author": ANNA, "created": "2023-05-04T10:00:00.000+0200", "items": [item]}


def test_a_localised_rank_field_is_recognised_by_its_schema() -> None:
    context = JiraContext()
    context.learn_fields([
        {"id": "customfield_10019", "name": "Rang", "custom": True,
         "schema": {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-lexo-rank", "customId": 10019}},
        {"id": "customfield_10020", "name": "Sprint", "custom": True,
         "schema": {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint"}},
    ])
    raw = server_issue(20003, "KASSE-3", ANNA, [rank_change("Rang")])

    fields = [e.field for e in parse_issue(raw, "de", context=context).events if e.kind == "field"]
    unknown = [e.field for e in parse_issue(raw, "de").events if e.kind == "field"]

    assert fields == ["Rank"]
    assert unknown == ["Rang"]  # without the schema nothing says "Rang" is the rank


def test_the_rank_field_is_recognised_from_a_searchs_names_and_schema() -> None:
    context = JiraContext()
    context.learn_schema({"customfield_10019": "Ранг"},
                         {"customfield_10019": {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-lexo-rank"}})
    raw = server_issue(20004, "KASSE-4", ANNA, [rank_change("Ранг", "customfield_10019")])

    assert [e.field for e in parse_issue(raw, "ru", context=context).events if e.kind == "field"] == ["Rank"]


# -- cut-short histories --------------------------------------------------------------------------

def test_a_complete_issue_says_nothing_is_missing() -> None:
    assert parse_issue(server_issue(20005, "KASSE-5", ANNA, []), "de").incomplete == ()


@pytest.mark.parametrize(("change", "missing"), [
    pytest.param(lambda raw: raw["changelog"].update(total=140), ("changelog 0 of 140 entries",), id="changelog-total"),
    pytest.param(lambda raw: raw["fields"]["comment"].update(total=12), ("comments 0 of 12",), id="comment-total"),
    pytest.param(lambda raw: raw.pop("changelog"), ("no changelog (exported without expand=changelog)",),
                 id="no-changelog"),
    pytest.param(lambda raw: raw["fields"].pop("comment"), ("no comments (the comment field was not exported)",),
                 id="no-comment-field"),
])
def test_a_cut_short_history_is_flagged_with_what_is_missing(change, missing) -> None:
    raw = server_issue(20006, "KASSE-6", ANNA, [])
    change(raw)

    assert parse_issue(raw, "de").incomplete == missing


# -- wrong types are refused by name --------------------------------------------------------------

@pytest.mark.parametrize(("change", "message"), [
    pytest.param(lambda raw: raw["fields"].update(labels="customer"), "'labels' that is a JSON string", id="labels-string"),
    pytest.param(lambda raw: raw["fields"].update(labels=["ok", 5]), "label that is a JSON number", id="label-number"),
    pytest.param(lambda raw: raw.update(id=1.2345678901234568e+38), "not a Jira issue id", id="id-float"),
    pytest.param(lambda raw: raw.update(id="123456789012345678901234567890123456789"), "not a Jira issue id",
                 id="id-39-digits"),
    pytest.param(lambda raw: raw.update(id=True), "not a Jira issue id", id="id-boolean"),
    pytest.param(lambda raw: raw["fields"].update(updated="2023-05-01T09:00:00.000+0200"), "before it was created",
                 id="updated-before-created"),
    pytest.param(lambda raw: raw["changelog"].update(histories="notalist"), "'changelog.histories' that is a JSON string",
                 id="histories-string"),
    pytest.param(lambda raw: raw.update(changelog=[]), "'changelog' that is a JSON array", id="changelog-array"),
    pytest.param(lambda raw: raw["fields"].update(comment={"comments": "none"}), "'fields.comment' holding a JSON string",
                 id="comments-string"),
    pytest.param(lambda raw: raw["changelog"]["histories"].append({"id": "9", "created": "2023-05-03T10:00:00.000+0200",
                                                                   "items": "status"}),
                 "'items' that is a JSON string", id="items-string"),
    pytest.param(lambda raw: raw.update(key="K" * 201), "key of 201 characters", id="key-too-long"),
    pytest.param(lambda raw: raw["fields"].update(status={"name": "S" * 5000}), "status name of 5,000 characters",
                 id="status-too-long"),
])
def test_wrong_types_are_refused_by_name(change, message) -> None:
    raw = copy.deepcopy(server_issue(20007, "KASSE-7", ANNA, []))
    change(raw)

    with pytest.raises(SkippableError, match=message):
        parse_issue(raw, "de")


def test_the_site_comes_from_self_and_a_sync_uses_its_configured_url() -> None:
    raw = server_issue(20008, "KASSE-8", ANNA, [], resolution={"name": "Behoben"})

    imported = parse_issue(raw, "de").ticket
    synced = parse_issue(raw, "de", base_url="https://jira.example.de/").ticket

    assert (imported.site, imported.resolution) == (SERVER, "Behoben")
    assert synced.site == "https://jira.example.de"
