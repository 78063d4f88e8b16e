"""GitHub REST JSON (and the few GraphQL fields the sync asks for) -> neutral records.

Pure functions, no HTTP: the live sync (`connectors.github`), an offline import of REST
exports and tests all go through `parse_issue` (deployments and releases: `connectors.github_activity`). Shapes:
https://docs.github.com/en/rest/issues/issues#list-repository-issues ,
https://docs.github.com/en/rest/issues/events , https://docs.github.com/en/rest/pulls/reviews ,
https://docs.github.com/en/rest/deployments , https://docs.github.com/en/rest/releases .
GraphQL answers are first turned into the REST shapes (`connectors.github_graphql_shapes`), so one
parser serves both.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable, Collection, Iterable, Mapping

from connectors.errors import SkippableError
from connectors.github_pulls import MERGE_EVENT_ID, Merge, is_pull_request, merge_of
from connectors.records import Account, Event, ParsedTicket, Ticket, account_ref
from connectors.times import iso_datetime

TRACKER = "github"
KindOf = Callable[[str, tuple[str, ...]], str]

#: Issue events that become neutral events; the others (subscribed, mentioned, referenced,
#: head_ref_force_pushed, …) say nothing about who is responsible for what.
EVENT_TYPES = frozenset({"labeled", "unlabeled", "assigned", "unassigned", "closed", "reopened", "merged", "renamed"})
REVIEW_STATES = frozenset({"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED"})  # PENDING is a draft
# Older answers and exports spell "changes requested" the other way round; webhooks use lower case.
_REVIEW_STATE_ALIASES = {"REQUESTED_CHANGES": "CHANGES_REQUESTED"}

# https://docs.github.com/en/account-and-profile/setting-up-and-managing-your-personal-account-on-github/managing-email-preferences/setting-your-commit-email-address
# github.com: [ID+]login@users.noreply.github.com; Enterprise Server: ID+login@noreply.<host>.
_NOREPLY = re.compile(
    r"^(?:\d+\+(?P<ghes_or_com>[A-Za-z0-9][A-Za-z0-9-]*(?:\[bot\])?)@(?:users\.noreply\.github\.com|noreply\.[A-Za-z0-9.-]+)"
    r"|(?P<legacy>[A-Za-z0-9][A-Za-z0-9-]*(?:\[bot\])?)@users\.noreply\.github\.com)$",
    re.IGNORECASE,
)
# https://docs.github.com/en/issues/tracking-your-work-with-issues/using-issues/linking-a-pull-request-to-an-issue
_CLOSING = re.compile(
    r"(?<![\w-])(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)(?:\s*:\s*|\s+)"
    r"(?:(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)?#(?P<number>\d+)"
    r"|https?://[^\s/]+/(?P<url_repo>[\w.-]+/[\w.-]+)/issues/(?P<url_number>\d+))",
    re.IGNORECASE,
)
_JIRA_KEY = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Z0-9]+-[0-9]+)(?![A-Za-z0-9])")


def parse_datetime(value: object, what: str) -> datetime:
    """A GitHub time (`2024-03-04T10:15:30Z`, ISO 8601) as an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        raise SkippableError(f"{what} is {value!r}, not a time")
    return iso_datetime(value, what)


def optional_datetime(value: object, what: str) -> datetime | None:
    return None if value in (None, "") else parse_datetime(value, what)


def login_from_noreply(email: object) -> str | None:
    """The login hidden in a GitHub noreply address (`123+octocat@users.noreply.github.com`), else None."""
    if not isinstance(email, str):
        return None
    found = _NOREPLY.match(email.strip())
    return (found.group("ghes_or_com") or found.group("legacy")) if found else None


def _login(user: object) -> str | None:
    if not isinstance(user, dict) or not isinstance(user.get("login"), str) or not user["login"]:
        return None
    # Deleted accounts all show as the placeholder "ghost": an unknown actor, not one person.
    return None if user["login"] == "ghost" else user["login"]


