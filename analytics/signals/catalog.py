"""The eleven behaviours of DESIGN.md's table as signals: what each measures, in which unit, and
where its value turns from win-lose to win-win.

`kind` says how far the trackers can show the behaviour: `measured` (the acts are the
behaviour), `proxy` (a hint, labelled as such) or `declared` (a value from configuration).
`measure` names the primary figure: `area:<name>` is the partner share of that responsibility
area's attributed acts (`analytics.scorecard.AREAS`); other names are fact measures
(`analytics.signals.facts`) or the person-level figures of `analytics.signals.people`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

KINDS = ("measured", "proxy", "declared")


@dataclass(frozen=True)
class Judgement:
    """Where a value turns into an assessment. With `higher_is_better`, at or above `win_win_at`
    is win-win and at or below `win_lose_at` win-lose; otherwise the other way round. Fewer than
    `min_samples` observations: insufficient data."""

    win_win_at: float
    win_lose_at: float
    min_samples: int = 10
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        for name in ("win_win_at", "win_lose_at"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number of at least 0, not {value!r}.")
        if isinstance(self.min_samples, bool) or not isinstance(self.min_samples, int) or self.min_samples < 1:
            raise ValueError(f"min_samples must be a whole number of at least 1, not {self.min_samples!r}.")
        if self.higher_is_better and not self.win_lose_at < self.win_win_at:
            raise ValueError(f"win_lose_at ({self.win_lose_at}) must be below win_win_at ({self.win_win_at}), "
                             "since a higher value is better for this signal.")
        if not self.higher_is_better and not self.win_win_at < self.win_lose_at:
            raise ValueError(f"win_win_at ({self.win_win_at}) must be below win_lose_at ({self.win_lose_at}), "
                             "since a lower value is better for this signal.")

    def assess(self, value: float | None, n: int) -> str:
        if value is None or n < self.min_samples:
            return "insufficient data"
        good = value >= self.win_win_at if self.higher_is_better else value <= self.win_win_at
        bad = value <= self.win_lose_at if self.higher_is_better else value >= self.win_lose_at
        return "win-win" if good else "win-lose" if bad else "mixed"


@dataclass(frozen=True)
class Signal:
    name: str
    behaviour: str
    kind: str
    unit: str
    measure: str
    judgement: Judgement | None
    definition: str
    extras: tuple[str, ...] = field(default=())


SHARE = Judgement(0.7, 0.3)

SIGNALS: tuple[Signal, ...] = (
    Signal("contract_type", "contract type", "declared", "declared", "", None,
           "not visible in a tracker: the value of [declared] contract_type in the configuration"),
    Signal("focus", "focus", "proxy", "service_share", "service_mix", Judgement(0.5, 0.2),
           "of tickets created (by month), the share that are incidents or service requests rather than "
           "features, improvements or tasks"),
    Signal("requirements", "requirements and scope", "measured", "partner_share", "area:requirements", SHARE,
           "partner share of specify acts; beside it the co-specification rate: scope tickets that reached "
           "development where the partner created, edited the summary, description or acceptance criteria, "
           "or commented before development started", ("co_specification",)),
    Signal("deployment", "deployment", "measured", "partner_share", "area:deployment", SHARE,
           "partner share of deploy acts (moves to deployed or released, deployments, releases)"),
    Signal("quality_assurance", "quality assurance", "measured", "partner_share", "area:quality_assurance", SHARE,
           "partner share of detect, test and accept acts; beside it escaped defects (of defects detected "
           "after the partner first resolved or deployed work in the project, the share the client detected) "
           "and client reopens (of closes by the partner, the share the client reopened)",
           ("escaped_defects", "client_reopens")),
    Signal("issue_management", "issue management", "measured", "partner_share", "area:issue_management", SHARE,
           "partner share of investigate and resolve acts; beside it, on bugs and incidents the client "
           "reported, the partner's time to first response (comment, assignment or transition; median and "
           "90th percentile hours) and participation (the share the partner acted on at all)",
           ("first_response_hours", "participation")),
    Signal("improvements", "software improvements", "measured", "partner_share", "area:improvements", SHARE,
           "partner share of improve and prioritise acts; beside it prioritised together: of improvement "
           "tickets whose priority or rank changed, the share changed by both sides", ("prioritised_together",)),
    Signal("onboarding", "focus on the provider's personnel", "proxy", "client_contacts_per_newcomer",
           "onboarding", Judgement(3.0, 1.0, min_samples=3),
           "for each partner person whose first act comes 60 days or more after the data begins: the "
           "distinct client people who commented with them or assigned them work in their first 60 days "
           "(mean per newcomer, by the month of the first act); beside it the median days to their first "
           "resolved ticket", ("days_to_first_resolve",)),
    Signal("communication", "communication", "measured", "pairs_per_person", "communication",
           Judgement(1.0, 0.5, min_samples=4),
           "distinct partner-client pairs who commented on the same ticket within 14 days of each other, per "
           "person who commented; beside it the gatekeeper share: the share of cross-organisation comments "
           "made by the two busiest people of each side", ("gatekeeper_share",)),
    Signal("relationships", "personal relationships", "proxy", "both_sides_share", "both_sides",
           Judgement(0.6, 0.3),
           "of tickets created (by month) on which anyone affiliated acted, the share where both sides acted; "
           "beside it cross-side replies: of comments, the share the other side answered within two working "
           "days", ("cross_side_replies",)),
    Signal("project_management", "sourcing project management", "measured", "client_intervention_share",
           "intervention", Judgement(0.2, 0.5, higher_is_better=False),
           "of status changes and reassignments on tickets assigned to a partner person, the share client "
           "people made (lower is delegative)"),
)

BY_NAME = {s.name: s for s in SIGNALS}

#: Each behaviour's two ends, as DESIGN.md's table words them: (win-lose, win-win).
POLES: Mapping[str, tuple[str, str]] = {
    "contract_type": ("resource-based or fixed price, deviations negotiated for extra pay",
                      "SLA for forecast scope, target price, bonuses"),
    "focus": ("scope delivery, headcount", "service delivery"),
    "requirements": ("specified by the client, thrown over the wall", "specified together"),
    "deployment": ("the client's personnel deploy", "the partner deploys"),
    "quality_assurance": ("the partner runs unit tests; the client runs system-integration and acceptance tests",
                          "the partner runs all three"),
    "issue_management": ("negotiated per contract", "the partner proactively investigates and resolves customer "
                         "issues, joins the client's investigations"),
    "improvements": ("negotiated, extra cost", "the partner identifies improvements, keeps the backlog, "
                     "prioritised together"),
    "onboarding": ("headcount and competences; the provider onboards alone",
                   "involved in selection; onboarding done jointly"),
    "communication": ("vertical, limited", "horizontal, extensive"),
    "relationships": ("“us and them”", "“we are in this together”"),
    "project_management": ("micro-management", "delegative"),
}

#: Extras that are k-of-n rates from facts: their fact measure, and whether higher is better.
RATE_EXTRAS: Mapping[str, str] = {
    "co_specification": "co_specification",
    "escaped_defects": "escaped_defect",
    "client_reopens": "client_reopen",
    "participation": "first_response",
    "prioritised_together": "prioritised_together",
    "cross_side_replies": "reply",
}

