"""What a webhook delivery changes, in neutral records, and the checks every delivery shares.

`connectors.github_webhooks.github_change` and `connectors.jira_webhooks.jira_change` turn one
verified delivery into a `WebhookChange`; the service (`POST /webhooks/github/<source>`,
`/webhooks/jira/<source>`) stores the raw delivery first, then applies the change through the
same store a sync uses. Pure functions: no Flask, no database.

A delivery is a delta, not a ticket's whole history. Its copies carry the ticket's fields as they
stand at the tracker's `updated` time and the acts the delivery reports, under the ids a sync or
an import gives them (comment `c<id>`, review `r<id>`, Jira changelog item `h<id>.<n>`, …), so
ingesting both changes nothing twice. What a delivery cannot say as a sync would is kept apart:

- `TicketEvents`: acts on a ticket the delivery describes only partly (a Jira comment event's
  issue has a handful of fields; GitHub's `issue_comment` on a pull request lacks the branch its
  links come from). Upserting such a copy would overwrite stored fields with blanks, so only the
  acts and their accounts are given, to add to the stored ticket.
- `w:<delivery id>` acts (`acts_without_ids`): GitHub's `issues`/`pull_request` actions closed,
  reopened, labeled, unlabeled, assigned, unassigned and a title edit carry no issue-event id,
  while a sync stores the same act under the REST issue event's id `e<id>`. `same_act` and
  `match_acts` say which tracker-id act a `w:` act is, so the store keeps one of the two.

Signatures: `verify_signature` checks `sha256=<hex>` HMACs, GitHub's `X-Hub-Signature-256` and
the `X-Hub-Signature` of Jira admin webhooks registered with a secret.
https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries ,
https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks

The interface the service calls:

    verify_signature(secret: bytes, body: bytes, header: str | None) -> bool
    github_change(event, payload, source, *, delivery_id, kind_of=None, jira_projects=None) -> WebhookChange
    jira_change(payload, source, *, kind_of=None, base_url=None, context=None) -> WebhookChange
    same_act(webhook_event, event, tolerance=timedelta(seconds=120)) -> bool
    match_acts(webhook_events, events, tolerance=…) -> list[(w: act, tracker-id act)]

Both `*_change` raise `connectors.errors.SkippableError` (one sentence) for a malformed payload
of a known event, and return `WebhookChange([], ignored=…)` for anything else they do not use.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterable

from connectors.records import Account, Event, ParsedTicket

#: The prefix of the external id of an act a delivery reports without a tracker id: `w:<delivery id>`.
WEBHOOK_ACT_PREFIX = "w:"
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
#: How far apart a `w:` act's time and its tracker event's time may be (see `github_webhooks`).
TOLERANCE = timedelta(seconds=120)


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether `header` is `sha256=<hex>`, the HMAC-SHA256 of the raw `body` under `secret`.

    Compared in constant time (`hmac.compare_digest`). False for a missing header, for one that is
    not `sha256=` with 64 hex digits (GitHub's legacy `sha1=`, truncated or non-hex digests), for
    a wrong digest, and for an empty secret, under which anyone can sign anything. Sign the bytes
    as they arrived: re-serialised JSON differs from what the tracker signed.
    """
    if not secret or not isinstance(header, str):
        return False
    found = _SIGNATURE.fullmatch(header.strip())
    if found is None:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, found.group(1).lower())


@dataclass(frozen=True, slots=True)
class TicketEvents:
    """Acts on a ticket a delivery describes only partly: add `events` (and `accounts`) to the
    stored ticket `(source, external_id)` and change none of its fields.

    When the ticket is not stored yet there is nothing to add them to: the next sync brings the
    ticket with these acts under the same ids.
    """

    source: str
    external_id: str  # the ticket's: Jira issue id, GitHub `owner/repo#N`
    key: str
    accounts: tuple[Account, ...]
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class WebhookChange:
    """What one delivery changes. Empty `tickets` and an `ignored` sentence when it carries nothing
    Partnerscope uses (a ping, `push`, a draft release, a comment edit).

    - `tickets`: copies to upsert through the normal store; the newest copy wins and events are
      keyed by id. Deltas: `incomplete` is always empty, since a delivery never claims to hold a
      ticket's whole history; keep the stored ticket's `incomplete` flag when applying one.
    - `scope`: `owner/repo` (GitHub) or the Jira project key; deliveries outside the source's
      repositories or projects are to be ignored.
    - `deleted`: external ids of tickets the tracker deleted.
    - `removed_events`: (ticket external id, event external id) the tracker deleted (a comment).
    - `acts_without_ids`: (ticket external id, `w:<delivery id>`) of the acts in `tickets` that
      stand in for a tracker event a sync will read under its own id (see `same_act`).
    - `events_only`: acts on tickets the delivery describes only partly (`TicketEvents`).
    """

    tickets: list[ParsedTicket]
    scope: str | None = None
    deleted: tuple[str, ...] = ()
    removed_events: tuple[tuple[str, str], ...] = ()
    ignored: str | None = None
    acts_without_ids: tuple[tuple[str, str], ...] = ()
    events_only: tuple[TicketEvents, ...] = ()


def is_webhook_act(event: Event) -> bool:
    """Whether an event is a `w:<delivery id>` act, reported by a delivery without a tracker id."""
    return event.external_id.startswith(WEBHOOK_ACT_PREFIX)


def _same_field(kind: str, one: str | None, other: str | None) -> bool:
    if one == other:
        return True
    # GitHub's REST `closed`/`reopened` events often carry no state_reason ("state") where the
    # issue itself, and so the delivery, says "completed" or "reopened": one act, told twice.
    fields = {one, other}
    return kind == "transition" and "state" in fields and any(
        f is not None and f.startswith("state_reason:") for f in fields)


def same_act(webhook_event: Event, event: Event, tolerance: timedelta = TOLERANCE) -> bool:
    """Whether a `w:` act and an act under the tracker's own id are one act.

    Exactly one of the two must be a `w:` act: two deliveries are two acts, and two tracker
    events are two acts. Then kind, actor, from/to values and field must match (a close without a
    recorded reason matches one with a reason, see above), and the times differ by at most
    `tolerance`. Either argument order is accepted.
    """
    if is_webhook_act(webhook_event) == is_webhook_act(event):
        return False
    return (
        webhook_event.kind == event.kind
        and webhook_event.actor == event.actor
        and webhook_event.from_value == event.from_value
        and webhook_event.to_value == event.to_value
        and _same_field(event.kind, webhook_event.field, event.field)
        and abs(webhook_event.at - event.at) <= tolerance
    )


def match_acts(webhook_events: Iterable[Event], events: Iterable[Event],
               tolerance: timedelta = TOLERANCE) -> list[tuple[Event, Event]]:
    """Pairs (`w:` act, tracker-id act) that are one act, each event in at most one pair.

    `same_act` alone can pair one act with two: a label added, removed and added again within the
    tolerance makes two `labeled` events alike. Pairs are taken closest in time first (then by
    ids, so the answer never depends on the order given).
    """
    tracked = [e for e in events if not is_webhook_act(e)]
    candidates = [(abs(w.at - e.at), w.external_id, e.external_id, w, e)
                  for w in webhook_events if is_webhook_act(w)
                  for e in tracked if same_act(w, e, tolerance)]
    candidates.sort(key=lambda c: c[:3])
    used: set[str] = set()
    pairs = []
    for _, w_id, e_id, w, e in candidates:
        if w_id not in used and e_id not in used:
            used.update((w_id, e_id))
            pairs.append((w, e))
    return pairs
