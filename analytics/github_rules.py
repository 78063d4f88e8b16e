"""GitHub's evidence of who investigated, tested, accepted, resolved and deployed.

GitHub has no workflow statuses: an issue is open or closed, so the phase-based Jira rules
say nothing there (and the default phase map's "Open"/"Closed" would make every closure a
resolution, even "not planned"). Instead the evidence is labels, reviews, the closing
reason, merges, deployments and releases, in the shapes `connectors.github_parse` gives them:

- `label`: to_value is the label added (from_value the one removed);
- `review`: to_value APPROVED / CHANGES_REQUESTED / COMMENTED / DISMISSED;
- `transition`: open ↔ closed, field `state_reason:<reason>` or `state` when GitHub gave none; the
  first close after the last reopen resolves (or, not planned or duplicate, declines) and every
  reopen of a close is a `reopen` act (`analytics.resolution`);
- `merge`: the pull request was merged by the actor (one act, `github_pulls.MERGE_EVENT_ID`,
  whether the `merged` issue event or the pull request's `merged_by` reported it);
- `deploy` on a deployment's pseudo-ticket (`owner/repo@d<id>`, see `github_activity.split_activity`):
  the deployment (`d<id>`, field the environment, to_value the ref) and its statuses (`ds…`,
  from_value `d<id>`, to_value the state);
- `release` on a release's pseudo-ticket (`owner/repo@rel<id>`): a published release (drafts are
  never emitted), to_value the tag, field "prerelease" for a pre-release.

A ticket is GitHub's when its key has GitHub's shape (`owner/repo#N`, `owner/repo@d<id>`:
Jira keys never contain "/") or its reporter is a `github:` account.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable, Protocol, Sequence

from analytics.resolution import DEFAULT_DECLINING, declining_set, is_declining
from connectors.records import Event, Ticket

DEFAULT_VERIFICATION_LABELS = ("qa-passed", "verified", "tested")
DEFAULT_ACCEPTANCE_LABELS = ("accepted",)

_PULL_REQUEST_TYPE = "pull request"  # the parser's type_name, in case kinds were recomputed without it
_ACTIVITY_SUFFIX = "@deployments"
_DEPLOYMENT_PREFIX, _STATUS_PREFIX = "d", "ds"  # the parser's external ids: d<deployment id>, ds<status id>


def _label_set(labels: Iterable[str], what: str) -> tuple[tuple[str, ...], frozenset[str]]:
    if isinstance(labels, str):
        labels = (labels,)  # a lone label from configuration, not its letters
    kept = tuple(labels)
    for label in kept:
        if not isinstance(label, str) or not label.strip():
            raise ValueError(f"the {what} labels must be non-empty names, not {label!r}.")
    return kept, frozenset(label.strip().casefold() for label in kept)


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """The configurable parts of the rules (`[github] verification_labels`, `acceptance_labels`).

    Labels match ignoring case and surrounding spaces. `closed_without_reason_resolves`:
    GitHub records a closing reason only since May 2022, so an issue closed without one is
    taken as completed (GitHub's default reason); a pull request closed without merging never
    resolves anything.
    """

    verification_labels: tuple[str, ...] = DEFAULT_VERIFICATION_LABELS
    acceptance_labels: tuple[str, ...] = DEFAULT_ACCEPTANCE_LABELS
    closed_without_reason_resolves: bool = True
    # Resolutions and closing reasons that decline the work (`analytics.resolution`).
    declining_resolutions: tuple[str, ...] = DEFAULT_DECLINING
    _verify: frozenset[str] = field(init=False, repr=False, compare=False)
    _accept: frozenset[str] = field(init=False, repr=False, compare=False)
    _declining: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        verify = _label_set(self.verification_labels, "verification")
        accept = _label_set(self.acceptance_labels, "acceptance")
        object.__setattr__(self, "verification_labels", verify[0])
        object.__setattr__(self, "acceptance_labels", accept[0])
        object.__setattr__(self, "_verify", verify[1])
        object.__setattr__(self, "_accept", accept[1])
        if isinstance(self.declining_resolutions, str):
            object.__setattr__(self, "declining_resolutions", (self.declining_resolutions,))
        object.__setattr__(self, "declining_resolutions", tuple(self.declining_resolutions))
        object.__setattr__(self, "_declining", declining_set(self.declining_resolutions))

    def declines(self, resolution: str | None) -> bool:
        """Whether a resolution name (or GitHub closing reason) declines the work."""
        return is_declining(resolution, self._declining)


class Sink(Protocol):
    """Where rules put what they find (attribution's collector: one per role and actor)."""

    def add(self, role: str, actor: str | None, event: str | None, at: datetime, rule: str,
            explain: Callable[[str], str]) -> None: ...


def is_github(ticket: Ticket) -> bool:
    """Whether a ticket comes from GitHub: key `owner/repo#N` or `…@deployments`, or a `github:` reporter."""
    return "/" in ticket.key or (ticket.reporter or "").startswith("github:")


def is_pull_request(ticket: Ticket) -> bool:
    """Whether a ticket is a pull request (by kind, or by the parser's type name)."""
    return ticket.kind == "pull_request" or ticket.type_name.casefold() == _PULL_REQUEST_TYPE


def linked_event_id(pr_key: str, event_id: str) -> str:
    """The evidence id of an act on a linked pull request: `acme/shop#12:r123`.

    Pull requests are GitHub tickets (`owner/repo#N`); neither their keys nor any parser's event
    ids contain ":", so `split_event_id` recovers both parts.
    """
    return f"{pr_key}:{event_id}"


def split_event_id(event_id: str) -> tuple[str | None, str]:
    """(pull request key, event id) of a linked act's evidence id; (None, id) for the ticket's own events."""
    key, sep, rest = event_id.partition(":")
    return (key, rest) if sep and "#" in key else (None, event_id)


def _day(at: datetime) -> str:
    if at.tzinfo is not None:
        at = at.astimezone(timezone.utc)
    return at.date().isoformat()


def github_acts(ticket: Ticket, ordered: Sequence[Event], out: Sink, settings: RuleSettings, *,
                defect: bool) -> tuple[int | None, datetime | None]:
    """Apply the GitHub rules in one pass over a ticket's time-ordered events.

    Returns the position of the first closure (co-specification ends there), or None, and the
    time of the last reopen of a close, or None.
    Closing reasons: https://docs.github.com/en/rest/issues/events ("state_reason": completed,
    not_planned, duplicate, reopened); deployment states:
    https://docs.github.com/en/rest/deployments/statuses .
    """
    key = ticket.key
    pull_request = is_pull_request(ticket)
    verify, accept = settings._verify, settings._accept
    closed_at: int | None = None
    standing: Event | None = None  # the first close since the last reopen
    reopened_at: datetime | None = None
    merged = False
    first_assign: Event | None = None
    first_response: Event | None = None
    deployments: dict[str, Event] = {}  # external id -> deployment
    latest: dict[str | None, Event] = {}  # environment -> its most recent deployment

    for position, e in enumerate(ordered):
        kind = e.kind
        if kind == "label":
            label = (e.to_value or "").strip().casefold()
            if label in verify:
                out.add("test", e.actor, e.external_id, e.at, "verification-label",
                        lambda name, e=e: f"labelled {key} “{e.to_value}” by {name} on {_day(e.at)}")
            if label in accept:
                out.add("accept", e.actor, e.external_id, e.at, "acceptance-label",
                        lambda name, e=e: f"labelled {key} “{e.to_value}” by {name} on {_day(e.at)}")
        elif kind == "review":
            if e.to_value == "APPROVED":
                out.add("test", e.actor, e.external_id, e.at, "approves",
                        lambda name, e=e: f"approved PR {key} by {name} on {_day(e.at)}")
        elif kind == "merge":
            if merged:
                continue  # a pull request merges once: a second merge event is the same act seen again
            merged = True
            out.add("resolve", e.actor, e.external_id, e.at, "merges",
                    lambda name, e=e: f"merged PR {key} by {name} on {_day(e.at)}")
        elif kind == "transition":
            if e.to_value == "closed":
                if closed_at is None:
                    closed_at = position
                if standing is None and not pull_request:  # a pull request is resolved by its merge
                    standing = e
            elif e.to_value == "open" and e.from_value == "closed":
                if standing is not None:
                    _reopen(key, standing, e, out)
                standing, reopened_at = None, e.at  # the close did not stand; the next close may
        elif kind == "assign":
            if first_assign is None and e.to_value:
                first_assign = e
        elif kind == "comment":
            if first_response is None and e.actor and e.actor != ticket.reporter:
                first_response = e
        elif kind == "deploy":
            _deploy_event(e, deployments, latest, out)
        elif kind == "release":
            out.add("deploy", e.actor, e.external_id, e.at, "publishes-release",
                    lambda name, e=e: f"published {'pre-release' if e.field == 'prerelease' else 'release'} "
                                      f"{e.to_value or '(untagged)'} of {ticket.project} by {name} on {_day(e.at)}")

    if standing is not None:
        _close(key, standing, settings, out)
    if defect:
        _investigator(ticket, first_assign, first_response, out)
    return closed_at, reopened_at


def _reason(e: Event) -> str | None:
    """A close's reason (`not_planned`, `completed`, …); None when GitHub recorded none."""
    return e.field.partition(":")[2] or None if e.field and e.field.startswith("state_reason:") else None


def _close(key: str, e: Event, settings: RuleSettings, out: Sink) -> None:
    """The close that stands: `resolve` as completed (or with no reason, GitHub's default before
    May 2022), `decline` as not planned or duplicate (`analytics.resolution`)."""
    reason = _reason(e)
    if settings.declines(reason):
        out.add("decline", e.actor, e.external_id, e.at, "closes-declined",
                lambda name: f"closed {key} as {reason.replace('_', ' ')} by {name} on {_day(e.at)}")
    elif reason is not None or settings.closed_without_reason_resolves:
        said = f"as {reason.replace('_', ' ')}" if reason else "(no reason recorded)"
        out.add("resolve", e.actor, e.external_id, e.at, "closes-completed",
                lambda name: f"closed {key} {said} by {name} on {_day(e.at)}")


def _reopen(key: str, closed: Event, e: Event, out: Sink) -> None:
    when = _day(closed.at)
    out.add("reopen", e.actor, e.external_id, e.at, "reopens",
            lambda name: f"reopened {key} (closed on {when}) by {name} on {_day(e.at)}")


def _deploy_event(e: Event, deployments: dict[str, Event], latest: dict[str | None, Event], out: Sink) -> None:
    """Credit a deployment's creator when one of its statuses reports success.

    The parser's status events do not name their deployment, so a status belongs to the most
    recent deployment to the same environment created no later than it (right while deployments
    to one environment follow each other, as GitHub's auto-inactivation assumes). A status whose
    from_value names a deployment event (`d7701`) is paired with that one only: a parser that
    keeps the status's `deployment_url` can make the pairing exact that way.
    """
    if e.external_id.startswith(_STATUS_PREFIX):
        if e.to_value != "success":
            return
        deployment = deployments.get(e.from_value) if e.from_value else latest.get(e.field)
        if deployment is None:
            return  # the deployment itself is not in the history: nobody to credit
        d, s = deployment, e
        out.add("deploy", d.actor, d.external_id, d.at, "deployment-succeeded",
                lambda name: f"deployed {d.to_value or '(no ref)'} to {d.field or '(no environment)'} "
                             f"by {name} on {_day(d.at)}, successful on {_day(s.at)}")
    elif e.external_id.startswith(_DEPLOYMENT_PREFIX):
        deployments[e.external_id] = e
        latest[e.field] = e


def _investigator(ticket: Ticket, first_assign: Event | None, first_response: Event | None, out: Sink) -> None:
    """A GitHub defect's investigator: its first assignee, else its current one, else its first responder."""
    key = ticket.key
    if first_assign is not None:
        a = first_assign
        out.add("investigate", a.to_value, a.external_id, a.at, "first-assignee-investigates",
                lambda name: f"first assigned to {key} ({name}) on {_day(a.at)}")
    elif ticket.assignee:
        # Assigned, yet the history holds no assignment: count from the ticket's creation.
        out.add("investigate", ticket.assignee, None, ticket.created, "current-assignee-investigates",
                lambda name: f"assigned to {key} ({name}); the history records no assignment")
    elif first_response is not None:
        c = first_response
        out.add("investigate", c.actor, c.external_id, c.at, "first-responder-investigates",
                lambda name: f"nobody assigned; first comment on {key} by someone other than its author, "
                             f"by {name} on {_day(c.at)}")


def linked_acts(ticket: Ticket, pr: Ticket, events: Iterable[Event], out: Sink, *, resolves: bool = True,
                after: datetime | None = None) -> None:
    """Credit a linked pull request's approvals (test) and merge (resolve) to the ticket it works on.

    The merge resolves the ticket only as part of the close that stands (DESIGN.md): `resolves`
    is False while the ticket is open, and a merge before `after` (its last reopen) was undone.
    Deployments are not carried over: the parser keeps a deployment's ref (a branch or tag such
    as "main"), not its commit, and nothing here knows which merged commits a ref contained.
    """
    if pr.key == ticket.key:
        return
    # "fixes" is what links a GitHub issue (closing keywords); a Jira key is only named.
    link = f"which fixes {ticket.key}" if "/" in ticket.key else f"which names {ticket.key}"
    merged = False
    for e in events:
        if e.kind == "review" and e.to_value == "APPROVED":
            out.add("test", e.actor, linked_event_id(pr.key, e.external_id), e.at, "approves-linked-pr",
                    lambda name, e=e: f"approved PR {pr.key}, {link}, by {name} on {_day(e.at)}")
        elif e.kind == "merge" and not merged:
            merged = True  # only the first: see github_acts
            if not resolves or (after is not None and e.at <= after):
                continue
            out.add("resolve", e.actor, linked_event_id(pr.key, e.external_id), e.at, "merges-linked-pr",
                    lambda name, e=e: f"merged PR {pr.key}, {link}, by {name} on {_day(e.at)}")
