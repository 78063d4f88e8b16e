"""github_parse: GitHub REST (and GraphQL-converted) JSON -> neutral records, with no HTTP."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from connectors.errors import SkippableError
from connectors.github_graphql_shapes import (
    comments_from_graphql, deployment_from_graphql, pull_from_graphql, reviews_from_graphql, statuses_from_graphql,
    user_from_graphql,
)
from connectors.github_activity import activity_key, parse_repository_activity, status_event_id
from connectors.github_parse import EVENT_FIELDS, links_of, login_from_noreply, parse_issue, slim
from connectors.github_pulls import is_pull_request
from connectors.records import Account, Event
from tests.connectors.github_fakes import REPO, event, issue, load, pull_object, user

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def fixture_issue(number: int) -> dict[str, Any]:
    return next(item for item in load("issues.json") if item["number"] == number)


def fixture_events(number: int) -> list[dict[str, Any]]:
    return [item for item in load("issue_events.json") if item["issue"]["number"] == number]


def fixture_node(node_id: str) -> dict[str, Any]:
    return next(node for node in load("graphql_nodes.json")["data"]["nodes"] if node["id"] == node_id)


class KindOf:
    """Records what it was asked and answers from labels like the default KindMap."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    def __call__(self, type_name: str, labels: tuple[str, ...]) -> str:
        self.asked.append((type_name, labels))
        return "bug" if "bug" in labels else ("improvement" if "enhancement" in labels else "other")


# -- tickets ------------------------------------------------------------------------------------

def test_issue_with_its_comments_and_events() -> None:
    kind_of = KindOf()
    node = fixture_node("I_kwDOAcme12")
    parsed = parse_issue(fixture_issue(12), "acme-github", events=fixture_events(12),
                         comments=comments_from_graphql(node["comments"]["nodes"]), kind_of=kind_of)

    t = parsed.ticket
    assert (t.source, t.external_id, t.key, t.project) == ("acme-github", "acme/widgets#12", "acme/widgets#12", REPO)
    assert (t.type_name, t.kind, t.status) == ("Bug", "bug", "closed")  # the organisation's issue type names it
    assert kind_of.asked == [("Bug", ("bug", "area: ui"))]
    assert (t.created, t.updated, t.resolved) == (at("2024-05-02T08:00:00Z"), at("2024-05-06T15:30:00Z"), at("2024-05-06T15:30:00Z"))
    assert t.url == "https://github.com/acme/widgets/issues/12"
    assert (t.reporter, t.assignee, t.labels) == ("github:c-lind", "github:p-berg", ("bug", "area: ui"))
    assert parsed.links == ()  # only pull requests link
    assert [(e.external_id, e.kind, e.actor, e.field, e.from_value, e.to_value) for e in parsed.events] == [
        ("created", "created", "github:c-lind", None, None, None),
        ("e9001", "label", "github:c-lind", None, None, "bug"),
        ("e9002", "assign", "github:c-lind", None, None, "github:p-berg"),  # the assigner acted, not the assignee
        ("c2150001001", "comment", "github:p-berg", None, None, None),
        ("e9003", "label", "github:c-lind", None, "area: ui", None),
        ("c2150001002", "comment", "github:c-lind", None, None, None),
        ("e9007", "transition", "github:p-berg", "state_reason:completed", "open", "closed"),
    ]
    assert {a.external_id: a.display_name for a in parsed.accounts} == {"c-lind": "Cecilia Lind", "p-berg": "Per Berg"}


