"""The fake GitHub's data: the scenario's records, their REST JSON serialized once, and the orders listings need.

Every object is turned into JSON bytes once, on first use, with its URLs pointing at the fake
(`{base}/api/v3/...` for the API, `{base}/owner/repo/...` for the web), and kept until a touch
changes its ticket. Listings join ready pieces. `touch()` adds an act to some tickets so that an
incremental sync has something to fetch.
"""
from __future__ import annotations

import bisect
import json
import threading
from dataclasses import dataclass, field
from random import Random
from typing import Any, Callable, Sequence

from simulator import github_shapes as shapes
from simulator.github_people import API, LOGINS, ORGS, PERSON_OF_LOGIN, WEB, full_user, members, org_object, orgs_of
from simulator.github_scenario import GitHubScenario, RepoData


@dataclass
class RepoIndex:
    """The orders one repository's listings are served in, rebuilt when a touch changes them."""

    data: RepoData
    by_number: dict[int, dict[str, Any]]
    by_updated: list[tuple[int, int]] = field(default_factory=list)  # (updated, number), oldest first
    events: list[tuple[int, int, int, int]] = field(default_factory=list)  # (-t, -id, number, position), newest first
    comments: list[tuple[int, int, int, int]] = field(default_factory=list)  # (id, created, number, position), by id
    comment_at: dict[int, tuple[int, int]] = field(default_factory=dict)  # comment id -> (number, position)

    def rebuild(self) -> None:
        """Sort the listings again after tickets changed."""
        tickets = self.data.tickets
        self.by_updated = sorted((t["updated"], t["number"]) for t in tickets)
        self.events = sorted((-e["t"], -e["id"], t["number"], i) for t in tickets for i, e in enumerate(t["events"]))
        self.comments = sorted((c["id"], c["t"], t["number"], i) for t in tickets for i, c in enumerate(t["comments"]))
        self.comment_at = {c[0]: (c[2], c[3]) for c in self.comments}