class Accounts:
    """Collects the accounts a ticket names, merging what each mention tells about them."""

    def __init__(self) -> None:
        self._by_login: dict[str, Account] = {}

    def user(self, user: object) -> str | None:
        """Record a GitHub user object; its account ref, or None (absent or deleted user)."""
        login = _login(user)
        if login is None:
            return None
        assert isinstance(user, dict)
        name = user.get("name") if isinstance(user.get("name"), str) and user.get("name") else None
        email = user.get("email") if isinstance(user.get("email"), str) and user.get("email") else None
        if email is not None and login_from_noreply(email) is not None:
            email = None  # a noreply address is no mailbox, and its domain says nothing about an employer
        known = self._by_login.get(login)
        if known is None or (known.display_name == login and name) or (known.email is None and email):
            self._by_login[login] = Account(
                TRACKER, login,
                name or (known.display_name if known else None) or login,
                (known.email if known else None) or email,
            )
        return account_ref(TRACKER, login)

    def all(self) -> list[Account]:
        return list(self._by_login.values())


def repo_of(raw: Mapping[str, Any]) -> str | None:
    """`owner/repo` of an issue or pull request, from `repository_url` or else `html_url`."""
    api = raw.get("repository_url")
    if isinstance(api, str) and "/repos/" in api:
        return api.split("/repos/", 1)[1].strip("/") or None
    html = raw.get("html_url")
    if isinstance(html, str):
        parts = html.split("://", 1)[-1].split("/")
        if len(parts) >= 3 and parts[1] and parts[2]:
            return f"{parts[1]}/{parts[2]}"
    return None


def links_of(pull: Mapping[str, Any], repo: str | None = None, jira_projects: Collection[str] | None = None) -> list[str]:
    """Keys of the tickets a pull request says it works on, in order of first mention.

    A closing keyword (close/fix/resolve and their -s/-d forms, any case, optional colon)
    before `#N`, `owner/repo#N` or an issue URL in the title or body links `owner/repo#N`;
    a Jira key (`PAY-123`) in the title, branch (`head.ref`) or body links that key. Pass
    `jira_projects` to keep only keys of those projects ("UTF-8" looks like a key too).
    """
    repo = repo or repo_of(pull)
    title = pull.get("title") if isinstance(pull.get("title"), str) else ""
    body = pull.get("body") if isinstance(pull.get("body"), str) else ""
    head = pull.get("head")
    branch = head.get("ref") if isinstance(head, dict) and isinstance(head.get("ref"), str) else ""
    own = f"{repo}#{pull.get('number')}" if repo else None
    found: dict[str, None] = {}
    for text in (title, body):
        for match in _CLOSING.finditer(text):
            target_repo = match.group("repo") or match.group("url_repo") or repo
            number = match.group("number") or match.group("url_number")
            if target_repo and f"{target_repo}#{int(number)}" != own:
                found[f"{target_repo}#{int(number)}"] = None
    allowed = {project.upper() for project in jira_projects} if jira_projects is not None else None
    for text in (title, branch, body):
        for key in _JIRA_KEY.findall(text):
            if allowed is None or key.rsplit("-", 1)[0] in allowed:
                found[key] = None
    return list(found)


def _labels(raw: Mapping[str, Any]) -> tuple[str, ...]:
    names = []
    for label in raw.get("labels") or ():
        name = label.get("name") if isinstance(label, dict) else label
        if isinstance(name, str) and name:
            names.append(name)
    return tuple(names)


def _type_name(raw: Mapping[str, Any]) -> str:
    if is_pull_request(raw):
        return "Pull request"
    # Organisations may type their issues (Bug, Feature, Task); that type is the better guide to the kind.
    issue_type = raw.get("type")
    if isinstance(issue_type, dict) and isinstance(issue_type.get("name"), str) and issue_type["name"]:
        return issue_type["name"]
    return "Issue"


def _other(type_name: str, labels: tuple[str, ...]) -> str:
    return "other"


def item_id(item: Mapping[str, Any], what: str, position: int) -> str:
    value = item.get("id")
    if value in (None, "") or isinstance(value, bool):
        raise SkippableError(f"{what} #{position + 1} has no id")
    return str(value)


