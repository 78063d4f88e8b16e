"""The demo scenario on GitHub: Acme's repositories worked on by Acme (client) and Nordlys (partner).

`generate(tickets, seed=7)` plays `tickets` issues and pull requests (about half each) over the
same period and with the same cast and win-lose → win-win shift as the Jira demo
(`simulator.cast`): early on the client reports, tests, accepts and deploys; later the partner
does (with `shift=False` each side keeps one share all period). Issues are labelled (bug,
enhancement, feature), triaged, assigned and discussed; about two in three pull requests say
"Fixes #N" for an open issue and close it when merged, after which a tester labels it
`qa-passed` and someone `verified` (bugs) or `accepted` (features). Pull requests get commits,
two reviews on average and are mostly merged; merged work goes out on the release train
(Tuesdays and Thursdays) as a staging then a production deployment with statuses, and a
release. Every act is recorded with its time; acts after the end of the period are cut, so late
tickets are still open. Records are plain dicts (`simulator.github_shapes` turns them into REST
JSON); ids grow with time, as GitHub's do. Same arguments, same data.

Logins: `simulator.github_people` (`LOGINS`, `github_scenario_config()`).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from random import Random
from typing import Any

from simulator.cast import DAY, HOUR, Cast, release_slot, working
from simulator.github_people import LOGINS, github_scenario_config
from simulator.github_play import Play
from simulator.github_shapes import Repo, node_id
from simulator.people import add_months, move_date

__all__ = ["REPOS", "GitHubScenario", "RepoData", "generate", "github_scenario_config", "LOGINS"]

REPOS = (("acme", "webshop", "SHOP", 6), ("acme", "payments", "PAY", 4))  # owner, name, text area, weight
KINDS, KIND_WEIGHTS = ("bug", "enhancement", "feature"), (45, 30, 25)


@dataclass
class RepoData:
    """One repository's tickets (index = number - 1), deployments (with statuses) and releases."""

    repo: Repo
    area: str
    tickets: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class GitHubScenario:
    """The whole scenario: repositories and the period (epoch seconds) it covers."""

    repos: list[RepoData]
    start: int
    end: int
    seed: int

    def counts(self) -> dict[str, int]:
        """How many tickets, pull requests, comments, events, reviews, deployments and releases there are."""
        tickets = [t for r in self.repos for t in r.tickets]
        return {"tickets": len(tickets), "pulls": sum(t["pull"] for t in tickets),
                "comments": sum(len(t["comments"]) for t in tickets), "events": sum(len(t["events"]) for t in tickets),
                "reviews": sum(len(t["reviews"]) for t in tickets),
                "deployments": sum(len(r.deployments) for r in self.repos),
                "releases": sum(len(r.releases) for r in self.repos)}


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


def _ticket(number: int, pull: bool, created: int, kind: str) -> dict[str, Any]:
    return {"number": number, "pull": pull, "created": created, "kind": kind, "author": None, "title": "",
            "first_title": "", "body": None, "events": [], "comments": [], "reviews": [], "review_comments": [],
            "commits": [], "reactions": [], "head_ref": None, "merge_sha": None, "base_sha": None,
            "additions": 0, "deletions": 0, "changed_files": 0}