def test_pull_request_is_always_a_pull_request_and_merged() -> None:
    node = fixture_node("PR_kwDOAcme13")
    parsed = parse_issue(
        fixture_issue(13), "acme-github", events=fixture_events(13), kind_of=lambda t, labels: "bug",
        comments=comments_from_graphql(node["comments"]["nodes"]), reviews=reviews_from_graphql(node["reviews"]["nodes"]),
        pull=pull_from_graphql(node),
    )

    t = parsed.ticket
    assert (t.type_name, t.kind, t.status) == ("Pull request", "pull_request", "merged")
    assert (t.reporter, t.assignee, t.resolved) == ("github:p-berg", "github:p-berg", at("2024-05-06T15:29:00Z"))
    assert parsed.links == ("acme/widgets#12", "acme/api#7", "PAY-91", "PAY-88")  # branch before body
    assert [(e.external_id, e.kind, e.actor, e.to_value) for e in parsed.events if e.kind != "created"] == [
        ("c2150001003", "comment", "github:dependabot[bot]", None),  # GraphQL's "dependabot" is REST's login
        ("r1850002001", "review", "github:c-lind", "CHANGES_REQUESTED"),
        ("r1850002002", "review", "github:c-lind", "APPROVED"),  # the pending draft review is no act
        ("e9006", "transition", "github:p-berg", "closed"),  # the same second as the merge
        ("merged", "merge", "github:p-berg", "5e1f0c2a9b7d4e3f8a6c1b0d2e4f6a8c0b1d3e5f"),  # one merge, one id
    ]


def test_a_pull_request_is_known_in_either_rest_shape() -> None:
    """The issues listing marks pull requests with `pull_request`; the pulls API's objects carry none."""
    pulls_api = pull_object(21, "2024-03-02T10:00:00Z")
    without_branches = {name: value for name, value in pulls_api.items() if name not in ("head", "base")}

    assert [is_pull_request(raw) for raw in (issue(5, "2024-01-05T00:00:00Z", pull=True), pulls_api,
                                             without_branches, issue(6, "2024-01-05T00:00:00Z"))] == [
        True, True, True, False]


def test_pull_request_from_the_pulls_api_parses_as_a_pull_request() -> None:
    kind_of = KindOf()
    merged = pull_object(21, "2024-03-02T10:00:00Z", merged_at="2024-03-02T09:00:00Z", merged_by="c-lind")
    still_open = pull_object(22, "2024-03-02T10:00:00Z", state="open")

    parsed = parse_issue(merged, "acme-github", kind_of=kind_of)
    opened = parse_issue(still_open, "acme-github", kind_of=kind_of)

    t = parsed.ticket
    assert (t.key, t.project, t.type_name, t.kind, t.status) == (
        "acme/widgets#21", REPO, "Pull request", "pull_request", "merged")
    assert (t.url, t.resolved) == ("https://github.com/acme/widgets/pull/21", at("2024-03-02T09:00:00Z"))
    assert parsed.links == ("acme/widgets#3", "PAY-7")  # "Fixes #3" in the body, the Jira key in head.ref
    # GitHub gives an unmerged pull request a merge_commit_sha too: it says nothing of a merge.
    assert (opened.ticket.kind, opened.ticket.status) == ("pull_request", "open")
    assert kind_of.asked == []  # a pull request is one whatever its labels


MERGED_AT = "2024-03-02T09:00:00Z"
MERGE_SHA = "9c1f5d7e2b4a6c8e0f1a3b5d7c9e1f3a5b7d9c1e"


@pytest.mark.parametrize("events, merger, commit", [
    pytest.param([], "github:c-lind", MERGE_SHA, id="no-merged-event-read"),
    pytest.param([event(900, 21, "merged", MERGED_AT, actor="c-lind", commit_id=MERGE_SHA)], "github:c-lind", MERGE_SHA,
                 id="merged-event-read-too"),
    pytest.param([event(900, 21, "merged", MERGED_AT, actor="p-berg", commit_id=MERGE_SHA),
                  event(901, 21, "closed", MERGED_AT, actor="p-berg")], "github:p-berg", MERGE_SHA,
                 id="event-actor-differs-from-merged-by"),
])
def test_merge_reported_by_the_pull_request_is_one_act(events: list, merger: str, commit: str) -> None:
    """`merged_by` credits the merge when no `merged` event was read; with the event it is still one merge."""
    raw = pull_object(21, "2024-03-02T10:00:00Z", merged_at=MERGED_AT, merged_by="c-lind")

    parsed = parse_issue(raw, "acme-github", events=events)

    assert [(e.external_id, e.kind, e.actor, e.at, e.to_value) for e in parsed.events if e.kind == "merge"] == [
        ("merged", "merge", merger, at(MERGED_AT), commit)]