def _issue_event(raw: Mapping[str, Any], accounts: Accounts, position: int) -> Event | None:
    """One issue event as a neutral event; None for the event types that carry no responsibility."""
    kind = raw.get("event")
    if kind not in EVENT_TYPES:
        return None
    event_id = f"e{item_id(raw, 'issue event', position)}"
    at = parse_datetime(raw.get("created_at"), f"issue event {event_id} time")
    actor = accounts.user(raw.get("actor"))
    if kind in ("labeled", "unlabeled"):
        label = raw.get("label") if isinstance(raw.get("label"), dict) else {}
        name = label.get("name") if isinstance(label.get("name"), str) else None
        values = (None, name) if kind == "labeled" else (name, None)
        return Event(event_id, "label", at, actor, from_value=values[0], to_value=values[1])
    if kind in ("assigned", "unassigned"):
        # The event's `actor` was historically the assignee; `assigner` is who made the change.
        doer = accounts.user(raw.get("assigner")) or actor
        assignee = accounts.user(raw.get("assignee"))
        values = (None, assignee) if kind == "assigned" else (assignee, None)
        return Event(event_id, "assign", at, doer, from_value=values[0], to_value=values[1])
    if kind in ("closed", "reopened"):
        reason = raw.get("state_reason")
        field = f"state_reason:{reason}" if isinstance(reason, str) and reason else "state"
        values = ("open", "closed") if kind == "closed" else ("closed", "open")
        return Event(event_id, "transition", at, actor, field=field, from_value=values[0], to_value=values[1])
    if kind == "merged":
        commit = raw.get("commit_id") if isinstance(raw.get("commit_id"), str) else None
        return Event(MERGE_EVENT_ID, "merge", at, actor, from_value="open", to_value=commit or "merged")
    rename = raw.get("rename") if isinstance(raw.get("rename"), dict) else {}
    return Event(event_id, "field", at, actor, field="title",
                 from_value=str_or_none(rename.get("from")), to_value=str_or_none(rename.get("to")))


