"""webhooks: the signature check every delivery passes, and telling a webhook's act from a sync's."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone

import pytest

from connectors.records import Event
from connectors.webhooks import match_acts, same_act, verify_signature

# GitHub's documented test vector: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
SECRET = b"It's a Secret to Everybody"
BODY = b"Hello, World!"
SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
T0 = datetime(2024, 5, 6, 15, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize(("secret", "body", "header", "expected"), [
    pytest.param(SECRET, BODY, SIGNATURE, True, id="github-docs-vector"),
    pytest.param(SECRET, BODY, SIGNATURE.upper().replace("SHA256=", "sha256="), True, id="upper-case-hex"),
    pytest.param(b"It's a secret to everybody", BODY, SIGNATURE, False, id="wrong-secret"),
    pytest.param(SECRET, b"Hello, World?", SIGNATURE, False, id="tampered-body"),
    pytest.param(SECRET, BODY + b"\n", SIGNATURE, False, id="body-with-a-byte-more"),
    pytest.param(SECRET, BODY, None, False, id="missing-header"),
    pytest.param(SECRET, BODY, "", False, id="empty-header"),
    pytest.param(SECRET, BODY, "sha1=" + hmac.new(SECRET, BODY, hashlib.sha1).hexdigest(), False,
                 id="sha1-header-even-when-right"),
    pytest.param(SECRET, BODY, SIGNATURE[7:], False, id="digest-without-sha256-prefix"),
    pytest.param(SECRET, BODY, "sha256=" + "z" * 64, False, id="non-hex"),
    pytest.param(SECRET, BODY, SIGNATURE[:-2], False, id="truncated-digest"),
    pytest.param(SECRET, BODY, SIGNATURE + "00", False, id="digest-too-long"),
    pytest.param(b"", BODY, "sha256=" + hmac.new(b"", BODY, hashlib.sha256).hexdigest(), False,
                 id="empty-secret-trusts-nobody"),
])
def test_verify_signature(secret: bytes, body: bytes, header: str | None, expected: bool) -> None:
    assert verify_signature(secret, body, header) is expected


def test_a_signature_made_with_the_secret_verifies() -> None:
    """Jira admin webhooks sign the same way (`X-Hub-Signature: sha256=…`)."""
    body = b'{"webhookEvent":"jira:issue_updated"}'
    header = "sha256=" + hmac.new(b"jira-secret", body, hashlib.sha256).hexdigest()

    assert verify_signature(b"jira-secret", body, header)
    assert not verify_signature(b"jira-secret", body.replace(b"updated", b"deleted"), header)


def close(external_id: str, *, actor: str | None = "github:p-berg", at: datetime = T0, field: str | None = "state_reason:completed",
          kind: str = "transition", from_value: str | None = "open", to_value: str | None = "closed") -> Event:
    return Event(external_id, kind, at, actor, field=field, from_value=from_value, to_value=to_value)


@pytest.mark.parametrize(("webhook", "tracked", "expected"), [
    pytest.param(close("w:d1"), close("e9007"), True, id="same-act"),
    pytest.param(close("w:d1"), close("e9007", at=T0 + timedelta(seconds=120)), True, id="at-the-tolerance"),
    pytest.param(close("w:d1"), close("e9007", at=T0 - timedelta(seconds=121)), False, id="beyond-the-tolerance"),
    pytest.param(close("w:d1"), close("e9007", actor="github:c-lind"), False, id="other-actor"),
    pytest.param(close("w:d1"), close("e9007", actor=None), False, id="actor-unknown-on-one-side"),
    pytest.param(close("w:d1"), close("e9007", to_value="open", from_value="closed"), False, id="other-values"),
    pytest.param(close("w:d1", kind="label", field=None, from_value=None, to_value="bug"),
                 close("e9001", kind="label", field=None, from_value=None, to_value="qa-passed"), False, id="other-label"),
    pytest.param(close("w:d1"), close("e9007", kind="field"), False, id="other-kind"),
    pytest.param(close("w:d1"), close("e9007", field="state_reason:not_planned"), False, id="other-reason"),
    pytest.param(close("w:d1"), close("e9007", field="state"), True, id="rest-event-without-reason"),
    pytest.param(close("w:d1", field="state"), close("e9007"), True, id="delivery-without-reason"),
    pytest.param(close("w:d1", kind="field", field="state"), close("e9007", kind="field", field="title"), False,
                 id="state-is-lenient-only-for-transitions"),
    pytest.param(close("e9007"), close("w:d1"), True, id="either-order"),
    pytest.param(close("w:d1"), close("w:d2"), False, id="two-deliveries-are-two-acts"),
    pytest.param(close("e9006"), close("e9007"), False, id="two-tracker-events-are-two-acts"),
])
def test_same_act(webhook: Event, tracked: Event, expected: bool) -> None:
    assert same_act(webhook, tracked) is expected


def test_same_act_takes_a_tolerance() -> None:
    later = close("e9007", at=T0 + timedelta(seconds=30))

    assert same_act(close("w:d1"), later, tolerance=timedelta(seconds=30))
    assert not same_act(close("w:d1"), later, tolerance=timedelta(seconds=29))


def test_match_acts_pairs_each_act_once_closest_first() -> None:
    """A label added, removed and added again within the tolerance: each delivery is its own event."""
    def label(external_id: str, seconds: int, added: bool = True) -> Event:
        values = (None, "bug") if added else ("bug", None)
        return Event(external_id, "label", T0 + timedelta(seconds=seconds), "github:c-lind",
                     from_value=values[0], to_value=values[1])

    webhook = [label("w:d3", 61), label("w:d1", 0), label("w:d2", 30, added=False)]
    tracked = [label("e1", 0), label("e2", 30, added=False), label("e3", 60), label("e4", 600), label("w:d9", 0)]

    pairs = match_acts(webhook, tracked)

    assert sorted((w.external_id, e.external_id) for w, e in pairs) == [("w:d1", "e1"), ("w:d2", "e2"), ("w:d3", "e3")]
    assert same_act(webhook[0], tracked[0])  # alike on their own, kept apart by the pairing