def generate(
    tickets: int = 2000, *, seed: int = 7, start: date = date(2025, 1, 1), months: int = 18,
    repos: tuple[tuple[str, str, str, int], ...] = REPOS, shift: bool = True,
) -> GitHubScenario:
    """`tickets` issues and pull requests over `months` months from `start` in `repos` (owner, name, area, weight).

    `shift=False` keeps every role's partner share steady (the control without a change)."""
    if tickets < 0 or months < 1 or not repos:
        raise ValueError("tickets must be >= 0, months >= 1 and at least one repository given")
    rng = Random(f"github:{seed}")
    first, end = _epoch(start), _epoch(add_months(start, months))
    cast = Cast(first, end, _epoch(move_date(start, months)), shift=shift)
    data = [RepoData(Repo(owner, name, 700_000_001 + i, first - 400 * DAY + i * 9 * DAY), area)
            for i, (owner, name, area, _) in enumerate(repos)]
    created = []
    for _ in range(tickets):
        t = first + rng.randrange(end - first)
        snapped = working(t, rng)  # people open tickets in working hours
        created.append(snapped if snapped < end else t)
    created.sort()
    seq = [0]
    waiting: list[list[tuple[int, Play]]] = [[] for _ in data]  # issues ready for a fix, per repository
    merges: list[list[tuple[int, str, int, str]]] = [[] for _ in data]
    for t in created:
        index = rng.choices(range(len(data)), weights=[w for *_, w in repos])[0]
        repo = data[index]
        pull = rng.random() < 0.5
        ticket = _ticket(len(repo.tickets) + 1, pull, t, rng.choices(KINDS, weights=KIND_WEIGHTS)[0])
        repo.tickets.append(ticket)
        play = Play(rng, cast, seq, ticket)
        if not pull:
            if play.open_issue(repo.area):
                waiting[index].append((play.t, play))
            continue
        ready = [entry for entry in waiting[index] if entry[0] < t]
        fixed = rng.choice(ready)[1] if ready and rng.random() < 0.8 else None
        if fixed is not None:
            waiting[index].remove(next(e for e in waiting[index] if e[1] is fixed))
        closes = fixed is not None and rng.random() < 0.9
        about = {**fixed.ticket, "closes": closes} if fixed is not None else None
        merged = play.open_pull(repo.area, about)
        if merged is not None:
            merges[index].append((merged[0], merged[2], ticket["number"], ticket["title"]))
            if fixed is not None and closes:
                fixed.verify(*merged)
    for index, repo in enumerate(data):
        _deploy(repo, sorted(merges[index]), cast, rng, end)
    _finish(data, end)
    return GitHubScenario(data, first, end, seed)


def _deploy(repo: RepoData, merges: list[tuple[int, str, int, str]], cast: Cast, rng: Random, end: int) -> None:
    """Release trains: merged work goes to staging, then production, with statuses and a release."""
    shipped, minor, patch = 0, 0, 0
    slot = release_slot(min((m[0] for m in merges), default=end), rng)
    while slot < end and shipped < len(merges):
        batch = [m for m in merges[shipped:] if m[0] < slot]
        if batch:
            shipped += len(batch)
            sha = batch[-1][1]
            minor, patch = (minor + 1, 0) if len(batch) > 2 else (minor, patch + 1)
            tag = f"v1.{minor}.{patch}"
            failed = False
            for environment, at in (("staging", slot), ("production", slot + 2 * HOUR + rng.randrange(HOUR))):
                if failed:
                    break
                deployer = LOGINS[cast.who(rng, "deploy", at).handle]
                failed = rng.random() < 0.05
                outcome = "failure" if failed else "success"
                reporter = "github-actions[bot]" if rng.random() < 0.3 else deployer
                statuses = [{"t": at + 30, "state": "in_progress", "creator": deployer, "description": "Deploying"},
                            {"t": at + rng.randrange(240, 900), "state": outcome, "creator": reporter,
                             "description": f"Deployment {outcome}"}]
                repo.deployments.append({"t": at, "environment": environment, "creator": deployer, "sha": sha,
                                         "ref": tag if environment == "production" else "main",
                                         "description": f"Deploy {tag} to {environment}", "statuses": statuses})
                if environment == "production" and not failed:
                    notes = "\n".join(f"* {title} (#{number})" for _, _, number, title in batch)
                    repo.releases.append({"t": at + 300, "tag": tag, "author": deployer, "draft": False,
                                          "body": f"## What's changed\n{notes}"})
        slot = release_slot(slot + HOUR, rng)
    if shipped < len(merges):  # merged after the last train: a draft of the next release
        repo.releases.append({"t": merges[-1][0] + HOUR, "tag": f"v1.{minor + 1}.0", "author": None, "draft": True,
                              "body": "Draft"})


def _finish(data: list[RepoData], end: int) -> None:
    """Cut acts after the end, replay each ticket's state, space `updated` 2 s apart, number everything by time."""
    for repo in data:
        for ticket in repo.tickets:
            for name in ("events", "comments", "reviews", "review_comments", "reactions"):
                ticket[name] = sorted((x for x in ticket[name] if x["t"] < end), key=lambda x: (x["t"], x["seq"]))
            ticket["review_comments"] = [c for c in ticket["review_comments"] if c["review"]["t"] < end]
            ticket["commits"] = [c for c in ticket["commits"] if c["t"] < end]
            for comment in ticket["comments"]:
                comment["reactions"] = [r for r in comment["reactions"] if r["t"] < end]
                comment["edited"] = min(comment["edited"], max(end - 1 - comment["t"], 0))
            _replay(ticket)
        last = -1
        for ticket in sorted(repo.tickets, key=lambda x: (x["updated"], x["number"])):
            ticket["updated"] = max(ticket["updated"], last + 2)  # distinct seconds keep keyset paging exact
            last = ticket["updated"]
        repo.deployments = [d for d in repo.deployments if d["t"] < end]
        for deployment in repo.deployments:
            deployment["statuses"] = [s for s in deployment["statuses"] if s["t"] < end]
            deployment["updated"] = max([deployment["t"], *(s["t"] for s in deployment["statuses"])])
        repo.releases = [r for r in repo.releases if r["t"] < end]
    _number(data)