def str_or_none(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _comment_events(comments: Iterable[Any], accounts: Accounts) -> list[Event]:
    events = []
    for position, comment in enumerate(comments):
        if not isinstance(comment, dict):
            raise SkippableError(f"comment #{position + 1} is not an object")
        comment_id = item_id(comment, "comment", position)
        events.append(Event(f"c{comment_id}", "comment",
                            parse_datetime(comment.get("created_at"), f"comment {comment_id} time"),
                            accounts.user(comment.get("user"))))
    return events


def _merge_reported(merge: Merge, raw: Mapping[str, Any], accounts: Accounts) -> list[Event]:
    """The merge as the pull request reports it, when no `merged` issue event was read.

    A partial events listing or an export of pull requests alone still says who merged
    (`merged_by`). When the event is read too, its actor stands (it is the history's own
    record, with the merge commit); either way it is one act, `MERGE_EVENT_ID`. Nothing is
    made up when the pull request names nobody (the issues listing's `merged_at` alone, a
    deleted account): an act without an actor, stored first, would keep a later sighting's
    merger from ever being credited.
    """
    moment = merge.at or raw.get("closed_at")  # a merge closes the pull request at that moment
    actor = accounts.user(merge.by) if moment else None
    if actor is None:
        return []
    at = parse_datetime(moment, "merged_at")
    return [Event(MERGE_EVENT_ID, "merge", at, actor, from_value="open", to_value=merge.commit or "merged")]


def review_state(value: object) -> str | None:
    """A submitted review's state under today's name (APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED).

    None for PENDING (a draft, no act yet) and for anything undocumented.
    https://docs.github.com/en/rest/pulls/reviews ,
    https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request_review
    """
    if not isinstance(value, str):
        return None
    state = value.strip().upper()
    state = _REVIEW_STATE_ALIASES.get(state, state)
    return state if state in REVIEW_STATES else None


def _review_events(reviews: Iterable[Any], accounts: Accounts) -> list[Event]:
    events = []
    for position, review in enumerate(reviews):
        if not isinstance(review, dict):
            raise SkippableError(f"review #{position + 1} is not an object")
        state = review_state(review.get("state"))
        if state is None or not review.get("submitted_at"):
            continue  # a pending review is the reviewer's unpublished draft; an unknown state is not guessed
        review_id = item_id(review, "review", position)
        events.append(Event(f"r{review_id}", "review",
                            parse_datetime(review.get("submitted_at"), f"review {review_id} time"),
                            accounts.user(review.get("user")), to_value=state))
    return events


def parse_issue(
    raw: object, source: str, *, repo: str | None = None, comments: Iterable[Any] = (),
    events: Iterable[Any] = (), reviews: Iterable[Any] = (), pull: Mapping[str, Any] | None = None,
    kind_of: KindOf | None = None, jira_projects: Collection[str] | None = None,
) -> ParsedTicket:
    """One issue or pull request (an item of the issues listing, or a pulls-API object) with its history.

    `comments`, `events` and `reviews` are REST-shaped lists for this ticket; `pull` adds what
    the issues listing does not say of a pull request (`head.ref`, `merged`; see
    `connectors.github_pulls`). Raises SkippableError naming the problem when `raw` is not a
    usable issue.
    """
    if not isinstance(raw, dict):
        raise SkippableError("is not an issue object")
    if raw.get("number") in (None, "") or isinstance(raw.get("number"), bool):
        raise SkippableError("has no number; not a GitHub issue")
    repo = repo or repo_of(raw)
    if not repo:
        raise SkippableError(f"issue {raw['number']} names no repository (repository_url, html_url)")
    key = f"{repo}#{raw['number']}"
    accounts = Accounts()
    reporter = accounts.user(raw.get("user"))
    assignees = [user for user in raw.get("assignees") or () if _login(user)] or [raw.get("assignee")]
    assignee = accounts.user(assignees[0])
    labels = _labels(raw)
    type_name = _type_name(raw)
    pull_request = is_pull_request(raw)
    merge = merge_of(raw, pull) if pull_request else None
    created = parse_datetime(raw.get("created_at"), "created_at")
    ticket = Ticket(
        source=source,
        external_id=key,
        key=key,
        project=repo,
        type_name=type_name,
        kind="pull_request" if pull_request else (kind_of or _other)(type_name, labels),
        title=raw.get("title") if isinstance(raw.get("title"), str) else "",
        status="merged" if merge is not None else str(raw.get("state") or ""),
        created=created,
        updated=parse_datetime(raw.get("updated_at"), "updated_at"),
        resolved=optional_datetime(raw.get("closed_at"), "closed_at"),
        url=raw.get("html_url") if isinstance(raw.get("html_url"), str) else None,
        reporter=reporter,
        assignee=assignee,
        labels=labels,
    )
    history = [Event("created", "created", created, reporter)]
    for position, item in enumerate(events):
        if not isinstance(item, dict):
            raise SkippableError(f"issue event #{position + 1} is not an object")
        event = _issue_event(item, accounts, position)
        if event is not None:
            history.append(event)
    if merge is not None and not any(event.external_id == MERGE_EVENT_ID for event in history):
        history += _merge_reported(merge, raw, accounts)
    history += _comment_events(comments, accounts)
    history += _review_events(reviews, accounts)
    # A listing walked while it changes can repeat an item; one act is one event.
    history = list({event.external_id: event for event in reversed(history)}.values())
    history.sort(key=lambda event: (event.at, event.external_id))
    links: tuple[str, ...] = ()
    if pull_request:
        links = tuple(links_of({**raw, **(pull or {})}, repo, jira_projects))
    return ParsedTicket(ticket=ticket, accounts=accounts.all(), events=history, links=links)


#: The fields of each listing that the parser and the connector read; `slim` keeps only these.
EVENT_FIELDS = ("id", "event", "created_at", "actor", "assignee", "assigner", "label", "rename", "state_reason",
                "commit_id", "issue")
RELEASE_FIELDS = ("id", "tag_name", "draft", "prerelease", "created_at", "published_at", "author")
REPOSITORY_FIELDS = ("full_name", "created_at", "html_url", "archived")
_USER_FIELDS = ("login", "name", "email", "type")


def slim(raw: object, fields: tuple[str, ...]) -> object:
    """An item with only `fields`; users keep their identity, labels their name, an embedded issue its number.

    Listings are long on a first sync and first pages are kept for ETag answers: this keeps
    them small, and parses exactly as the full item does.
    """
    if not isinstance(raw, dict):
        return raw
    kept: dict[str, Any] = {}
    for name in fields:
        if name not in raw:
            continue
        value = raw[name]
        if isinstance(value, dict) and "login" in value:
            value = {key: value[key] for key in _USER_FIELDS if key in value}
        elif isinstance(value, dict) and name in ("label", "issue"):
            value = {key: value[key] for key in ("name", "number") if key in value}
        kept[name] = value
    return kept