class GitHubStore:
    """Serialized views of a `GitHubScenario` for the fake server at `base_url`."""

    def __init__(self, scenario: GitHubScenario, base_url: str) -> None:
        self.scenario, self.base_url = scenario, base_url.rstrip("/")
        self.api_url = f"{self.base_url}/api/v3"
        self.lock = threading.RLock()
        self.repos: dict[str, RepoIndex] = {}
        self.by_id: dict[int, RepoIndex] = {}
        self.nodes: dict[str, tuple[RepoIndex, dict[str, Any]]] = {}
        self.deployment_nodes: dict[str, dict[str, Any]] = {}  # GraphQL global id -> deployment
        for data in scenario.repos:
            index = RepoIndex(data, {t["number"]: t for t in data.tickets})
            index.rebuild()
            self.repos[data.repo.full_name.lower()] = index
            self.by_id[data.repo.repo_id] = index
            self.nodes.update((t["node_id"], (index, t)) for t in data.tickets)
            self.deployment_nodes.update((shapes.node_id("DE", d["id"]), d) for d in data.deployments)
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._touches = 0

    # -- serializing ----------------------------------------------------------------------------

    def serialize(self, value: Any) -> bytes:
        """JSON bytes with github.com's URLs turned into the fake's."""
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return text.replace(API, self.api_url).replace(WEB, self.base_url).encode()

    def _cached(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = build()
        return found

    def repo(self, owner: str, name: str) -> RepoIndex | None:
        """The repository `owner/name` (case-insensitive), or None."""
        return self.repos.get(f"{owner}/{name}".lower())

    def repository_json(self, index: RepoIndex) -> dict[str, Any]:
        """The repository object (a dict; the pull requests' `head.repo` and `base.repo` embed it)."""
        def build() -> dict[str, Any]:
            tickets = index.data.tickets
            # Pushes move a repository's pushed_at and updated_at; comments and labels do not.
            pushed = max([index.data.repo.created, *(t["merged"] for t in tickets if t["merged"] is not None)])
            open_count = sum(t["state"] == "open" for t in tickets)
            return shapes.repository(index.data.repo, pushed, open_count)
        return self._cached(("repo-json", index.data.repo.repo_id), build)

    def repository(self, index: RepoIndex) -> bytes:
        """`GET /repos/{owner}/{repo}` as JSON bytes."""
        return self._cached(("repo", index.data.repo.repo_id), lambda: self.serialize(self.repository_json(index)))

    def issue(self, index: RepoIndex, ticket: dict[str, Any]) -> bytes:
        """The ticket as an item of the issues listing, as JSON bytes."""
        key = ("issue", index.data.repo.repo_id, ticket["number"])
        return self._cached(key, lambda: self.serialize(shapes.issue(index.data.repo, ticket)))

    def pull(self, index: RepoIndex, ticket: dict[str, Any], listed: bool = False) -> bytes:
        """The pull request as `/pulls/{number}` returns it, or (`listed`) as an item of `/pulls`."""
        def build() -> bytes:
            whole = shapes.pull(index.data.repo, ticket, self.repository_json(index))
            if listed:
                for name in ("merged", "mergeable", "rebaseable", "mergeable_state", "merged_by", "comments",
                             "review_comments", "maintainer_can_modify", "commits", "additions", "deletions",
                             "changed_files"):
                    whole.pop(name, None)
            return self.serialize(whole)
        return self._cached(("pull", index.data.repo.repo_id, ticket["number"], listed), build)

    def pieces(self, index: RepoIndex, ticket: dict[str, Any], kind: str) -> list[bytes]:
        """A ticket's comments, events, reviews, commits, review comments or reactions, oldest first."""
        repo, number = index.data.repo, ticket["number"]

        def build() -> list[bytes]:
            head = ticket["commits"][-1]["sha"] if ticket["commits"] else "0" * 40
            if kind == "comments":
                return [self.serialize(shapes.comment(repo, number, c)) for c in ticket["comments"]]
            if kind == "events":
                return [self.serialize(shapes.event(repo, e)) for e in ticket["events"]]
            if kind == "reviews":
                return [self.serialize(shapes.review(repo, number, r, head)) for r in ticket["reviews"]]
            if kind == "review_comments":
                return [self.serialize(shapes.review_comment(repo, number, c, head)) for c in ticket["review_comments"]]
            if kind == "reactions":
                return [self.serialize(shapes.reaction(r)) for r in ticket["reactions"]]
            if kind == "commits":
                return [self.serialize(shapes.commit(repo, c, *self._signature(c["author"])))
                        for c in ticket["commits"]]
            raise KeyError(kind)
        return self._cached((kind, repo.repo_id, number), build)

    def comment_reactions(self, index: RepoIndex, ticket: dict[str, Any], position: int) -> list[bytes]:
        """The reactions to the ticket's `position`-th comment."""
        comment = ticket["comments"][position]
        return self._cached(("comment-reactions", comment["id"]),
                            lambda: [self.serialize(shapes.reaction(r)) for r in comment["reactions"]])

    def repo_event(self, index: RepoIndex, number: int, position: int) -> bytes:
        """An event as the repository listing has it: with the (current) issue embedded."""
        ticket = index.by_number[number]
        piece = self.pieces(index, ticket, "events")[position]
        return piece[:-1] + b',"issue":' + self.issue(index, ticket) + b"}"

    def deployments(self, index: RepoIndex) -> list[tuple[dict[str, Any], bytes]]:
        """(record, JSON) of each deployment, newest first, as GitHub lists them."""
        repo = index.data.repo
        return self._cached(("deployments", repo.repo_id), lambda: [
            (d, self.serialize(shapes.deployment(repo, d))) for d in reversed(index.data.deployments)])

    def statuses(self, index: RepoIndex, deployment: dict[str, Any]) -> list[bytes]:
        """A deployment's statuses, newest first."""
        repo = index.data.repo
        return self._cached(("statuses", deployment["id"]), lambda: [
            self.serialize(shapes.deployment_status(repo, deployment["id"], deployment["environment"], s))
            for s in reversed(deployment["statuses"])])

    def releases(self, index: RepoIndex) -> list[bytes]:
        """The repository's releases, newest first."""
        repo = index.data.repo
        return self._cached(("releases", repo.repo_id), lambda: [
            self.serialize(shapes.release(repo, r)) for r in sorted(index.data.releases, key=lambda r: -r["id"])])

    def user(self, login: str) -> bytes | None:
        """`GET /users/{login}` for a login the scenario knows, else None."""
        if login not in PERSON_OF_LOGIN and login not in ("ghost", "dependabot[bot]"):
            return None
        return self._cached(("user", login), lambda: self.serialize(full_user(login)))

    def user_orgs(self, login: str) -> bytes:
        """The public organisations of a user."""
        return self._cached(("user-orgs", login), lambda: self.serialize([org_object(o) for o in orgs_of(login)]))

    def org(self, org: str) -> bytes | None:
        """`GET /orgs/{org}` for the scenario's organisations, else None."""
        if org not in {r.data.repo.owner for r in self.repos.values()} | set(_org_logins()):
            return None
        return self._cached(("org", org), lambda: self.serialize(
            org_object(org, full=True) if org in _org_logins() else org_object(org)))

    def org_members(self, org: str) -> list[bytes]:
        """Members of an organisation as simple user objects."""
        found = members(org) if org in _org_logins() else []
        return [self.serialize(shapes.user(login)) for login in found]

    @staticmethod
    def _signature(login: str) -> tuple[str, str]:
        person = PERSON_OF_LOGIN.get(login)
        name = person.name if person else login
        return name, f"{shapes.user(login)['id']}+{login}@users.noreply.github.com"

    # -- changing -------------------------------------------------------------------------------

    def touch(self, keys: Sequence[str] | None = None, count: int | None = None, at: int | None = None) -> list[str]:
        """Comment on and label some tickets (`owner/repo#N`, else `count` drawn by a seeded draw).

        Each touched ticket gets a comment and a `labeled` event at `at` (default: a minute after
        the newest update anywhere), two seconds apart in the order given, and `updated_at` moves
        there. Returns the keys touched. Raises KeyError naming an unknown key.
        """
        with self.lock:
            self._touches += 1
            everything = [(index, t) for index in self.repos.values() for t in index.data.tickets]
            if keys is None:
                picked = Random(f"touch:{self._touches}").sample(everything, min(count or 0, len(everything)))
            else:
                picked = [self._find(key) for key in keys]
            newest = max(t["updated"] for _, t in everything)
            start = at if at is not None else newest + 60
            name = f"touched-{self._touches}"
            next_event = max((e["id"] for _, t in everything for e in t["events"]), default=15_000_000_000) + 1
            next_comment = max((c["id"] for _, t in everything for c in t["comments"]), default=2_150_000_000) + 1
            people = sorted(LOGINS.values())
            for offset, (index, ticket) in enumerate(picked):
                moment = start + 2 * offset
                actor = ticket["author"] if ticket["author"] in PERSON_OF_LOGIN else people[offset % len(people)]
                ticket["events"].append({"t": moment, "seq": 0, "event": "labeled", "actor": actor, "label": name,
                                         "id": next_event + offset})
                ticket["comments"].append({"t": moment, "seq": 0, "author": people[(offset + 3) % len(people)],
                                           "body": "Any update on this?", "edited": 0, "reactions": [],
                                           "id": next_comment + offset})
                if name not in ticket["labels"]:
                    ticket["labels"] = [*ticket["labels"], name]
                ticket["updated"], ticket["comment_count"] = moment, len(ticket["comments"])
                repo_id, number = index.data.repo.repo_id, ticket["number"]
                for kind in ("issue", "events", "comments"):
                    self._cache.pop((kind, repo_id, number), None)
                for listed in (False, True):
                    self._cache.pop(("pull", repo_id, number, listed), None)
            for index in {id(i): i for i, _ in picked}.values():
                index.rebuild()
            return [f"{index.data.repo.full_name}#{ticket['number']}" for index, ticket in picked]

    def add_status(self, repo: str, deployment_id: int, state: str, creator: str, at: int | None = None) -> dict[str, Any]:
        """Add a status to a deployment of `repo` (`owner/name`), at `at` (default: a minute after the newest act).

        Deployments get statuses long after they were made (GitHub marks the one a newer success
        replaces `inactive`); this lets an incremental sync meet one. Returns the new status.
        Raises KeyError naming an unknown repository or deployment.
        """
        with self.lock:
            index = self.repos.get(repo.lower())
            deployment = next((d for d in index.data.deployments if d["id"] == deployment_id), None) if index else None
            if index is None or deployment is None:
                raise KeyError(f"{repo} deployment {deployment_id}")
            everything = [d for i in self.repos.values() for d in i.data.deployments]
            newest = max([self.newest_updated(), *(d["updated"] for d in everything)])
            status = {"t": at if at is not None else newest + 60, "state": state, "creator": creator,
                      "description": f"Deployment {state}",
                      "id": max((s["id"] for d in everything for s in d["statuses"]), default=2_600_000_000) + 1}
            deployment["statuses"].append(status)
            deployment["updated"] = max(deployment["updated"], status["t"])
            self._cache.pop(("deployments", index.data.repo.repo_id), None)
            self._cache.pop(("statuses", deployment_id), None)
            return status

    def _find(self, key: str) -> tuple[RepoIndex, dict[str, Any]]:
        name, _, number = key.partition("#")
        index = self.repos.get(name.lower())
        ticket = index.by_number.get(int(number)) if index is not None and number.isdigit() else None
        if index is None or ticket is None:
            raise KeyError(key)
        return index, ticket

    def newest_updated(self) -> int:
        """The latest `updated_at` of any ticket (epoch seconds)."""
        return max(t["updated"] for index in self.repos.values() for t in index.data.tickets)


def _org_logins() -> list[str]:
    return list(ORGS.values())


def position_of(items: list[tuple[int, int]], updated: int) -> int:
    """Where the first ticket updated at or after `updated` sits in a (updated, number) list."""
    return bisect.bisect_left(items, (updated, -1))
