"""GitHub webhook deliveries -> `connectors.webhooks.WebhookChange`, through the sync's own parser.

`github_change(event, payload, source, delivery_id=…)` takes the `X-GitHub-Event` and
`X-GitHub-Delivery` headers and the parsed body of a verified delivery. Every copy comes out of
`github_parse.parse_issue` or `parse_repository_activity` + `split_activity`, so tickets,
accounts and events are exactly what a sync makes of the same objects (the webhook's `issue` is
an item of the issues listing, its `pull_request` an object of the pulls API). Shapes:
https://docs.github.com/en/webhooks/webhook-events-and-payloads .

What each delivery yields (scope: `repository.full_name`):

- `ping`, events not in `GITHUB_EVENTS`, and actions below not named: nothing (`ignored`).
- `issues` / `pull_request` opened, edited: the ticket copy (`created` event, merge by
  `merged_by`); closed, reopened, labeled, unlabeled, assigned, unassigned and an edit with
  `changes.title` add one act `w:<delivery id>`, made by `_issue_event` from the REST issue event
  it stands for (`closed`, `reopened`, `labeled`, …, `renamed`) with `sender` as its actor (and
  assigner), so every field but the id is the sync's. `issues` deleted: `deleted`.
- `issue_comment` created: the issue copy with comment `c<id>`; on a pull request only the
  comment (`events_only`): the issue-shaped pull request lacks its branch, and a copy without it
  would drop the Jira keys the branch links. Deleted: `removed_events`. Edited: no new act.
- `pull_request_review` submitted, dismissed: the pull request copy with review `r<id>`.
- `deployment` / `deployment_status` created: the deployment pseudo-ticket `owner/repo@d<id>` with
  `d<id>` (and the status `ds…`). `release` published, released, prereleased or created, once
  not a draft: the release pseudo-ticket `owner/repo@rel<id>`.

The time of a `w:` act: `closed_at` for a close, else the ticket's `updated_at`, which GitHub
moves to the act's time. Evidence, from real REST answers (apache/incubator-devlake's recording of
panjf2000/ants, issue events with their issue): 11 of 12 `closed` events carry exactly the issue's
`closed_at`, one is a second later; of the 12 issues whose last change was an issue event,
`updated_at` is that event's second in 10 and one second off in 2 (closed 02:49:03, updated
02:49:04). A real `issues.closed` delivery (zulip's capture) has `closed_at` = `updated_at`; real
merged `pull_request.closed` deliveries have `updated_at` up to a second after `closed_at` (the
reason a close takes `closed_at`). A reopen keeps the old `closed_at` (GitHub's reopened example:
closed 2021-07-05, updated 2021-10-11), so `closed_at` is never the time of other acts. The two
records of one act thus agree within a second; `same_act`'s 120 s are a margin, not a measurement.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Collection

from connectors.errors import SkippableError
from connectors.github_activity import parse_repository_activity, split_activity
from connectors.github_parse import KindOf, parse_issue
from connectors.github_pulls import is_pull_request
from connectors.records import ParsedTicket
from connectors.webhooks import WEBHOOK_ACT_PREFIX, TicketEvents, WebhookChange

GITHUB_EVENTS = frozenset({
    "ping", "issues", "issue_comment", "pull_request", "pull_request_review", "deployment", "deployment_status",
    "release",
})
#: `issues`/`pull_request` actions that yield a copy, and the REST issue event the act stands for
#: (None: the copy alone; "renamed" only when the edit changed the title).
_TICKET_ACTIONS = {
    "opened": None, "edited": "renamed", "closed": "closed", "reopened": "reopened", "labeled": "labeled",
    "unlabeled": "unlabeled", "assigned": "assigned", "unassigned": "unassigned",
}
_REVIEW_ACTIONS = frozenset({"submitted", "dismissed"})
# Every one of these is sent for a release once it is published; all yield the same `rel<id>`.
_RELEASE_ACTIONS = frozenset({"published", "released", "prereleased", "created"})
_PLACEHOLDER = "webhook"  # the id of the stand-in REST event, renamed to `w:<delivery id>`


@dataclass(frozen=True, slots=True)
class _Delivery:
    event: str
    action: str
    payload: dict[str, Any]
    source: str
    scope: str
    delivery_id: str | None
    kind_of: KindOf | None
    jira_projects: Collection[str] | None

    def parse(self, raw: dict[str, Any], **history: Any) -> ParsedTicket:
        return parse_issue(raw, self.source, repo=self.scope, kind_of=self.kind_of,
                           jira_projects=self.jira_projects, **history)

    def ignored(self, why: str) -> WebhookChange:
        return WebhookChange([], scope=self.scope, ignored=f"GitHub {self.event} {self.action}: {why}")


def _object(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    if not isinstance(value, dict):
        raise SkippableError(f"has no '{name}' object")
    return value


def _id(item: dict[str, Any], what: str) -> str:
    value = item.get("id")
    if value in (None, "") or isinstance(value, (bool, dict, list)):
        raise SkippableError(f"has a {what} without an id")
    return str(value)


def _key(raw: dict[str, Any], scope: str) -> str:
    number = raw.get("number")
    if not isinstance(number, int) or isinstance(number, bool):
        raise SkippableError("has an issue without a number")
    return f"{scope}#{number}"


def _stand_in(d: _Delivery, raw: dict[str, Any]) -> dict[str, Any] | None:
    """The REST issue event the delivery's act would be listed as; None when it is no act."""
    kind = _TICKET_ACTIONS[d.action]
    if kind is None:
        return None
    sender = d.payload.get("sender")
    extra: dict[str, Any]
    if kind == "renamed":
        changes = d.payload.get("changes") if isinstance(d.payload.get("changes"), dict) else {}
        if "title" not in changes:
            return None  # the body or the base branch: no act a sync records
        title = changes["title"]
        if not isinstance(title, dict) or not isinstance(title.get("from"), str):
            raise SkippableError("has 'changes.title' without the former title ('from')")
        extra = {"rename": {"from": title["from"], "to": raw.get("title")}}
    elif kind in ("labeled", "unlabeled"):
        extra = {"label": _object(d.payload, "label")}
    elif kind in ("assigned", "unassigned"):
        extra = {"assignee": d.payload.get("assignee"), "assigner": sender}  # GitHub documents a null assignee
    else:
        extra = {"state_reason": raw.get("state_reason")}
    moment = "closed_at" if kind == "closed" else "updated_at"
    if not raw.get(moment):
        raise SkippableError(f"has no {moment}, the time of the act")
    if not d.delivery_id:
        raise SkippableError("has no delivery id (X-GitHub-Delivery) to name its act by")
    return {"id": _PLACEHOLDER, "event": kind, "created_at": raw[moment], "actor": sender, **extra}


