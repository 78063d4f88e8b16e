"""One ticket's life in the demo scenario: who does what, when, as a list of intended changes.

A `Life` walks a ticket through the workflow and records *intents* — (time, order, actor,
changes) — and comments. It does not build Jira JSON: `render` sorts the intents, drops
what falls after the end of the period, fills in each change's "from" value from the running
state and writes Cloud's changelog. Keeping "from" out of here lets extra changes (label
toggles, Rank changes, reassignments) be sprinkled at any time without breaking the chain.
Who acts is drawn per act from the `Cast`, by the shift of that kind of act at that time.
"""
from __future__ import annotations

from random import Random

from simulator import text
from simulator.cast import DAY, HOUR, Cast, release_slot, working
from simulator.people import BOT, CLIENT, PARTNER, Person

DEFECTS = ("Bug", "Incident")
LABELS = ("regression", "customer-reported", "frontend", "backend", "mobile", "tech-debt", "security", "performance")
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")


class Life:
    """The intents and comments of one ticket, from its creation on."""

    def __init__(self, rng: Random, cast: Cast, type_name: str, created: int, long: bool) -> None:
        self.rng, self.cast, self.type_name = rng, cast, type_name
        self.created = self.t = created
        self.long = long
        self.urgent = type_name == "Incident"
        self.intents: list[tuple[int, int, Person | None, tuple[tuple[str, object], ...]]] = []
        self.comments: list[tuple[int, int, Person | None, str]] = []  # time, edited after (s), author, text
        self.assignee: Person | None = None
        self.reporter = self._reporter()
        self.reporter_side = cast.side_of(self.reporter, created)
        self.labels = self._first_labels()
        self.priority = self._first_priority()

    # -- recording -------------------------------------------------------------------------
    def act(self, actor: Person | None, *changes: tuple[str, object], t: int | None = None) -> None:
        self.intents.append((self.t if t is None else t, len(self.intents), actor, changes))

    def move(self, status: str, actor: Person | None, assign: Person | None = None) -> None:
        changes: tuple[tuple[str, object], ...] = (("status", status),)
        if assign is not None and assign is not self.assignee:
            changes += (("assignee", assign),)
            self.assignee = assign
        self.act(actor, *changes)

    def say(self, author: Person | None, context: str, t: int | None = None) -> None:
        rng = self.rng
        if author is not BOT and rng.random() < 0.015:
            author = None  # the author's account was deleted since: Cloud drops it
        edited = rng.randrange(300, 7200) if rng.random() < 0.1 else 0
        self.comments.append((self.t if t is None else t, edited, author, rng.choice(text.COMMENTS[context])))

    def wait(self, mean_hours: float) -> int:
        delay = int(self.rng.expovariate(1.0 / mean_hours) * HOUR) + 60
        self.t = self.t + delay if self.urgent else working(self.t + delay, self.rng)
        return self.t

    def who(self, role: str, avoid: Person | None = None) -> Person:
        return self.cast.who(self.rng, role, self.t, avoid)

    # -- the first version -------------------------------------------------------------------
    def _reporter(self) -> Person | None:
        rng, kind, t = self.rng, self.type_name, self.created
        if kind in DEFECTS and rng.random() < (0.04 if kind == "Incident" else 0.01):
            return None  # raised anonymously (e.g. from the public help form)
        if kind == "Task" and rng.random() < 0.04:
            return BOT  # recurring maintenance created by an automation rule
        role = {"Bug": "detect", "Incident": "incident", "Improvement": "improve"}.get(kind, "specify")
        return self.cast.who(rng, role, t)

    def _first_labels(self) -> list[str]:
        if self.type_name == "Incident":
            return ["production"]
        if self.reporter is not None and self.reporter.handle == "farid":
            return ["customer-reported"]
        return [self.rng.choice(LABELS)] if self.rng.random() < 0.2 else []

    def _first_priority(self) -> str:
        if self.type_name == "Incident":
            return self.rng.choice(("Highest", "High"))
        return self.rng.choices(PRIORITIES, weights=(1, 4, 10, 4, 1))[0]

    # -- the workflow ------------------------------------------------------------------------
    def run(self) -> None:
        """Play the ticket's whole life (past the end of the period too; the renderer cuts)."""
        if self.type_name in DEFECTS:
            self._defect()
        else:
            self._scope()
        self._sprinkle()
        if self.long:
            self._churn()

    def _close_early(self, p: float, actor: Person) -> bool:
        if self.rng.random() < p:
            self.move("Won't Do", actor)
            return True
        return False

    def _defect(self) -> None:
        rng = self.rng
        if rng.random() < 0.1:  # a duplicate or never picked up; often cleaned out of the backlog later
            if rng.random() < 0.6:
                self.wait(24 * 30)
                self.move("Won't Do", self.who("close"))
            return
        self.wait(1 if self.urgent else 20)
        investigator = self.who("investigate")
        self.move("Triage", investigator, assign=investigator)
        if self.reporter_side == CLIENT:
            # The partner's first response: slow and late in a win-lose setting, quick later.
            latency = 2 + 46 * (1 - self.cast.share("investigate", self.t))
            responder = self.cast.pick(rng, "investigate", PARTNER, self.t)
            self.say(responder, "triage", t=self.t + int(rng.expovariate(1 / latency) * HOUR) + 120)
        if rng.random() < 0.6:
            self.wait(3)
            self.say(investigator, "triage")
        if rng.random() < 0.15:
            self.act(investigator, ("summary", text.summary_tweak(rng)))
        if rng.random() < 0.1:
            self.act(investigator, ("description", text.description_edit(rng)))
        if self.reporter is not None and rng.random() < 0.3:
            self.wait(4)
            self.say(self.reporter, "general")
        self.wait(3 if self.urgent else 16)
        if self._close_early(0.15, investigator) or rng.random() < 0.03:
            return
        self._build(investigator if "develop" in investigator.roles else None)

    def _scope(self) -> None:
        rng, improvement = self.rng, self.type_name == "Improvement"
        backlog_until = self.t + int(rng.expovariate(1.0 / {"Improvement": 15, "Story": 8}.get(self.type_name, 4)) * DAY)
        if improvement:
            for _ in range(rng.randint(0, 3)):
                self.t = working(rng.randint(self.t, max(self.t, backlog_until)), rng)
                self.act(self.who("prioritise"), ("rank", rng.choice(("higher", "lower"))))
        self.t = working(max(self.t, backlog_until), rng)
        if self._close_early(0.12, self.who("close")):
            return
        self.move("Refinement", self.who("prioritise"))
        for _ in range(rng.randint(1, 3) if self.type_name != "Task" else rng.randint(0, 1)):
            self.wait(10)
            author = self.who("cospec")
            draw = rng.random()
            if draw < 0.55:
                self.say(author, "refine")
            elif draw < 0.9:
                self.act(author, ("description", text.description_edit(rng)))
            else:
                self.act(author, ("summary", text.summary_tweak(rng)))
        self.wait(20)
        if self._close_early(0.08, self.who("close")) or rng.random() < 0.03:
            return
        self._build(None)

    def _build(self, developer: Person | None) -> None:
        rng, cast = self.rng, self.cast
        dev = developer or cast.pick(rng, "develop", PARTNER, self.t)
        self.move("In Progress", dev, assign=dev)
        rejections = rng.randint(2, 6) if self.long else 0
        dev_hours = 4 if self.urgent else 14 if self.type_name == "Bug" else 30
        for _round in range(12):
            self.wait(dev_hours)
            if rng.random() < 0.25:
                self.say(dev, "develop")
            moved_by = dev if rng.random() < cast.share("interfere", self.t) else cast.pick(rng, "interfere", CLIENT, self.t)
            self.move("In Review", moved_by)
            self.wait(6)
            reviewer = cast.pick(rng, "review", PARTNER, self.t, avoid=dev)
            if rejections or rng.random() < 0.15:
                rejections = max(rejections - 1, 0)
                self.move("In Progress", reviewer)
                dev_hours = 6
                continue
            self.move("In QA", reviewer)
            self.wait(2 if self.urgent else 14)
            tester = self.who("test")
            if rng.random() < 0.25:
                self.say(tester, "test")
            if rng.random() < 0.12:
                self.move("In Progress", tester, assign=dev)
                continue
            if rng.random() < (0.7 if self.urgent else 0.45 if self.type_name == "Bug" else 0.2):
                self.move("Ready for Release", tester)
                break
            self.move("UAT", tester)
            self.wait(2 if self.urgent else 20)
            acceptor = self.who("accept")
            if rng.random() < 0.06:
                self.move("In Progress", acceptor, assign=dev)
                continue
            if rng.random() < 0.15:
                self.say(acceptor, "accept")
            self.move("Ready for Release", acceptor)
            break
        else:
            return  # gave up after too many rounds; stays where it is
        if self.rng.random() < 0.03:
            return  # waiting for a release that has not happened yet
        self.t = self.t + 2 * HOUR if self.urgent else release_slot(self.t, rng)
        deployer = self.who("deploy")
        self.move("Deployed", deployer)
        if rng.random() < 0.15:
            self.say(deployer, "release")
        draw = rng.random()
        if draw < 0.35:
            return  # Deployed is a done status too; many tickets are never closed beyond it
        if draw < 0.78:
            self.t += 7 * DAY
            self.move("Done", BOT)
            self.say(BOT, "bot")
            return
        self.wait(30)
        reporter_here = self.reporter is not None and cast.side_of(self.reporter, self.t) is not None
        closer = self.reporter if reporter_here and rng.random() < 0.4 else self.who("close")
        self.move("Done", closer)

    # -- changes that do not move the status --------------------------------------------------
    def _when(self) -> int:
        return working(self.rng.randint(self.created, max(self.created, self.t)), self.rng)

    def _sprinkle(self) -> None:
        rng, cast = self.rng, self.cast
        if rng.random() < 0.2:
            t = self._when()
            self.act(cast.who(rng, "comment", t), ("label_add", rng.choice(LABELS)), t=t)
        if rng.random() < (0.4 if self.type_name == "Improvement" else 0.12):
            t = self._when()
            self.act(cast.who(rng, "prioritise", t), ("priority", rng.choice(PRIORITIES)), t=t)
        if self.assignee is not None and rng.random() < 0.15:
            # Reassigned by the partner's team, or by a client person stepping in (less so later).
            t = self._when()
            leaves_it = rng.random() < cast.share("interfere", t)
            by = cast.pick(rng, "review", PARTNER, t) if leaves_it else cast.pick(rng, "interfere", CLIENT, t)
            self.act(by, ("assignee", cast.pick(rng, "develop", PARTNER, t)), t=t)
        for _ in range(rng.choices((0, 1, 2, 3), weights=(5, 3, 2, 1))[0]):
            t = self._when()
            self.say(cast.who(rng, "comment", t), "general", t=t)

    def _churn(self) -> None:
        """Over a hundred extra histories: a ticket dragged around the board for months."""
        rng = self.rng
        last = min(max(self.t, self.created + 60 * DAY), self.cast.end - 1)
        for _ in range(rng.randint(101, 140)):
            t = rng.randint(self.created, max(self.created, last))
            actor = self.cast.who(rng, "prioritise", t)
            if rng.random() < 0.8:
                self.act(actor, ("rank", rng.choice(("higher", "lower"))), t=t)
            else:
                self.act(actor, ("label_toggle", rng.choice(LABELS)), t=t)
