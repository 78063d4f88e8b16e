"""One ticket's life on GitHub in the demo: who reports, triages, discusses, reviews, merges and verifies.

A `Play` records acts (events, comments, reviews, commits, reactions) with their times into a
plain ticket dict; `simulator.github_scenario` cuts what falls after the end of the period and
replays the state. Who acts is drawn per act from the `Cast`, by the win-lose → win-win shift of
that kind of act at that time; developers and reviewers are the partner's people.
"""
from __future__ import annotations

from random import Random
from typing import Any

from simulator import text
from simulator.cast import HOUR, Cast, working
from simulator.github_people import GHOST, LOGINS
from simulator.github_shapes import REACTIONS
from simulator.lifecycle import LABELS as AREA_LABELS
from simulator.people import PARTNER, Person

_TEXT_TYPE = {"bug": "Bug", "enhancement": "Improvement", "feature": "Story"}
_REPORTER_ROLE = {"bug": "detect", "enhancement": "improve", "feature": "specify"}
_REVIEW_TEXT = {"APPROVED": ("LGTM.", "Looks good, thanks!", ""),
                "COMMENTED": ("A few questions inline.", "Nit: naming."),
                "CHANGES_REQUESTED": ("Please add a test for the error path.", "This breaks the mobile layout.")}
_CLOSING = ("Fixes", "fixes", "Closes", "Resolves")


