"""Words for the demo scenario: summaries, descriptions and comments, and their ADF form.

Jira Cloud's REST API v3 returns rich text as Atlassian Document Format; the changelog
shows description edits as plain text. https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/
A description is kept as a tuple of blocks (`("p", text)` or `("ul", (item, ...))`) so an
edit can append to it and both forms can be rendered from the same value.
"""
from __future__ import annotations

from random import Random
from typing import Any

Blocks = tuple[tuple[str, Any], ...]

AREAS = {
    "SHOP": ("Checkout", "Cart", "Product search", "Product page", "Wishlist", "Promotions", "Order history",
             "Shipping options", "Customer account", "Store locator", "Gift cards", "Returns portal"),
    "PAY": ("Card payments", "Refunds", "Invoices", "Payouts", "3-D Secure", "Reconciliation", "PSP webhooks",
            "Saved cards", "Currency conversion", "Fraud screening", "Instalments", "Settlement reports"),
}
_SYMPTOMS = (
    "blank page on Safari 17", "500 error after the session times out", "wrong currency for Norwegian customers",
    "duplicate entries after a retry", "timeouts under peak load", "validation message hides the button on mobile",
    "amount rounded incorrectly", "dates shown in UTC instead of local time", "missing Swedish translation",
    "button stays disabled after a failed request", "stale data after browser back navigation",
    "confirmation email sent twice", "CSV export truncates long names", "filter resets when paging",
    "focus lost after closing the dialog", "totals differ between list and detail view",
)
_OUTAGES = (
    "unavailable for {n} minutes", "elevated error rate after the evening deploy", "p95 latency above 3 s",
    "customers cannot complete the flow", "queue backlog growing since {n}:00", "certificate expired on the callback host",
)
_FEATURES = (
    "filter by date range", "export to CSV", "show a progress indicator", "support Norwegian and Swedish",
    "notify the customer by email", "audit log of changes", "bulk actions for support agents",
    "remember the last choice", "deep links from marketing emails", "show the status history",
    "support Apple Pay", "show the delivery estimate", "allow partial refunds", "save for later",
)
_TASKS = (
    "upgrade the HTTP client library", "add monitoring for failed jobs", "rotate API credentials",
    "remove the old feature flag", "load test before the campaign", "move secrets to the vault",
    "update the runbook", "archive old audit records",
)
_IMPROVEMENTS = (
    "cache responses to cut page load time", "reduce the number of API calls", "clearer error messages",
    "make retries idempotent", "simplify the form", "add tracing to slow requests", "lazy-load images",
    "reduce log noise", "speed up the test suite", "automate the release checklist",
    "alert before certificates expire", "split the nightly batch into smaller jobs",
)
_SUMMARY_TWEAKS = (" (mobile)", " in production", " for logged-in users", " since release 4.2", " on iOS")
_NOTES = (
    "Agreed in the refinement meeting: out of scope for now, follow-up ticket to be created.",
    "Clarified with the business: applies to both web and app.",
    "Added the error codes we saw in the logs.",
    "Design link updated to the latest version.",
    "Edge case: customers with two accounts.",
    "Must not change the public API.",
)
_CRITERIA = (
    "Works on the three supported browsers", "Covered by automated tests", "Documented in the runbook",
    "No regression in page load time", "Translations for all shop languages", "Visible in the audit log",
)
COMMENTS = {
    "triage": ("Reproduced on staging, looking into it.", "Cannot reproduce yet, can you share the order number?",
               "Looks related to the last release, checking the logs.", "Root cause found: missing null check in the mapper.",
               "Happens only for customers with saved cards.", "Logs attached, the error starts at 09:12."),
    "refine": ("Do we need this for the app as well?", "Suggest we split this into two stories.",
               "Acceptance criteria look good to me.", "What should happen for guest checkout?",
               "Technical note: needs a migration of the order table.", "We can reuse the component from the cart page."),
    "develop": ("PR is up, please review.", "Needs a config change on the PSP side too.", "Blocked by the API change, waiting.",
                "Pushed a fix for the review comments."),
    "test": ("Tested on staging, works as expected.", "Failed on Firefox, see screenshot.", "Regression suite green.",
             "Works, but the error text is still in English."),
    "accept": ("Accepted in UAT.", "Business signed off.", "Looks good from the business side."),
    "release": ("Scheduled for the Tuesday release.", "Deployed to production.", "Release notes updated."),
    "general": ("Any update on this?", "Raising priority, customers are complaining.", "Thanks!",
                "Moving this to the next sprint.", "Linked the support ticket."),
    "bot": ("This issue was closed automatically after 7 days in Deployed.",),
}


