"""The conversation on one ticket as facts: who talked across the organisations, and how soon.

- `comment`: each comment by a known side; `k` 1 when the other side commented on the ticket
  within 14 days of it (a cross-organisation comment).
- `comment_pair`: a partner person and a client person who commented on the ticket within 14
  days of each other (once per pair and month), dated by the later comment.
- `reply`: each comment by a known side; `k` 1 when the other side's next comment came within
  two working days (the relationships proxy).
- `contact`: a client person assigning the ticket to a partner person: with the comment pairs,
  whom a partner newcomer met (the onboarding proxy).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Sequence

from analytics.signals.records import PAIR_WINDOW, REPLY_WORKING_DAYS, SIDES, Act, Fact, SideOf, working_days_after


def comment_facts(acts: Sequence[Act], partner: str | None, side_of: SideOf) -> list[Fact]:
    comments = [a for a in acts if a.event.kind == "comment" and a.side in SIDES]
    facts: list[Fact] = []
    times = {side: [a.event.at for a in comments if a.side == side] for side in SIDES}
    pairs: set[tuple[str, str, str]] = set()
    for act in comments:
        at = act.event.at
        other = "client" if act.side == "partner" else "partner"
        theirs = times[other]
        near = bisect_right(theirs, at + PAIR_WINDOW) - bisect_left(theirs, at - PAIR_WINDOW)
        facts.append(Fact("comment", at, act.organisation if act.side == "partner" else partner, k=int(near > 0),
                          person=act.event.actor, side=act.side))
        after = bisect_right(theirs, at)
        replied = after < len(theirs) and theirs[after] <= working_days_after(at, REPLY_WORKING_DAYS)
        facts.append(Fact("reply", at, act.organisation if act.side == "partner" else partner, k=int(replied),
                          person=act.event.actor, side=act.side))
    all_times = [a.event.at for a in comments]
    for index, act in enumerate(comments):
        at = act.event.at
        for earlier in comments[bisect_left(all_times, at - PAIR_WINDOW):index]:
            if earlier.side == act.side:
                continue
            p, c = (act, earlier) if act.side == "partner" else (earlier, act)
            key = (p.event.actor, c.event.actor, f"{at:%Y-%m}")
            if key in pairs:
                continue
            pairs.add(key)
            facts.append(Fact("comment_pair", at, p.organisation, n=0, person=p.event.actor, other=c.event.actor))
    for act in acts:
        e = act.event
        if e.kind == "assign" and act.side == "client" and e.to_value:
            side, organisation = side_of(e.to_value, e.at)
            if side == "partner":
                facts.append(Fact("contact", e.at, organisation, n=0, person=e.to_value, other=e.actor))
    return facts