class Play:
    """Records one ticket's acts; `Cast` decides who acts, by the shift of that kind of act at that time."""

    def __init__(self, rng: Random, cast: Cast, seq: list[int], ticket: dict[str, Any]) -> None:
        self.rng, self.cast, self.seq, self.ticket = rng, cast, seq, ticket
        self.t = ticket["created"]

    def _next(self) -> int:
        self.seq[0] += 1
        return self.seq[0]

    def who(self, role: str, avoid: Person | None = None) -> str:
        """Who performs `role` now: the side drawn by the shift, then the person."""
        return LOGINS[self.cast.who(self.rng, role, self.t, avoid).handle]

    def partner(self, role: str, avoid: str | None = None) -> str:
        """A partner person who plays `role` now, if possible not `avoid`."""
        person = self.cast.pick(self.rng, role, PARTNER, self.t)
        if LOGINS[person.handle] == avoid:
            person = self.cast.pick(self.rng, role, PARTNER, self.t)
        return LOGINS[person.handle]

    def wait(self, mean_hours: float) -> int:
        """Move the ticket's clock on by an exponential delay of `mean_hours`, into working hours."""
        self.t = working(self.t + int(self.rng.expovariate(1.0 / mean_hours) * HOUR) + 60, self.rng)
        return self.t

    def event(self, kind: str, actor: str | None, t: int | None = None, **extra: Any) -> None:
        """Record an issue event of `kind` by `actor` (now, or at `t`)."""
        self.ticket["events"].append({"t": self.t if t is None else t, "seq": self._next(), "event": kind,
                                      "actor": actor, **extra})

    def say(self, author: str | None, context: str, t: int | None = None) -> None:
        """Record a comment (sometimes by a since deleted account, sometimes edited, sometimes with a reaction)."""
        rng = self.rng
        if rng.random() < 0.015:
            author = GHOST["login"]  # the account was deleted since; GitHub shows the ghost user
        edited = rng.randrange(300, 7200) if rng.random() < 0.1 else 0
        reactions = [{"t": (self.t if t is None else t) + 600 + k, "seq": self._next(), "author": self.who("comment"),
                      "content": rng.choice(REACTIONS)} for k in range(rng.random() < 0.1)]
        self.ticket["comments"].append({"t": self.t if t is None else t, "seq": self._next(), "author": author,
                                        "body": rng.choice(text.COMMENTS[context]), "edited": edited,
                                        "reactions": reactions})

    def label(self, name: str, actor: str | None) -> None:
        """Record a `labeled` event."""
        self.event("labeled", actor, label=name)

    # -- issues -------------------------------------------------------------------------------

    def open_issue(self, area: str) -> bool:
        """Report, triage and discuss an issue; True when it then waits for a pull request to fix it."""
        rng, ticket = self.rng, self.ticket
        kind = ticket["kind"]
        ticket["author"] = self.who(_REPORTER_ROLE[kind])
        title = text.bug_summary(rng, area, False) if kind == "bug" else text.scope_summary(rng, area, _TEXT_TYPE[kind])
        ticket["title"] = ticket["first_title"] = title
        ticket["body"] = text.plain(text.description(rng, _TEXT_TYPE[kind], title)) if rng.random() < 0.95 else None
        self.label(kind, ticket["author"])
        if rng.random() < 0.4:
            self.event(rng.choice(("subscribed", "mentioned")), self.who("comment"), t=self.t + 30)
        ticket["reactions"] = [{"t": self.t + 3600 * (k + 1), "seq": self._next(), "author": self.who("comment"),
                                "content": rng.choice(REACTIONS)} for k in range(rng.choice((0, 0, 0, 0, 1, 2)))]
        self.wait(20 if kind == "bug" else 48)
        triager = self.who("investigate" if kind == "bug" else "prioritise")
        if rng.random() < 0.3:
            self.label(rng.choice(AREA_LABELS), triager)
        developer = self.partner("develop")
        self.event("assigned", developer, assignee=developer, assigner=triager if rng.random() < 0.7 else developer)
        if kind == "bug":
            self.wait(4)
            self.say(self.who("investigate"), "triage")
            if rng.random() < 0.35:
                self.wait(6)
                self.say(ticket["author"], "general")
        else:
            for _ in range(rng.randint(1, 3)):
                self.wait(12)
                author = self.who("cospec")
                if rng.random() < 0.85:
                    self.say(author, "refine")
                else:
                    self.event("renamed", author, **{"from": ticket["title"],
                                                    "to": text.apply_tweak(ticket["title"], text.summary_tweak(rng))})
                    ticket["title"] = self.ticket["events"][-1]["to"]
        for _ in range(rng.randint(1, 2)):
            self.wait(16)
            self.say(self.who("comment"), rng.choice(("general", "triage" if kind == "bug" else "refine")))
        draw = rng.random()
        if draw < 0.12:
            self.wait(24 * 20)
            self.event("closed", self.who("close"), state_reason="not_planned" if rng.random() < 0.8 else "duplicate")
            return False
        return draw >= 0.15  # the rest stays open, never picked up

    def verify(self, merged_at: int, merger: str, merge_sha: str) -> None:
        """A pull request closed this issue: system test, then verification (bugs) or acceptance."""
        rng, kind = self.rng, self.ticket["kind"]
        self.t = merged_at
        self.event("closed", merger, t=merged_at + 2, commit_id=merge_sha, state_reason="completed")
        self.wait(20)
        tester = self.who("test")
        if rng.random() < 0.06:
            self.event("reopened", tester, state_reason="reopened")
            self.say(tester, "test")
            self.wait(24)
            self.event("closed", self.partner("develop"), state_reason="completed")
            self.wait(12)
        self.label("qa-passed", tester)
        if rng.random() < 0.3:
            self.say(tester, "test")
        self.wait(30)
        accepter = self.who("accept")
        self.label("verified" if kind == "bug" else "accepted", accepter)
        if rng.random() < 0.25:
            self.say(accepter, "accept")

    # -- pull requests --------------------------------------------------------------------------

    def open_pull(self, area: str, fixes: dict[str, Any] | None) -> tuple[int, str, str] | None:
        """Open, review and mostly merge a pull request; (merged at, by, sha) when merged."""
        rng, ticket = self.rng, self.ticket
        bot = rng.random() < 0.03
        author = "dependabot[bot]" if bot else self.partner("develop")
        ticket["author"], ticket["kind"] = author, "bug" if fixes and fixes["kind"] == "bug" else "enhancement"
        if bot:
            version = f"2.{rng.randint(28, 33)}.{rng.randint(0, 5)}"
            title, branch, body = f"Bump requests to {version}", f"dependabot/pip/requests-{version}", \
                f"Bumps requests to {version}."
        elif fixes is not None:
            subject = fixes["title"].split(": ", 1)[-1]
            verb = "Fix" if fixes["kind"] == "bug" else "Implement"
            title = f"{verb} {subject[0].lower() + subject[1:]}"
            branch = f"{'fix' if fixes['kind'] == 'bug' else 'feature'}/{fixes['number']}-{_slug(subject)}"
            keyword = rng.choice(_CLOSING) if fixes["closes"] else "Related to"
            body = f"{keyword} #{fixes['number']}\n\n{title}. Tested locally."
        else:
            title = text.scope_summary(rng, area, "Task").split(": ", 1)[-1].capitalize()
            branch, body = f"chore/{_slug(title)}", f"{title}." if rng.random() < 0.8 else None
        ticket.update(title=title, first_title=title, body=body, head_ref=branch)
        ticket["base_sha"] = _sha(rng)
        ticket["additions"], ticket["deletions"] = rng.randint(3, 400), rng.randint(0, 120)
        ticket["changed_files"] = rng.randint(1, 12)
        for k in range(rng.randint(1, 3)):
            self._commit(author, ticket["created"] - rng.randint(600, 3 * HOUR) + k * 60, f"{title} (part {k + 1})")
        if rng.random() < 0.5 and not bot:
            self.label(ticket["kind"], author)
        reviewers = [self.partner("review", avoid=author)]
        if rng.random() < 0.5:
            reviewers.append(self.partner("review", avoid=author))
        for reviewer in dict.fromkeys(reviewers):
            self.event("review_requested", author, reviewer=reviewer)
        if rng.random() < 0.6 and not bot:
            self.event("assigned", author, assignee=author, assigner=author)
        if rng.random() < 0.3:
            self.event("subscribed", self.who("comment"), t=self.t + 60)
        draw = rng.random()
        if draw < 0.05:
            return None  # still waiting for its review
        self.wait(6)
        first = reviewers[0]
        state = rng.choices(("CHANGES_REQUESTED", "COMMENTED", "APPROVED"), weights=(30, 20, 50))[0]
        self._review(first, state)
        if rng.random() < 0.7:
            self.wait(3)
            self.say(author if rng.random() < 0.5 else self.who("comment"), rng.choice(("develop", "general")))
        if state != "APPROVED":
            self.wait(10)
            self._commit(author, self.t, "Address review comments")
            if rng.random() < 0.3:
                self.event("head_ref_force_pushed", author)
            self.wait(4)
            self._review(first if state == "CHANGES_REQUESTED" or len(reviewers) == 1 else reviewers[-1], "APPROVED")
        else:
            self.wait(2)
            self._review(reviewers[-1] if len(reviewers) > 1 else self.partner("review", avoid=author), "COMMENTED")
        for _ in range(rng.randint(1, 3)):
            self.wait(2)
            self.say(self.who("comment"), rng.choice(("develop", "general", "test")))
        if draw < 0.14:
            self.wait(24 * 4)
            self.event("closed", author if rng.random() < 0.5 else first)
            return None
        self.wait(3)
        merger = first if rng.random() < 0.7 else self.who("deploy")
        sha = _sha(rng)
        ticket["merge_sha"] = sha
        self.event("merged", merger, commit_id=sha)
        self.event("closed", merger)
        if rng.random() < 0.5:
            self.event("head_ref_deleted", merger, t=self.t + 5)
        return self.t, merger, sha

    def _commit(self, author: str, t: int, message: str) -> None:
        self.ticket["commits"].append({"t": t, "sha": _sha(self.rng), "author": author, "message": message})

    def _review(self, reviewer: str, state: str) -> None:
        review = {"t": self.t, "seq": self._next(), "author": reviewer, "state": state,
                  "body": self.rng.choice(_REVIEW_TEXT[state])}
        self.ticket["reviews"].append(review)
        if state == "CHANGES_REQUESTED":
            for k in range(self.rng.randint(1, 2)):
                self.ticket["review_comments"].append({
                    "t": self.t - 60 + k, "seq": self._next(), "author": reviewer, "review": review,
                    "body": self.rng.choice(("Missing null check here.", "Please extract this into a helper.")),
                    "path": self.rng.choice(("app/views.py", "app/models.py", "app/templates/cart.html"))})


def _sha(rng: Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _slug(words: str) -> str:
    return "-".join("".join(c for c in w.lower() if c.isalnum()) for w in words.split()[:5]).strip("-")