def _ticket(d: _Delivery) -> WebhookChange:
    raw = _object(d.payload, "issue" if d.event == "issues" else "pull_request")
    if d.event == "issues" and d.action == "deleted":
        return WebhookChange([], scope=d.scope, deleted=(_key(raw, d.scope),))
    if d.action not in _TICKET_ACTIONS:
        return d.ignored("Partnerscope records no act for it")
    stand_in = _stand_in(d, raw)
    parsed = d.parse(raw, events=[stand_in] if stand_in else [])
    if stand_in is None:
        return WebhookChange([parsed], scope=d.scope)
    act = f"{WEBHOOK_ACT_PREFIX}{d.delivery_id}"
    parsed.events = [replace(e, external_id=act) if e.external_id == f"e{_PLACEHOLDER}" else e for e in parsed.events]
    return WebhookChange([parsed], scope=d.scope, acts_without_ids=((parsed.ticket.external_id, act),))


def _comment(d: _Delivery) -> WebhookChange:
    issue, comment = _object(d.payload, "issue"), _object(d.payload, "comment")
    comment_id = f"c{_id(comment, 'comment')}"
    if d.action == "deleted":
        return WebhookChange([], scope=d.scope, removed_events=((_key(issue, d.scope), comment_id),))
    if d.action != "created":
        return d.ignored("an edited comment is no new act")
    parsed = d.parse(issue, comments=[comment])
    if not is_pull_request(issue):
        return WebhookChange([parsed], scope=d.scope)
    events = tuple(e for e in parsed.events if e.external_id == comment_id)
    accounts = tuple(a for a in parsed.accounts if a.ref in {e.actor for e in events})
    t = parsed.ticket
    return WebhookChange([], scope=d.scope, events_only=(TicketEvents(t.source, t.external_id, t.key, accounts, events),))