def test_issues_listing_merge_is_credited_to_the_merger_graphql_names() -> None:
    raw = issue(21, "2024-03-02T10:00:00Z", pull=True)
    raw["pull_request"]["merged_at"] = MERGED_AT
    node = {"__typename": "PullRequest", "id": "PR_node21", "headRefName": "main", "merged": True,
            "mergedAt": MERGED_AT, "mergedBy": {"__typename": "User", "login": "c-lind", "name": "Cecilia Lind"}}

    named = parse_issue(raw, "acme-github", pull=pull_from_graphql(node))
    unnamed = parse_issue(raw, "acme-github")

    assert [(e.external_id, e.actor, e.at, e.to_value) for e in named.events if e.kind == "merge"] == [
        ("merged", "github:c-lind", at(MERGED_AT), "merged")]
    assert Account("github", "c-lind", "Cecilia Lind", None) in named.accounts
    # The listing's merged_at alone names nobody: merged, but no act is made up.
    assert unnamed.ticket.status == "merged" and [e.kind for e in unnamed.events] == ["created"]


def test_deleted_author_is_no_account_and_unknown_type_is_issue() -> None:
    kind_of = KindOf()
    parsed = parse_issue(fixture_issue(14), "acme-github", events=fixture_events(14), kind_of=kind_of)

    assert (parsed.ticket.reporter, parsed.ticket.type_name, parsed.ticket.kind) == (None, "Issue", "improvement")
    assert parsed.events[0] == Event("created", "created", at("2024-05-04T10:00:00Z"), None)
    assert parsed.events[1] == Event("e9008", "field", at("2024-05-07T11:00:00Z"), "github:c-lind", field="title",
                                     from_value="CSV export", to_value="Export the report as CSV")
    assert [a.external_id for a in parsed.accounts] == ["c-lind"]


def test_open_pull_request_without_merge_is_open_and_repeated_items_count_once() -> None:
    raw = issue(5, "2024-01-05T00:00:00Z", pull=True)
    comments = [{"id": 77, "user": user("p-berg"), "created_at": "2024-01-03T00:00:00Z"}] * 2

    parsed = parse_issue(raw, "acme-github", comments=comments)

    assert parsed.ticket.status == "open"
    assert [e.external_id for e in parsed.events] == ["created", "c77"]


@pytest.mark.parametrize("raw_event, expected", [
    pytest.param(event(1, 1, "labeled", "2024-01-01T00:00:00Z", label={"name": "bug", "color": "f00"}),
                 ("label", "github:p-berg", None, None, "bug"), id="labeled"),
    pytest.param(event(1, 1, "unlabeled", "2024-01-01T00:00:00Z", label={"name": "bug"}),
                 ("label", "github:p-berg", None, "bug", None), id="unlabeled"),
    pytest.param(event(1, 1, "assigned", "2024-01-01T00:00:00Z", actor="dev", assignee=user("dev"), assigner=user("lead")),
                 ("assign", "github:lead", None, None, "github:dev"), id="assigned-by-assigner"),
    pytest.param(event(1, 1, "assigned", "2024-01-01T00:00:00Z", actor="dev", assignee=user("dev")),
                 ("assign", "github:dev", None, None, "github:dev"), id="assigned-without-assigner"),
    pytest.param(event(1, 1, "unassigned", "2024-01-01T00:00:00Z", assignee=user("dev"), assigner=user("lead")),
                 ("assign", "github:lead", None, "github:dev", None), id="unassigned"),
    pytest.param(event(1, 1, "closed", "2024-01-01T00:00:00Z", state_reason="not_planned"),
                 ("transition", "github:p-berg", "state_reason:not_planned", "open", "closed"), id="closed-not-planned"),
    pytest.param(event(1, 1, "closed", "2024-01-01T00:00:00Z", state_reason=None),
                 ("transition", "github:p-berg", "state", "open", "closed"), id="closed-without-reason"),
    pytest.param(event(1, 1, "reopened", "2024-01-01T00:00:00Z", state_reason="reopened"),
                 ("transition", "github:p-berg", "state_reason:reopened", "closed", "open"), id="reopened"),
    pytest.param(event(1, 1, "merged", "2024-01-01T00:00:00Z", commit_id="abc123"),
                 ("merge", "github:p-berg", None, "open", "abc123"), id="merged"),
    pytest.param(event(1, 1, "renamed", "2024-01-01T00:00:00Z", rename={"from": "a", "to": "b"}),
                 ("field", "github:p-berg", "title", "a", "b"), id="renamed"),
    pytest.param(event(1, 1, "closed", "2024-01-01T00:00:00Z", actor="ghost"),
                 ("transition", None, "state", "open", "closed"), id="deleted-actor"),
])
def test_issue_event_mapping(raw_event: dict[str, Any], expected: tuple) -> None:
    parsed = parse_issue(issue(1, "2024-01-02T00:00:00Z"), "acme-github", events=[raw_event])

    found = [(e.kind, e.actor, e.field, e.from_value, e.to_value) for e in parsed.events
             if e.external_id in ("e1", "merged")]  # a pull request's merge is one act: see MERGE_EVENT_ID
    assert found == [expected]
    # The slim form the connector keeps in memory parses to the same events.
    again = parse_issue(issue(1, "2024-01-02T00:00:00Z"), "acme-github", events=[slim(raw_event, EVENT_FIELDS)])
    assert again.events == parsed.events