def bug_summary(rng: Random, project: str, incident: bool) -> str:
    """A defect summary: `Area: symptom`."""
    area = rng.choice(AREAS[project])
    if incident:
        return f"{area}: " + rng.choice(_OUTAGES).format(n=rng.randint(5, 90))
    return f"{area}: {rng.choice(_SYMPTOMS)}"


def scope_summary(rng: Random, project: str, type_name: str) -> str:
    """A story, task or improvement summary."""
    area = rng.choice(AREAS[project])
    words = {"Story": _FEATURES, "Task": _TASKS, "Improvement": _IMPROVEMENTS}[type_name]
    return f"{area}: {rng.choice(words)}"


def summary_tweak(rng: Random) -> str:
    """What a summary edit appends, as people sharpen a summary in triage or refinement."""
    return rng.choice(_SUMMARY_TWEAKS)


def apply_tweak(summary: str, tweak: str) -> str:
    """The summary after an edit: the tweak appended, or taken out again when it is already there."""
    return summary.replace(tweak, "") if tweak in summary else summary + tweak


def description(rng: Random, type_name: str, summary: str) -> Blocks:
    """The first version of a ticket's description."""
    if type_name in ("Bug", "Incident"):
        steps = ("Log in as a test customer", f"Open {summary.split(':')[0].lower()}", "Repeat the last action")
        return (("p", f"Reported from {rng.choice(('production', 'staging', 'the app'))}."),
                ("p", "Steps to reproduce:"), ("ul", steps),
                ("p", "Expected: the action completes. Actual: " + summary.split(": ", 1)[-1] + "."))
    if type_name == "Story":
        return (("p", f"As a customer I want to {summary.split(': ', 1)[-1]} so that I need fewer support calls."),
                ("p", "Acceptance criteria:"), ("ul", tuple(rng.sample(_CRITERIA, 2))))
    return (("p", f"Goal: {summary.split(': ', 1)[-1]}."),)


def description_edit(rng: Random) -> tuple[str, str]:
    """What one description edit adds: a note paragraph or an acceptance criterion."""
    if rng.random() < 0.5:
        return ("criterion", rng.choice(_CRITERIA))
    return ("p", rng.choice(_NOTES))


def apply_edit(blocks: Blocks, edit: tuple[str, str]) -> Blocks:
    """The description after `edit`; a criterion joins a trailing list, else becomes a paragraph."""
    kind, value = edit
    if kind == "criterion" and blocks and blocks[-1][0] == "ul":
        if value in blocks[-1][1]:
            return blocks + (("p", f"Also: {value.lower()}."),)
        return blocks[:-1] + (("ul", blocks[-1][1] + (value,)),)
    return blocks + (("p", value if kind == "p" else f"Also: {value.lower()}."),)


def plain(blocks: Blocks) -> str:
    """The description as the changelog shows it: plain text, list items as `* item`."""
    parts = []
    for kind, value in blocks:
        parts.append("\n".join(f"* {item}" for item in value) if kind == "ul" else value)
    return "\n\n".join(parts)


def _text(value: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [{"type": "text", "text": value}]}


def adf(blocks: Blocks) -> dict[str, Any]:
    """The description as an Atlassian Document Format document."""
    content = []
    for kind, value in blocks:
        if kind == "ul":
            content.append({"type": "bulletList",
                            "content": [{"type": "listItem", "content": [_text(item)]} for item in value]})
        else:
            content.append(_text(value))
    return {"type": "doc", "version": 1, "content": content}


def adf_text(value: str) -> dict[str, Any]:
    """A one-paragraph ADF document, as comment bodies are."""
    return {"type": "doc", "version": 1, "content": [_text(value)]}
