"""Every generated issue has Jira Cloud's shapes, and its changelog tells a consistent story."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest

from analytics.phases import PhaseMap
from connectors.jira_parse import parse_issue
from simulator.scenario import generate

JIRA_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
ACCOUNT_ID = re.compile(r"^(?:(?:712020|557058):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{24})$")
WORKFLOW = {"Backlog", "Triage", "Refinement", "In Progress", "In Review", "In QA", "UAT", "Ready for Release",
            "Deployed", "Done", "Won't Do"}
CATEGORY = {"Backlog": "new", "Triage": "new", "Refinement": "new", "Deployed": "done", "Done": "done", "Won't Do": "done"}
ITEM_KEYS = {"field", "fieldtype", "fieldId", "from", "fromString", "to", "toString"}
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
END = datetime(2026, 7, 1, tzinfo=timezone.utc)


def when(value: str) -> datetime:
    assert JIRA_TIME.match(value), value
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def check_user(user: Any) -> None:
    assert isinstance(user, dict)
    assert ACCOUNT_ID.match(user["accountId"]), user
    assert user["accountType"] in ("atlassian", "app")
    assert isinstance(user["displayName"], str) and user["displayName"]
    assert isinstance(user["active"], bool)
    assert user["self"].endswith(f"/rest/api/3/user?accountId={user['accountId']}")


def check_adf(doc: Any) -> None:
    assert doc["type"] == "doc" and doc["version"] == 1 and doc["content"]
    for block in doc["content"]:
        assert block["type"] in ("paragraph", "bulletList")


def test_every_issue_has_the_search_jql_shape(issues: list[dict[str, Any]]) -> None:
    for issue in issues:
        assert issue["id"].isdigit()
        assert re.fullmatch(r"(SHOP|PAY)-\d+", issue["key"])
        assert issue["self"] == f"https://acme.atlassian.net/rest/api/3/issue/{issue['id']}"
        fields = issue["fields"]
        assert set(fields) >= {"summary", "issuetype", "status", "project", "reporter", "creator", "assignee",
                               "created", "updated", "resolutiondate", "labels", "priority", "comment", "description"}
        assert fields["summary"]
        assert fields["issuetype"]["name"] in ("Bug", "Story", "Task", "Improvement", "Incident")
        assert fields["issuetype"]["id"].isdigit()
        status = fields["status"]["name"]
        assert status in WORKFLOW
        assert fields["status"]["statusCategory"]["key"] == CATEGORY.get(status, "indeterminate")
        assert fields["project"]["key"] == issue["key"].split("-")[0] and fields["project"]["name"]
        assert fields["priority"]["name"] in ("Highest", "High", "Medium", "Low", "Lowest")
        assert all(isinstance(label, str) and " " not in label for label in fields["labels"])
        for role in ("reporter", "creator", "assignee"):
            if fields[role] is not None:
                check_user(fields[role])
        created, updated = when(fields["created"]), when(fields["updated"])
        assert START <= created <= updated < END
        if fields["resolutiondate"] is not None:
            assert created <= when(fields["resolutiondate"]) <= updated
        check_adf(fields["description"])


def test_changelogs_are_complete_chronological_and_well_formed(issues: list[dict[str, Any]]) -> None:
    seen_ids: set[str] = set()
    for issue in issues:
        changelog = issue["changelog"]
        histories = changelog["histories"]
        assert changelog["startAt"] == 0 and changelog["total"] == changelog["maxResults"] == len(histories)
        created, updated = when(issue["fields"]["created"]), when(issue["fields"]["updated"])
        previous = created
        for history in histories:
            assert history["id"] not in seen_ids
            seen_ids.add(history["id"])
            at = when(history["created"])
            assert previous <= at <= updated
            previous = at
            if "author" in history:
                check_user(history["author"])
            assert history["items"]
            for item in history["items"]:
                assert set(item) == ITEM_KEYS


def test_comments_are_complete_with_adf_bodies(issues: list[dict[str, Any]]) -> None:
    ids: set[str] = set()
    for issue in issues:
        page = issue["fields"]["comment"]
        comments = page["comments"]
        assert page["startAt"] == 0 and page["total"] == page["maxResults"] == len(comments)
        for comment in comments:
            assert comment["id"] not in ids
            ids.add(comment["id"])
            check_adf(comment["body"])
            assert when(issue["fields"]["created"]) <= when(comment["created"]) <= when(comment["updated"])
            assert when(comment["updated"]) <= when(issue["fields"]["updated"])
            if "author" in comment:
                check_user(comment["author"])


@pytest.mark.parametrize(
    "field, final",
    [
        pytest.param("status", lambda fields: fields["status"]["name"], id="status"),
        pytest.param("assignee", lambda fields: fields["assignee"] and fields["assignee"]["displayName"], id="assignee"),
        pytest.param("priority", lambda fields: fields["priority"]["name"], id="priority"),
        pytest.param("summary", lambda fields: fields["summary"], id="summary"),
        pytest.param("labels", lambda fields: " ".join(fields["labels"]), id="labels"),
    ],
)
def test_each_change_starts_where_the_previous_ended_and_ends_at_the_current_value(issues, field, final) -> None:
    for issue in issues:
        items = [i for h in issue["changelog"]["histories"] for i in h["items"] if i["field"] == field]
        for before, after in zip(items, items[1:]):
            assert after["fromString"] == before["toString"], (issue["key"], field)
        if items:
            assert (items[-1]["toString"] or None) == (final(issue["fields"]) or None), (issue["key"], field)
        if field == "status" and items:
            assert items[0]["fromString"] == "Backlog"
        elif field == "status":
            assert issue["fields"]["status"]["name"] == "Backlog"


def test_assignee_items_carry_account_ids(issues: list[dict[str, Any]]) -> None:
    items = [i for issue in issues for h in issue["changelog"]["histories"] for i in h["items"] if i["field"] == "assignee"]
    assert items
    for item in items:
        for value in (item["from"], item["to"]):
            assert value is None or ACCOUNT_ID.match(value)


def test_workflow_statuses_are_all_used_and_all_mapped_by_default(issues: list[dict[str, Any]]) -> None:
    used = {i["toString"] for issue in issues for h in issue["changelog"]["histories"] for i in h["items"]
            if i["field"] == "status"}
    assert used == WORKFLOW - {"Backlog"}  # everything is reached; nothing goes back to the backlog
    phases = PhaseMap()
    assert all(phases.phase(name) is not None for name in WORKFLOW)


def test_rank_changes_look_like_cloud(issues: list[dict[str, Any]]) -> None:
    ranks = [i for issue in issues for h in issue["changelog"]["histories"] for i in h["items"] if i["field"] == "Rank"]
    assert ranks
    assert all(i["fieldtype"] == "custom" and i["fieldId"].startswith("customfield_") for i in ranks)
    assert {i["toString"] for i in ranks} == {"Ranked higher", "Ranked lower"}


def test_every_issue_parses_into_neutral_records(issues: list[dict[str, Any]]) -> None:
    for issue in issues[:500]:
        parsed = parse_issue(issue, "demo")
        changes = sum(len(h["items"]) for h in issue["changelog"]["histories"])
        assert len(parsed.events) == 1 + changes + len(issue["fields"]["comment"]["comments"])
        assert parsed.ticket.key == issue["key"]


def test_base_url_is_used_in_every_link() -> None:
    issue = generate(5, base_url="https://example.atlassian.net/")[0]
    assert issue["self"].startswith("https://example.atlassian.net/rest/api/3/issue/")
    assert issue["fields"]["project"]["self"].startswith("https://example.atlassian.net/rest/")


def test_updated_is_the_last_recorded_change(issues: list[dict[str, Any]]) -> None:
    for issue in issues:
        fields = issue["fields"]
        times = [fields["created"]] + [h["created"] for h in issue["changelog"]["histories"]]
        times += [c["updated"] for c in fields["comment"]["comments"]]
        assert fields["updated"] == max(times), issue["key"]