@pytest.mark.parametrize("kind", ["subscribed", "mentioned", "referenced", "head_ref_force_pushed", "review_requested"])
def test_events_without_responsibility_are_dropped(kind: str) -> None:
    raw_event = event(1, 1, kind, "2024-01-01T00:00:00Z")

    assert [e.kind for e in parse_issue(issue(1, "2024-01-02T00:00:00Z"), "s", events=[raw_event]).events] == ["created"]


@pytest.mark.parametrize("raw, message", [
    pytest.param([], "not an issue object", id="not-an-object"),
    pytest.param({"title": "x"}, "has no number", id="no-number"),
    pytest.param({"number": 3, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"},
                 "names no repository", id="no-repository"),
    pytest.param({**issue(3, "2024-01-01T00:00:00Z"), "created_at": "yesterday"}, "created_at 'yesterday'", id="bad-time"),
    pytest.param({**issue(3, "2024-01-01T00:00:00Z"), "updated_at": "2024-01-01T00:00:00"}, "no time zone", id="naive-time"),
])
def test_unusable_issue_is_skippable(raw: Any, message: str) -> None:
    with pytest.raises(SkippableError, match=message):
        parse_issue(raw, "acme-github")


def test_slim_keeps_identity_label_name_and_issue_number() -> None:
    raw = {**fixture_events(12)[-2], "url": "https://api.github.com/repos/acme/widgets/issues/events/9001"}

    assert slim(raw, EVENT_FIELDS) == {
        "id": 9001, "event": "labeled", "created_at": "2024-05-02T08:01:00Z", "commit_id": None,
        "actor": {"login": "c-lind", "type": "User"}, "label": {"name": "bug"}, "issue": {"number": 12},
    }


def test_every_documented_review_state_old_and_new_reads_as_todays_name() -> None:
    """Older API answers and exports say REQUESTED_CHANGES; webhooks and some exports use lower case."""
    states = {1: "APPROVED", 2: "CHANGES_REQUESTED", 3: "COMMENTED", 4: "DISMISSED", 5: "REQUESTED_CHANGES",
              6: "approved", 7: "changes_requested", 8: "commented", 9: "dismissed", 10: "requested_changes",
              11: "PENDING", 12: "pending", 13: "SOMETHING_NEW", 14: None}
    reviews = [{"id": 400 + n, "user": user("c-lind"), "state": state, "submitted_at": f"2024-01-01T00:{n:02d}:00Z",
                "commit_id": "5e1f0c2"} for n, state in states.items()]

    parsed = parse_issue(issue(1, "2024-01-02T00:00:00Z", pull=True), "acme-github", reviews=reviews)

    assert [(e.external_id, e.to_value) for e in parsed.events if e.kind == "review"] == [
        ("r401", "APPROVED"), ("r402", "CHANGES_REQUESTED"), ("r403", "COMMENTED"), ("r404", "DISMISSED"),
        ("r405", "CHANGES_REQUESTED"), ("r406", "APPROVED"), ("r407", "CHANGES_REQUESTED"), ("r408", "COMMENTED"),
        ("r409", "DISMISSED"), ("r410", "CHANGES_REQUESTED"),
        # a pending review is the reviewer's unpublished draft; an unknown state is not guessed
    ]


def test_comment_without_id_is_skippable() -> None:
    with pytest.raises(SkippableError, match="comment #2 has no id"):
        parse_issue(issue(1, "2024-01-02T00:00:00Z"), "s", comments=[
            {"id": 1, "user": user("a"), "created_at": "2024-01-01T00:00:00Z"},
            {"user": user("a"), "created_at": "2024-01-01T00:00:00Z"},
        ])


# -- links --------------------------------------------------------------------------------------

@pytest.mark.parametrize("title, body, branch, expected", [
    pytest.param("Fix the login", "fixes #12", "main", ["acme/widgets#12"], id="fixes-number"),
    pytest.param("Closes: acme/api#7", None, "main", ["acme/api#7"], id="closes-other-repo-in-title"),
    pytest.param("x", "RESOLVED #3 and Fix #4, close #5", "main",
                 ["acme/widgets#3", "acme/widgets#4", "acme/widgets#5"], id="keyword-forms-any-case"),
    pytest.param("x", "Resolves https://github.com/acme/api/issues/9", "main", ["acme/api#9"], id="issue-url"),
    pytest.param("x", "see #12, prefixes #13, fixes#14", "main", [], id="no-keyword-no-link"),
    pytest.param("x", "fixes #21", "main", [], id="self-reference"),
    pytest.param("x", None, "feature/PAY-123-timeout", ["PAY-123"], id="jira-key-in-branch"),
    pytest.param("PAY-7: raise timeout", "Also OPS2-40.", "bugfix_PAY-7", ["PAY-7", "OPS2-40"], id="jira-keys-deduplicated"),
    pytest.param("x", None, "pay-123-timeout", [], id="lowercase-branch-is-no-key"),
    pytest.param("fixes #2 for PAY-1", None, "main", ["acme/widgets#2", "PAY-1"], id="both-kinds"),
])
def test_links_of(title: str, body: str | None, branch: str, expected: list[str]) -> None:
    pull = {"number": 21, "title": title, "body": body, "head": {"ref": branch},
            "html_url": "https://github.com/acme/widgets/pull/21"}

    assert links_of(pull) == expected


def test_links_of_can_keep_only_known_jira_projects() -> None:
    pull = {"number": 1, "title": "UTF-8 names for PAY-3", "body": "See SHA-256", "repository_url": f"https://api.github.com/repos/{REPO}"}

    assert links_of(pull) == ["UTF-8", "PAY-3", "SHA-256"]
    assert links_of(pull, jira_projects=["pay"]) == ["PAY-3"]


# -- accounts -----------------------------------------------------------------------------------

@pytest.mark.parametrize("email, login", [
    pytest.param("583231+octocat@users.noreply.github.com", "octocat", id="id-plus-login"),
    pytest.param("octocat@users.noreply.github.com", "octocat", id="legacy-login-only"),
    pytest.param("41898282+github-actions[bot]@users.noreply.github.com", "github-actions[bot]", id="bot"),
    pytest.param("12+Per-Berg@noreply.ghe.acme.example", "Per-Berg", id="enterprise-server"),
    pytest.param("alerts@noreply.acme.example", None, id="company-noreply-is-a-mailbox"),
    pytest.param("octocat@github.com", None, id="real-address"),
    pytest.param(None, None, id="none"),
])
def test_login_from_noreply(email: str | None, login: str | None) -> None:
    assert login_from_noreply(email) == login


def test_accounts_keep_real_emails_and_drop_noreply_ones() -> None:
    raw = issue(1, "2024-01-02T00:00:00Z")
    raw["user"] = {"login": "c-lind", "email": "cecilia@acme.example", "name": "Cecilia Lind"}
    raw["assignees"] = [{"login": "p-berg", "email": "777+p-berg@users.noreply.github.com"}]

    accounts = parse_issue(raw, "s").accounts

    assert accounts == [Account("github", "c-lind", "Cecilia Lind", "cecilia@acme.example"),
                        Account("github", "p-berg", "p-berg", None)]


@pytest.mark.parametrize("actor, expected", [
    pytest.param({"__typename": "Bot", "login": "renovate"}, {"login": "renovate[bot]", "type": "Bot"}, id="bot-suffix"),
    pytest.param({"__typename": "User", "login": "octo", "name": "Octo Cat"},
                 {"login": "octo", "type": "User", "name": "Octo Cat"}, id="user-with-name"),
    pytest.param({"__typename": "Mannequin", "login": "old-user"}, {"login": "old-user", "type": "Mannequin"}, id="mannequin"),
    pytest.param(None, None, id="deleted-author"),
])
def test_user_from_graphql(actor: Any, expected: Any) -> None:
    assert user_from_graphql(actor) == expected


def test_graphql_database_id_falls_back_to_the_32_bit_one() -> None:
    nodes = [{"databaseId": 12, "createdAt": "2024-01-01T00:00:00Z", "author": None}]

    assert comments_from_graphql(nodes) == [{"id": 12, "user": None, "created_at": "2024-01-01T00:00:00Z"}]


# -- deployments and releases -------------------------------------------------------------------

def test_repository_activity_pseudo_ticket() -> None:
    statuses = {"7702": load("deployment_statuses_7702.json"), "7701": load("deployment_statuses_7701.json")}

    parsed = parse_repository_activity(load("repo.json"), "acme-github", deployments=load("deployments.json"),
                                       statuses=statuses, releases=load("releases.json"))

    assert parsed is not None
    t = parsed.ticket
    assert (t.key, t.external_id, t.project, t.type_name, t.kind) == (activity_key(REPO), "acme/widgets@deployments", REPO,
                                                                      "Deployment", "deployment")
    assert (t.created, t.updated) == (at("2023-01-10T12:00:00Z"), at("2024-05-06T16:04:00Z"))
    assert t.url == "https://github.com/acme/widgets/deployments"
    assert [(e.external_id, e.kind, e.actor, e.field, e.to_value) for e in parsed.events] == [
        ("rel6601", "release", "github:c-lind", "prerelease", "v1.4.0-beta"),
        ("d7701", "deploy", "github:dependabot[bot]", "staging", "main"),
        ("ds7701@20240506T154100Z:failure", "deploy", "github:dependabot[bot]", "staging", "failure"),
        ("rel6602", "release", "github:p-berg", None, "v1.4.0"),  # the draft v1.5.0-rc1 is no release yet
        ("d7702", "deploy", "github:p-berg", "production", "v1.4.0"),
        ("ds7702@20240506T160100Z:in_progress", "deploy", "github:p-berg", "production", "in_progress"),
        ("ds7702@20240506T160400Z:success", "deploy", "github:p-berg", "production", "success"),
    ]
    # Each status names its deployment, so the rules pair them exactly.
    assert {e.external_id: e.from_value for e in parsed.events if e.external_id.startswith("ds")} == {
        "ds7701@20240506T154100Z:failure": "d7701", "ds7702@20240506T160100Z:in_progress": "d7702",
        "ds7702@20240506T160400Z:success": "d7702"}


def test_graphql_deployments_parse_as_the_rest_ones_do() -> None:
    """The same deployments and statuses read through GraphQL give the same events as through REST."""
    nodes = load("graphql_deployments.json")["data"]["repository"]["deployments"]["nodes"]
    rest_statuses = {"7702": load("deployment_statuses_7702.json"), "7701": load("deployment_statuses_7701.json")}
    graphql_statuses = {str(node["databaseId"]): statuses_from_graphql(node["statuses"]["nodes"]) for node in nodes}

    rest = parse_repository_activity(load("repo.json"), "s", deployments=load("deployments.json"), statuses=rest_statuses)
    graphql = parse_repository_activity(load("repo.json"), "s", deployments=[deployment_from_graphql(n) for n in nodes],
                                        statuses=graphql_statuses)

    assert rest is not None and graphql is not None
    assert graphql.events == rest.events and graphql.ticket == rest.ticket
    # GraphQL also gives the creators' names, which REST's deployment listing does not.
    assert sorted((a.external_id, a.display_name) for a in graphql.accounts) == [
        ("dependabot[bot]", "dependabot[bot]"), ("p-berg", "Paula Berg")]


@pytest.mark.parametrize("node, expected", [
    pytest.param({"id": "DE_x", "databaseId": 12, "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:05:00Z",
                  "environment": "production", "ref": {"name": "v2.0.0"}, "commitOid": "abc123",
                  "creator": {"__typename": "Bot", "login": "github-actions"}},
                 {"id": 12, "node_id": "DE_x", "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:05:00Z",
                  "environment": "production", "ref": "v2.0.0", "creator": {"login": "github-actions[bot]", "type": "Bot"}},
                 id="by-tag"),
    pytest.param({"id": "DE_y", "databaseId": 13, "createdAt": "2024-01-01T00:00:00Z", "environment": None, "ref": None,
                  "commitOid": "abc123", "creator": None},
                 {"id": 13, "node_id": "DE_y", "created_at": "2024-01-01T00:00:00Z", "updated_at": None,
                  "environment": None, "ref": "abc123", "creator": None},
                 id="by-sha-or-branch-gone-the-commit-stands-in"),
    pytest.param({"id": "DE_z", "databaseId": None, "createdAt": "2024-01-01T00:00:00Z", "ref": {"name": "main"}},
                 {"id": "DE_z", "node_id": "DE_z", "created_at": "2024-01-01T00:00:00Z", "updated_at": None,
                  "environment": None, "ref": "main", "creator": None},
                 id="no-database-id-the-node-id-stands-in"),
])
def test_deployment_from_graphql(node: dict[str, Any], expected: dict[str, Any]) -> None:
    assert deployment_from_graphql(node) == expected


def test_statuses_from_graphql_in_rest_case() -> None:
    nodes = [{"state": "IN_PROGRESS", "createdAt": "2024-01-01T00:00:00Z", "environment": "qa",
              "creator": {"__typename": "User", "login": "octo"}}, None, {"state": None, "createdAt": None}]

    assert statuses_from_graphql(nodes) == [
        {"created_at": "2024-01-01T00:00:00Z", "state": "in_progress", "environment": "qa",
         "creator": {"login": "octo", "type": "User"}},
        {"created_at": None, "state": None, "environment": None, "creator": None},
    ]


@pytest.mark.parametrize("moment, state, expected", [
    pytest.param(datetime(2024, 5, 6, 16, 1, tzinfo=UTC), "success", "ds7@20240506T160100Z:success", id="utc"),
    pytest.param(datetime.fromisoformat("2024-05-06T18:01:00+02:00"), "success", "ds7@20240506T160100Z:success",
                 id="offset-normalised"),
    pytest.param(datetime(2024, 5, 6, 16, 1, tzinfo=UTC), None, "ds7@20240506T160100Z:", id="no-state"),
])
def test_status_event_id(moment: datetime, state: str | None, expected: str) -> None:
    assert status_event_id("7", moment, state) == expected


def test_a_status_without_a_time_skips_the_activity() -> None:
    with pytest.raises(SkippableError, match="status #1 of deployment 7701 time"):
        parse_repository_activity(load("repo.json"), "s", deployments=load("deployments.json"),
                                  statuses={"7701": [{"state": "success", "created_at": None}]})


def test_repository_without_activity_has_no_pseudo_ticket() -> None:
    assert parse_repository_activity(load("repo.json"), "s", releases=[{"id": 1, "draft": True, "published_at": None}]) is None
