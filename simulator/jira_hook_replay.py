"""A replay of Jira webhook deliveries as a busy site sends them: the scenario's issues, some
changes delivered twice and some after the change that followed them.

`replay(total)` picks the scenario's first issues (by creation) whose lives make up `total`
deliveries together with the redeliveries, and returns the sendings in the order to send them,
with the issues as they end: what an import of the same final state reads. The `webhooks`
benchmark case replays it; `tests/simulator/test_jira_webhooks.py` checks it.

- Redeliveries: Jira retries a delivery it holds undelivered with the same
  `X-Atlassian-Webhook-Identifier` and an `X-Atlassian-Webhook-Retry` count
  (https://developer.atlassian.com/cloud/jira/platform/webhooks/#retry-policy). Here a copy
  follows its original within `REDELIVERY_WITHIN` sendings, sometimes right behind it.
- Out of order: two successive changelog updates of one issue change places, so the later
  change arrives first and the older copy must change nothing newer.
- Deleted comments: some issues get a comment written and deleted before their last change
  (`simulator.jira_webhooks`), so comment deletion is replayed without changing the final state.
"""
from __future__ import annotations

import math
import uuid
from collections import Counter
from dataclasses import dataclass, field
from random import Random
from typing import Any

from simulator.jira_webhooks import Delivery, issue_deliveries, user_index
from simulator.scenario import generate

REDELIVERY_WITHIN = 400  # sendings: two seconds at 200 per second
DELETED_COMMENT_IDS = 9_000_000  # far above the scenario's own comment ids
CHANGELOG_UPDATES = ("jira:issue_updated/issue_generic", "jira:issue_updated/issue_resolved",
                     "jira:issue_updated/issue_assigned", "jira:issue_updated/issue_updated")


@dataclass(frozen=True, slots=True)
class Sending:
    """One request of the replay: a delivery under its identifier, first sent (retry 0) or again."""

    delivery: Delivery
    identifier: str
    retry: int = 0


@dataclass(slots=True)
class Replay:
    sendings: list[Sending]
    issues: list[dict[str, Any]]  # the final state of every issue the deliveries tell of
    redeliveries: int = 0
    out_of_order: int = 0  # pairs of updates sent in swapped order
    deleted_comments: int = 0
    by_event: dict[str, int] = field(default_factory=dict)


def replay(total: int = 10_000, *, seed: int = 11, redelivery_rate: float = 0.03, out_of_order_rate: float = 0.02,
           deleted_comment_rate: float = 0.1) -> Replay:
    """`total` sendings (see the module docstring); the same arguments give the same replay."""
    if total < 1 or not 0 <= redelivery_rate < 1 or not 0 <= out_of_order_rate < 1 or not 0 <= deleted_comment_rate <= 1:
        raise ValueError("total must be at least 1 and the rates between 0 and 1")
    rng = Random(seed)
    budget = total - math.ceil(total * redelivery_rate)
    tickets = max(total // 10, 10)
    while True:
        issues = sorted(generate(tickets), key=lambda issue: int(issue["id"]))
        chosen, lives, deleted, full = _lives(issues, budget, deleted_comment_rate, rng)
        if full:
            break
        tickets *= 2  # the scenario ran out before the budget: a larger one, drawn afresh
        rng = Random(seed)
    if not chosen:
        raise ValueError(f"{total} deliveries are too few to tell one issue's whole life")
    ordered = sorted(((d.at, n, position, d) for n, life in enumerate(lives) for position, d in enumerate(life)),
                     key=lambda row: row[:3])
    sendings = [Sending(d, str(uuid.UUID(int=rng.getrandbits(128), version=4))) for *_, d in ordered]
    swapped = _swap_updates(sendings, round(total * out_of_order_rate), rng)
    sendings, again = _redeliver(sendings, total - len(sendings), rng)
    return Replay(sendings, chosen, again, swapped, deleted, dict(Counter(s.delivery.event for s in sendings)))


def _lives(issues: list[dict[str, Any]], budget: int, deleted_comment_rate: float,
           rng: Random) -> tuple[list[dict[str, Any]], list[list[Delivery]], int, bool]:
    """The first issues whose deliveries fit in `budget`, their deliveries, how many delete a
    comment, and whether the budget was reached (False: the issues ran out first)."""
    users = user_index(issues)
    chosen: list[dict[str, Any]] = []
    lives: list[list[Delivery]] = []
    used = deleted = 0
    for issue in issues:
        comment_id = DELETED_COMMENT_IDS + len(chosen) if rng.random() < deleted_comment_rate else None
        life = issue_deliveries(issue, users, comment_id)
        if used + len(life) > budget:
            return chosen, lives, deleted, True
        chosen.append(issue)
        lives.append(life)
        used += len(life)
        deleted += any(d.event == "comment_deleted" for d in life)
    return chosen, lives, deleted, False


def _swap_updates(sendings: list[Sending], pairs: int, rng: Random) -> int:
    """Swap `pairs` pairs of successive changelog updates of one issue, each sending in one pair at most."""
    by_issue: dict[str, list[int]] = {}
    for position, sending in enumerate(sendings):
        if sending.delivery.event in CHANGELOG_UPDATES:
            by_issue.setdefault(sending.delivery.key, []).append(position)
    candidates = [(a, b) for positions in by_issue.values() for a, b in zip(positions, positions[1:])
                  if sendings[a].delivery.at < sendings[b].delivery.at]
    rng.shuffle(candidates)
    taken: set[int] = set()
    done = 0
    for a, b in candidates:
        if done == pairs:
            break
        if a in taken or b in taken:
            continue
        sendings[a], sendings[b] = sendings[b], sendings[a]
        taken.update((a, b))
        done += 1
    return done


def _redeliver(sendings: list[Sending], count: int, rng: Random) -> tuple[list[Sending], int]:
    """`count` distinct sendings again, each placed up to REDELIVERY_WITHIN sendings after its original."""
    if count <= 0:
        return sendings, 0
    placed = [(float(position), 0, sending) for position, sending in enumerate(sendings)]
    for n, position in enumerate(rng.sample(range(len(sendings)), count), 1):
        original = sendings[position]
        # Half a place after the sending it follows: 1 puts the copy right behind its original.
        later = min(position + rng.randint(1, REDELIVERY_WITHIN), len(sendings)) - 0.5
        placed.append((later, n, Sending(original.delivery, original.identifier, 1)))
    placed.sort(key=lambda row: row[:2])
    return [sending for *_, sending in placed], count