def _replay(ticket: dict[str, Any]) -> None:
    labels: list[str] = []
    assignees: list[str] = []
    requested: list[str] = []
    state, reason, closed, closed_by, merged, merged_by = "open", None, None, None, None, None
    title = ticket["first_title"]
    timeline = sorted([(e["t"], e["seq"], "event", e) for e in ticket["events"]]
                      + [(r["t"], r["seq"], "review", r) for r in ticket["reviews"]])
    for _, _, what, item in timeline:
        if what == "review":
            requested = [login for login in requested if login != item["author"]]
            continue
        kind = item["event"]
        if kind == "labeled" and item["label"] not in labels:
            labels.append(item["label"])
        elif kind == "assigned" and item["assignee"] not in assignees:
            assignees.append(item["assignee"])
        elif kind == "review_requested" and item["reviewer"] not in requested:
            requested.append(item["reviewer"])
        elif kind == "closed":
            state, closed, closed_by, reason = "closed", item["t"], item["actor"], item.get("state_reason")
        elif kind == "reopened":
            state, closed, closed_by, reason = "open", None, None, "reopened"
        elif kind == "merged":
            merged, merged_by = item["t"], item["actor"]
        elif kind == "renamed":
            title = item["to"]
    times = [ticket["created"], *(x["t"] for x in ticket["events"]), *(x["t"] for x in ticket["reviews"]),
             *(c["t"] + c["edited"] for c in ticket["comments"]), *(x["t"] for x in ticket["review_comments"]),
             *(c["t"] for c in ticket["commits"])]
    ticket.update(labels=labels, assignees=assignees, requested=requested if state == "open" else [], state=state,
                  state_reason=reason if not ticket["pull"] else None, closed=closed, closed_by=closed_by,
                  merged=merged, merged_by=merged_by, title=title, updated=max(times),
                  comment_count=len(ticket["comments"]))
    if ticket["pull"] and merged is None:
        ticket["merge_sha"] = None


def _number(data: list[RepoData]) -> None:
    """Ids in time order per kind of object, from the bases GitHub's ids had around 2025."""
    def assign(items: list[dict[str, Any]], base: int) -> None:
        for offset, item in enumerate(sorted(items, key=lambda x: (x["t"], x.get("seq", 0)))):
            item["id"] = base + offset

    tickets = [t for repo in data for t in repo.tickets]
    for offset, ticket in enumerate(sorted(tickets, key=lambda x: x["created"])):
        ticket["id"] = 2_400_000_001 + offset
        ticket["pull_id"] = 1_900_000_001 + offset if ticket["pull"] else None
    for repo in data:
        for ticket in repo.tickets:
            ticket["node_id"] = node_id("PR" if ticket["pull"] else "I", repo.repo.repo_id, ticket["number"])
    assign([e for t in tickets for e in t["events"]], 15_000_000_001)
    assign([c for t in tickets for c in t["comments"]], 2_150_000_001)
    assign([r for t in tickets for r in t["reviews"]], 1_850_000_001)
    assign([c for t in tickets for c in t["review_comments"]], 1_600_000_001)
    assign([r for t in tickets for r in t["reactions"]] + [r for t in tickets for c in t["comments"]
                                                           for r in c["reactions"]], 250_000_001)
    for ticket in tickets:
        for review_comment in ticket["review_comments"]:
            review_comment["review_id"] = review_comment.pop("review")["id"]
    deployments = [d for repo in data for d in repo.deployments]
    assign(deployments, 1_300_000_001)
    assign([s for d in deployments for s in d["statuses"]], 2_600_000_001)
    assign([r for repo in data for r in repo.releases], 170_000_001)


def fingerprint(scenario: GitHubScenario) -> str:
    """A digest of the whole scenario, for tests that it is deterministic."""
    digest = hashlib.sha256()
    for repo in scenario.repos:
        digest.update(repr((repo.repo, repo.tickets, repo.deployments, repo.releases)).encode())
    return digest.hexdigest()