def _review(d: _Delivery) -> WebhookChange:
    pull, review = _object(d.payload, "pull_request"), _object(d.payload, "review")
    if d.action not in _REVIEW_ACTIONS:
        return d.ignored("an edited review is no new act")
    return WebhookChange([d.parse(pull, reviews=[review])], scope=d.scope)


def _repository(payload: dict[str, Any]) -> dict[str, Any]:
    # Only what the pseudo-ticket shows; `push` deliveries write created_at as a number, and the
    # pseudo-ticket's own times come from its acts anyway (`split_activity`).
    repository = payload["repository"]
    return {name: repository[name] for name in ("full_name", "html_url") if name in repository}


def _deployment(d: _Delivery) -> WebhookChange:
    deployment = _object(d.payload, "deployment")
    statuses = None
    if d.event == "deployment_status":
        statuses = {_id(deployment, "deployment"): [_object(d.payload, "deployment_status")]}
    if d.action != "created":
        return d.ignored("Partnerscope records no act for it")
    activity = parse_repository_activity(_repository(d.payload), d.source, deployments=[deployment], statuses=statuses)
    return WebhookChange(split_activity(activity) if activity else [], scope=d.scope)


def _release(d: _Delivery) -> WebhookChange:
    release = _object(d.payload, "release")
    if d.action not in _RELEASE_ACTIONS:
        return d.ignored("Partnerscope records a release once, when it is published")
    activity = parse_repository_activity(_repository(d.payload), d.source, releases=[release])
    if activity is None:
        return d.ignored("a draft is no release yet")
    return WebhookChange(split_activity(activity), scope=d.scope)


_HANDLERS: dict[str, Callable[[_Delivery], WebhookChange]] = {
    "issues": _ticket, "pull_request": _ticket, "issue_comment": _comment, "pull_request_review": _review,
    "deployment": _deployment, "deployment_status": _deployment, "release": _release,
}


def github_change(
    event: str, payload: object, source: str, *, delivery_id: str | None,
    kind_of: KindOf | None = None, jira_projects: Collection[str] | None = None,
) -> WebhookChange:
    """What one GitHub delivery changes (see the module docstring for each event and action).

    `event` is the `X-GitHub-Event` header, `delivery_id` the `X-GitHub-Delivery` header (the id of
    the acts without a tracker id; GitHub keeps it on a redelivery). Unknown events and unused
    actions are `ignored`; a known event whose payload is malformed raises SkippableError with
    one sentence.
    """
    repository = payload.get("repository") if isinstance(payload, dict) else None
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    scope = full_name if isinstance(full_name, str) and "/" in full_name else None
    if event == "ping":
        hook = payload.get("hook_id") if isinstance(payload, dict) else None
        return WebhookChange([], scope=scope, ignored=f"GitHub ping: the endpoint was tested (hook {hook})")
    if event not in GITHUB_EVENTS:
        return WebhookChange([], scope=scope, ignored=f"GitHub {event} deliveries carry nothing Partnerscope reads")
    if not isinstance(payload, dict):
        raise SkippableError(f"GitHub {event} delivery is not a JSON object")
    action = payload.get("action")
    if not isinstance(action, str) or not action:
        raise SkippableError(f"GitHub {event} delivery has no action")
    if scope is None:
        raise SkippableError(f"GitHub {event} {action} delivery names no repository (repository.full_name)")
    delivery = _Delivery(event, action, payload, source, scope, delivery_id, kind_of, jira_projects)
    try:
        return _HANDLERS[event](delivery)
    except SkippableError as exc:
        raise SkippableError(f"GitHub {event} {action} delivery: {exc}") from None
