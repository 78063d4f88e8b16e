"""parse_issue and issues_in_document over Cloud (v3), Server (v2) and odd real-world shapes."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from connectors.errors import SkippableError
from connectors.jira_parse import issues_in_document, parse_datetime, parse_issue
from connectors.records import Account
from tests.connectors.jira_fakes import load

UTC = timezone.utc


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def event_rows(parsed) -> list[tuple]:
    return [(e.external_id, e.kind, e.actor, e.field, e.from_value, e.to_value) for e in parsed.events]


# -- Cloud --------------------------------------------------------------------------------------

def test_cloud_ticket_fields_are_normalised() -> None:
    calls = []

    def kind_of(type_name: str, labels: tuple[str, ...]) -> str:
        calls.append((type_name, labels))
        return "bug"

    ticket = parse_issue(load("cloud_issue.json"), "acme-jira", kind_of=kind_of, base_url="https://acme.example/jira/").ticket

    assert calls == [("Bug", ("customer", "escaped"))]
    assert (ticket.source, ticket.external_id, ticket.key, ticket.project) == ("acme-jira", "10101", "ACME-101", "ACME")
    assert (ticket.type_name, ticket.kind, ticket.status, ticket.priority) == ("Bug", "bug", "In QA", "High")
    assert ticket.title == "Checkout total ignores the partner discount"
    assert ticket.created == utc(2024, 3, 4, 10, 15, 30)
    assert ticket.updated == utc(2024, 3, 6, 9, 0)  # written as 10:00+0100
    assert ticket.updated.tzinfo is UTC
    assert ticket.resolved is None
    assert ticket.url == "https://acme.example/jira/browse/ACME-101"
    assert ticket.reporter == "jira:712020:client-ana"
    assert ticket.assignee == "jira:5d7a0c21partnerdev"
    assert ticket.labels == ("customer", "escaped")


def test_cloud_url_comes_from_self_without_base_url() -> None:
    assert parse_issue(load("cloud_issue.json"), "s").ticket.url == "https://acme.atlassian.net/browse/ACME-101"


def test_cloud_accounts_use_account_ids_and_keep_hidden_emails_empty() -> None:
    accounts = parse_issue(load("cloud_issue.json"), "s").accounts

    assert sorted(accounts, key=lambda a: a.external_id) == [
        Account("jira", "5d7a0c21partnerdev", "Per Partner", "per@nordlys.example"),
        Account("jira", "5f00formerdev", "Dana Former", None),  # named only by assignee history
        Account("jira", "712020:client-ana", "Ana Client", None),  # Cloud hid the email
    ]


def test_cloud_events_cover_history_items_and_adf_comments() -> None:
    parsed = parse_issue(load("cloud_issue.json"), "s")

    ana, per = "jira:712020:client-ana", "jira:5d7a0c21partnerdev"
    assert event_rows(parsed) == [
        ("created", "created", ana, None, None, None),
        ("h20001.0", "transition", ana, None, "Open", "In Progress"),
        ("h20002.0", "assign", ana, None, None, "jira:5f00formerdev"),
        ("h20002.1", "label", ana, None, "customer", "customer escaped"),
        ("c30001", "comment", per, None, None, None),
        ("h20003.0", "field", per, "Rank", None, "Ranked higher"),
        ("h20003.1", "field", per, "priority", "Medium", "High"),
        ("c30002", "comment", ana, None, None, None),
        ("h20004.0", "transition", None, None, "In Progress", "In QA"),  # automation: no author
        ("h20004.1", "assign", None, None, "jira:5f00formerdev", per),
    ]
    assert [e.at for e in parsed.events] == sorted(e.at for e in parsed.events)
    assert parsed.events[4].at == utc(2024, 3, 5, 7, 30)


def test_reparsing_gives_identical_records() -> None:
    raw = load("cloud_issue.json")
    first, second = parse_issue(raw, "s"), parse_issue(copy.deepcopy(raw), "s")

    assert first == second
    assert len({e.external_id for e in first.events}) == len(first.events)


def test_history_without_id_gets_a_stable_id_from_its_content() -> None:
    raw = load("cloud_issue.json")
    del raw["changelog"]["histories"][0]["id"]
    other = copy.deepcopy(raw)
    other["changelog"]["histories"][0]["items"][0]["toString"] = "Blocked"

    ids = [e.external_id for e in parse_issue(raw, "s").events if e.kind == "transition"]
    again = [e.external_id for e in parse_issue(copy.deepcopy(raw), "s").events if e.kind == "transition"]
    changed = [e.external_id for e in parse_issue(other, "s").events if e.kind == "transition"]

    assert ids == again
    assert ids[0].startswith("h~") and ids[0].endswith(".0") and ids[1] == "h20004.0"
    assert changed[0] != ids[0]


def test_comments_as_a_bare_list_are_read() -> None:
    raw = load("cloud_issue.json")
    raw["fields"]["comment"] = raw["fields"]["comment"]["comments"]  # the shape of Atlassian's OpenAPI example

    assert [e.external_id for e in parse_issue(raw, "s").events if e.kind == "comment"] == ["c30001", "c30002"]


# -- Server / Data Center -----------------------------------------------------------------------

def test_server_accounts_use_user_names_then_keys() -> None:
    accounts = {a.external_id: a for a in parse_issue(load("server_issue.json"), "ops").accounts}

    assert accounts == {
        "svc-monitor": Account("jira", "svc-monitor", "Monitoring Bot", "monitor@acme.example"),
        "k.olsen": Account("jira", "k.olsen", "Kari Olsen", "k.olsen@nordlys.example"),
        "m.berg": Account("jira", "m.berg", "Mia Berg", "m.berg@acme.example"),
        "JIRAUSER10199": Account("jira", "JIRAUSER10199", "Old Contractor", None),
        "t.hansen": Account("jira", "t.hansen", "Tor Hansen", None),
    }


def test_server_null_reporter_and_deleted_comment_author() -> None:
    parsed = parse_issue(load("server_issue.json"), "ops")

    assert parsed.ticket.reporter is None
    assert parsed.ticket.resolved == utc(2024, 2, 2, 16, 45, 10)
    created = parsed.events[0]
    assert (created.kind, created.actor) == ("created", "jira:svc-monitor")  # falls back to the creator
    deleted = next(e for e in parsed.events if e.external_id == "c40002")
    assert deleted.actor is None


def test_server_events_name_accounts_by_user_name() -> None:
    rows = event_rows(parse_issue(load("server_issue.json"), "ops"))

    old = "jira:JIRAUSER10199"
    assert rows == [
        ("created", "created", "jira:svc-monitor", None, None, None),
        ("h50001.0", "assign", "jira:m.berg", None, None, "jira:k.olsen"),
        ("c40001", "comment", "jira:k.olsen", None, None, None),
        ("h50002.0", "transition", "jira:k.olsen", None, "Open", "Investigating"),
        ("c40002", "comment", None, None, None, None),
        ("h50003.0", "transition", old, None, "Investigating", "Resolved"),
        ("h50003.1", "field", old, "resolution", None, "Fixed"),
        ("h50003.2", "assign", old, None, "jira:k.olsen", "jira:t.hansen"),
        ("h50003.3", "assign", old, None, "jira:t.hansen", "jira:k.olsen"),
    ]


def test_null_reporter_and_creator_leave_the_created_event_anonymous() -> None:
    raw = load("server_issue.json")
    raw["fields"]["creator"] = None

    assert parse_issue(raw, "ops").events[0].actor is None


# -- Non-English names and epoch times ----------------------------------------------------------

def test_non_english_names_pass_through_and_epoch_times_are_read() -> None:
    parsed = parse_issue(load("non_english_issue.json"), "cn")

    assert (parsed.ticket.type_name, parsed.ticket.status, parsed.ticket.priority) == ("故事", "已完成", "中")
    assert parsed.ticket.created == utc(2020, 6, 12, 0, 13, 13)  # epoch seconds
    assert parsed.ticket.updated == datetime(2021, 3, 28, 8, 6, 8, 713000, tzinfo=UTC)  # epoch milliseconds
    assert event_rows(parsed)[1:] == [
        ("h86412.0", "transition", "jira:5e9711ba34f7b90c0fbc37d3", None, "进行中", "已完成"),
        ("h86412.1", "field", "jira:5e9711ba34f7b90c0fbc37d3", "Workflow", "旧流程", "新流程"),
    ]


@pytest.mark.parametrize("value, expected", [
    pytest.param("2024-03-04T10:15:30.000+0000", utc(2024, 3, 4, 10, 15, 30), id="offset-without-colon"),
    pytest.param("2024-03-04T10:15:30.000+01:00", utc(2024, 3, 4, 9, 15, 30), id="offset-with-colon"),
    pytest.param("2020-06-12T08:13:13.360+0800", datetime(2020, 6, 12, 0, 13, 13, 360000, tzinfo=UTC), id="east-of-utc"),
    pytest.param("2024-03-04T10:15:30Z", utc(2024, 3, 4, 10, 15, 30), id="zulu"),
    pytest.param(1492070429, utc(2017, 4, 13, 8, 0, 29), id="epoch-seconds"),
    pytest.param(1492070429000, utc(2017, 4, 13, 8, 0, 29), id="epoch-milliseconds"),
    pytest.param("1492070429", utc(2017, 4, 13, 8, 0, 29), id="epoch-seconds-as-text"),
    pytest.param(1492070429.5, datetime(2017, 4, 13, 8, 0, 29, 500000, tzinfo=UTC), id="epoch-float"),
])
def test_parse_datetime(value: object, expected: datetime) -> None:
    parsed = parse_datetime(value, "t")
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("value, message", [
    pytest.param("2024-03-04T10:15:30", "no time zone", id="naive"),
    pytest.param("yesterday", "not an ISO 8601 time", id="words"),
    pytest.param(None, "not a time", id="null"),
    pytest.param(True, "not a time", id="boolean"),
    pytest.param({"iso": "2024"}, "not a time", id="object"),
    pytest.param(10**20, "out of range", id="huge-epoch"),
])
def test_parse_datetime_refuses(value: object, message: str) -> None:
    with pytest.raises(SkippableError, match=message):
        parse_datetime(value, "t")


# -- Malformed issues ---------------------------------------------------------------------------

def _broken(change) -> dict:
    raw = load("cloud_issue.json")
    change(raw)
    return raw


@pytest.mark.parametrize("raw, message", [
    pytest.param([], "JSON array, not an issue", id="array"),
    pytest.param("ACME-1", "JSON string, not an issue", id="string"),
    pytest.param({"key": "A-1", "fields": {}}, "has no id", id="no-id"),
    pytest.param({"id": "1", "fields": {}}, "has no key", id="no-key"),
    pytest.param({"id": "1", "key": "A-1"}, "has no fields", id="no-fields"),
    pytest.param({"id": "1", "key": "A-1", "fields": []}, "'fields' that is not an object", id="fields-array"),
    pytest.param(_broken(lambda r: r["fields"].update(created="4 March")), "created '4 March'", id="bad-created"),
    pytest.param(_broken(lambda r: r["fields"].pop("updated")), "updated is None", id="no-updated"),
    pytest.param(_broken(lambda r: r["fields"].update(resolutiondate="soon")), "resolutiondate", id="bad-resolved"),
    pytest.param(_broken(lambda r: r["changelog"]["histories"].insert(0, "oops")), "changelog entry #1 is a JSON string", id="history-string"),
    pytest.param(_broken(lambda r: r["changelog"]["histories"][1].update(created="x")), "changelog entry 20002", id="history-bad-time"),
    pytest.param(_broken(lambda r: r["fields"]["comment"]["comments"][1].update(created=None)), "comment 30002", id="comment-no-time"),
])
def test_malformed_issues_are_skippable_with_a_reason(raw: object, message: str) -> None:
    with pytest.raises(SkippableError, match=message):
        parse_issue(raw, "s")


def test_odd_user_objects_do_not_crash() -> None:
    raw = load("cloud_issue.json")
    raw["fields"]["reporter"] = {"displayName": "Anonymous"}  # no id at all
    raw["fields"]["assignee"] = "not-an-object"
    raw["changelog"]["histories"][0]["author"] = None

    parsed = parse_issue(raw, "s")

    assert (parsed.ticket.reporter, parsed.ticket.assignee) == (None, None)
    assert parsed.events[0].actor == "jira:712020:client-ana"  # creator
    assert parsed.events[1].actor is None


def test_default_kind_is_other() -> None:
    assert parse_issue(load("server_issue.json"), "ops").ticket.kind == "other"


# -- issues_in_document -------------------------------------------------------------------------

@pytest.mark.parametrize("name, keys", [
    pytest.param("cloud_search_jql.json", ["ACME-201", "ACME-202"], id="v3-search-jql"),
    pytest.param("server_search.json", ["OPS-8"], id="v2-search"),
    pytest.param("cloud_issue.json", ["ACME-101"], id="single-issue"),
])
def test_issues_in_document(name: str, keys: list[str]) -> None:
    issues = issues_in_document(load(name))

    assert [issue["key"] for issue in issues] == keys
    assert all(parse_issue(issue, "s").ticket.key in keys for issue in issues)


def test_empty_search_response_has_no_issues() -> None:
    assert issues_in_document({"startAt": 0, "maxResults": 50, "total": 0, "issues": []}) == []


@pytest.mark.parametrize("doc, message", [
    pytest.param([load("cloud_issue.json")], "JSON array; expected a Jira search response", id="array"),
    pytest.param("ACME-1", "JSON string", id="string"),
    pytest.param(None, "JSON null", id="null"),
    pytest.param({"issues": {"ACME-1": {}}}, "'issues' that is a JSON object, not an array", id="issues-object"),
    pytest.param({"issues": [load("cloud_issue.json"), 7]}, r"issues\[1\] that is a JSON number", id="issue-number"),
    pytest.param({"errorMessages": ["The value 'X' does not exist for the field 'project'."], "errors": {}},
                 "Jira error response \\(The value 'X' does not exist", id="error-response"),
    pytest.param({"values": [], "isLast": True}, "object with isLast, values; expected", id="other-page"),
    pytest.param({}, "object with no keys", id="empty-object"),
])
def test_wrong_documents_are_refused_with_a_reason(doc: object, message: str) -> None:
    with pytest.raises(SkippableError, match=message):
        issues_in_document(doc)


def test_server_assignee_changes_by_user_key_name_the_same_account() -> None:
    # Jira Server/DC 8.3+ gives new users a key (JIRAUSER10101) apart from their name, and the
    # changelog's assignee values hold the key.
    olsen = {"key": "JIRAUSER10101", "name": "k.olsen", "displayName": "Kari Olsen", "emailAddress": "k.olsen@nordlys.example"}
    raw = {
        "id": "20001", "key": "OPS-7", "self": "https://jira.acme.example/rest/api/2/issue/20001",
        "fields": {
            "summary": "Queue stalls", "issuetype": {"name": "Bug"}, "status": {"name": "In Progress"},
            "project": {"key": "OPS"}, "reporter": olsen, "creator": olsen, "assignee": olsen,
            "created": "2024-02-01T09:00:00.000+0000", "updated": "2024-02-02T09:00:00.000+0000",
        },
        "changelog": {"startAt": 0, "maxResults": 1, "total": 1, "histories": [{
            "id": "300", "author": olsen, "created": "2024-02-01T10:00:00.000+0000",
            "items": [{"field": "assignee", "fieldtype": "jira", "from": None, "fromString": None,
                       "to": "JIRAUSER10101", "toString": "Kari Olsen"}],
        }]},
    }
    parsed = parse_issue(raw, "ops-jira")
    (assign,) = [e for e in parsed.events if e.kind == "assign"]
    assert assign.to_value == "jira:k.olsen" == parsed.ticket.assignee
    assert [a.external_id for a in parsed.accounts] == ["k.olsen"]  # no phantom JIRAUSER10101
