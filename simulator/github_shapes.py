"""GitHub REST JSON for the fake: repositories, issues, pull requests, comments, events, reviews, deployments.

Shapes follow GitHub's REST reference and its recorded answers (every documented key, `null`
where a value is absent): https://docs.github.com/en/rest/issues/issues ,
https://docs.github.com/en/rest/issues/events , https://docs.github.com/en/rest/issues/comments ,
https://docs.github.com/en/rest/pulls/pulls , https://docs.github.com/en/rest/pulls/reviews ,
https://docs.github.com/en/rest/deployments , https://docs.github.com/en/rest/releases/releases .
URLs point at api.github.com / github.com; the fake rewrites them to its own address.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from simulator.github_people import API, GHOST, WEB, association, simple_user

REACTIONS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")
LABEL_COLOURS = {"bug": ("d73a4a", "Something isn't working", True),
                 "enhancement": ("a2eeef", "New feature or request", True),
                 "feature": ("0e8a16", "A new capability for customers", False),
                 "qa-passed": ("5319e7", "Passed system and integration testing", False),
                 "verified": ("1d76db", "Fix verified by the reporter's side", False),
                 "accepted": ("0052cc", "Accepted in UAT", False)}


def iso(t: int | float) -> str:
    """Epoch seconds as GitHub writes times: `2025-03-04T10:15:30Z`."""
    return datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(prefix: str, *parts: int) -> str:
    """An opaque, stable global node id with GitHub's type prefix (`I_kwDO…`, `PR_kwDO…`)."""
    raw = b":".join(str(p).encode() for p in parts)
    return f"{prefix}_kwDO" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def user(login: str | None) -> dict[str, Any] | None:
    """The embedded user object; deleted accounts show as GitHub's `ghost`."""
    return None if login is None else simple_user(login)


@dataclass(frozen=True, slots=True)
class Repo:
    """Where a repository's objects live: owner, name and the numeric id GitHub's Link URLs use."""

    owner: str
    name: str
    repo_id: int
    created: int

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def api(self) -> str:
        return f"{API}/repos/{self.full_name}"

    @property
    def web(self) -> str:
        return f"{WEB}/{self.full_name}"


def label(repo: Repo, name: str) -> dict[str, Any]:
    """A label object with a stable id, GitHub's colour and description for the default labels."""
    colour, description, default = LABEL_COLOURS.get(name, ("ededed", None, False))
    label_id = 5_000_000_000 + repo.repo_id % 1000 * 1000 + sorted({*LABEL_COLOURS, name}).index(name)
    return {"id": label_id, "node_id": node_id("LA", repo.repo_id, label_id), "url": f"{repo.api}/labels/{name}",
            "name": name, "color": colour, "default": default, "description": description}


def reaction_summary(url: str, contents: list[str]) -> dict[str, Any]:
    """The `reactions` rollup of an issue or comment."""
    summary: dict[str, Any] = {"url": url, "total_count": len(contents)}
    summary.update({kind: contents.count(kind) for kind in REACTIONS})
    return summary


def repository(repo: Repo, pushed: int, open_issues: int) -> dict[str, Any]:
    """`GET /repos/{owner}/{repo}` (a full repository, as an organisation member with push access sees it)."""
    api, owner = repo.api, simple_user(repo.owner)
    owner.update(type="Organization", node_id=node_id("O", repo.repo_id))
    hooks = {name: f"{api}/{path}" for name, path in (
        ("forks_url", "forks"), ("keys_url", "keys{/key_id}"), ("collaborators_url", "collaborators{/collaborator}"),
        ("teams_url", "teams"), ("hooks_url", "hooks"), ("issue_events_url", "issues/events{/number}"),
        ("events_url", "events"), ("assignees_url", "assignees{/user}"), ("branches_url", "branches{/branch}"),
        ("tags_url", "tags"), ("blobs_url", "git/blobs{/sha}"), ("git_tags_url", "git/tags{/sha}"),
        ("git_refs_url", "git/refs{/sha}"), ("trees_url", "git/trees{/sha}"), ("statuses_url", "statuses/{sha}"),
        ("languages_url", "languages"), ("stargazers_url", "stargazers"), ("contributors_url", "contributors"),
        ("subscribers_url", "subscribers"), ("subscription_url", "subscription"), ("commits_url", "commits{/sha}"),
        ("git_commits_url", "git/commits{/sha}"), ("comments_url", "comments{/number}"),
        ("issue_comment_url", "issues/comments{/number}"), ("contents_url", "contents/{+path}"),
        ("compare_url", "compare/{base}...{head}"), ("merges_url", "merges"), ("archive_url", "{archive_format}{/ref}"),
        ("downloads_url", "downloads"), ("issues_url", "issues{/number}"), ("pulls_url", "pulls{/number}"),
        ("milestones_url", "milestones{/number}"), ("notifications_url", "notifications{?since,all,participating}"),
        ("labels_url", "labels{/name}"), ("releases_url", "releases{/id}"), ("deployments_url", "deployments"))}
    return {
        "id": repo.repo_id, "node_id": node_id("R", repo.repo_id), "name": repo.name, "full_name": repo.full_name,
        "private": True, "owner": owner, "html_url": repo.web, "description": f"Acme {repo.name}", "fork": False,
        "url": api, **hooks, "created_at": iso(repo.created), "updated_at": iso(pushed), "pushed_at": iso(pushed),
        "git_url": f"git://github.com/{repo.full_name}.git", "ssh_url": f"git@github.com:{repo.full_name}.git",
        "clone_url": f"{repo.web}.git", "svn_url": repo.web, "homepage": None, "size": 18342,
        "stargazers_count": 4, "watchers_count": 4, "language": "Python", "has_issues": True, "has_projects": True,
        "has_downloads": True, "has_wiki": False, "has_pages": False, "has_discussions": False, "forks_count": 0,
        "mirror_url": None, "archived": False, "disabled": False, "open_issues_count": open_issues,
        "license": None, "allow_forking": False, "is_template": False, "web_commit_signoff_required": False,
        "topics": [], "visibility": "private", "forks": 0, "open_issues": open_issues, "watchers": 4,
        "default_branch": "main", "permissions": {"admin": False, "maintain": False, "push": True, "triage": True,
                                                  "pull": True},
        "network_count": 0, "subscribers_count": 9,
    }


def issue(repo: Repo, t: dict[str, Any]) -> dict[str, Any]:
    """An item of `GET /repos/{owner}/{repo}/issues` from a ticket's state (a pull request carries `pull_request`)."""
    number, api = t["number"], f"{repo.api}/issues/{t['number']}"
    kind = "pull" if t["pull"] else "issues"
    assignees = [simple_user(login) for login in t["assignees"]]
    item: dict[str, Any] = {
        "url": api, "repository_url": repo.api, "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments", "events_url": f"{api}/events", "html_url": f"{repo.web}/{kind}/{number}",
        "id": t["id"], "node_id": t["node_id"], "number": number, "title": t["title"], "user": user(t["author"]),
        "labels": [label(repo, name) for name in t["labels"]], "state": t["state"], "locked": False,
        "assignee": assignees[0] if assignees else None, "assignees": assignees, "milestone": None,
        "comments": t["comment_count"], "created_at": iso(t["created"]), "updated_at": iso(t["updated"]),
        "closed_at": iso(t["closed"]) if t["closed"] is not None else None,
        "author_association": association(t["author"] or GHOST["login"], repo.owner), "type": None,
        "active_lock_reason": None, "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
    }
    if t["pull"]:
        pulls = f"{repo.api}/pulls/{number}"
        item["draft"] = False
        item["pull_request"] = {"url": pulls, "html_url": f"{repo.web}/pull/{number}",
                                "diff_url": f"{repo.web}/pull/{number}.diff",
                                "patch_url": f"{repo.web}/pull/{number}.patch",
                                "merged_at": iso(t["merged"]) if t["merged"] is not None else None}
    item.update(body=t["body"], closed_by=user(t["closed_by"]) if t["state"] == "closed" else None,
                reactions=reaction_summary(f"{api}/reactions", [r["content"] for r in t["reactions"]]),
                timeline_url=f"{api}/timeline", performed_via_github_app=None, state_reason=t["state_reason"])
    return item


def comment(repo: Repo, number: int, c: dict[str, Any]) -> dict[str, Any]:
    """An issue comment (`issue_url` names its issue); `reactions` sums the comment's reactions."""
    api = f"{repo.api}/issues/comments/{c['id']}"
    return {
        "url": api, "html_url": f"{repo.web}/issues/{number}#issuecomment-{c['id']}",
        "issue_url": f"{repo.api}/issues/{number}", "id": c["id"], "node_id": node_id("IC", c["id"]),
        "user": user(c["author"]), "created_at": iso(c["t"]), "updated_at": iso(c["t"] + c["edited"]),
        "author_association": association(c["author"] or GHOST["login"], repo.owner), "body": c["body"],
        "reactions": reaction_summary(f"{api}/reactions", [r["content"] for r in c["reactions"]]),
        "performed_via_github_app": None,
    }


_EVENT_PREFIX = {"labeled": "LE", "unlabeled": "UNLE", "assigned": "AE", "unassigned": "UAE", "closed": "CE",
                 "reopened": "REE", "merged": "ME", "renamed": "RTE", "review_requested": "RRE",
                 "subscribed": "SE", "mentioned": "MEE", "head_ref_force_pushed": "HRFPE",
                 "head_ref_deleted": "HRDE", "ready_for_review": "RFRE", "referenced": "REFE"}


def event(repo: Repo, e: dict[str, Any]) -> dict[str, Any]:
    """An issue event as `/issues/{number}/events` lists it (the repository listing adds `issue`)."""
    kind = e["event"]
    item: dict[str, Any] = {
        "id": e["id"], "node_id": f"{_EVENT_PREFIX.get(kind, 'E')}_lADO" + node_id("", e["id"])[5:],
        "url": f"{repo.api}/issues/events/{e['id']}", "actor": user(e["actor"]), "event": kind,
        "commit_id": e.get("commit_id"),
        "commit_url": f"{repo.api}/commits/{e['commit_id']}" if e.get("commit_id") else None,
        "created_at": iso(e["t"]),
    }
    if kind in ("labeled", "unlabeled"):
        item["label"] = {"name": e["label"], "color": LABEL_COLOURS.get(e["label"], ("ededed",))[0]}
    elif kind in ("assigned", "unassigned"):
        item["assignee"], item["assigner"] = user(e["assignee"]), user(e["assigner"])
    elif kind == "renamed":
        item["rename"] = {"from": e["from"], "to": e["to"]}
    elif kind == "review_requested":
        item["review_requester"], item["requested_reviewer"] = user(e["actor"]), user(e["reviewer"])
    if kind in ("closed", "reopened"):
        item["state_reason"] = e.get("state_reason")
    item["performed_via_github_app"] = None
    return item


def review(repo: Repo, number: int, r: dict[str, Any], head_sha: str) -> dict[str, Any]:
    """An item of `/pulls/{number}/reviews`."""
    html = f"{repo.web}/pull/{number}#pullrequestreview-{r['id']}"
    return {"id": r["id"], "node_id": node_id("PRR", r["id"]), "user": user(r["author"]), "body": r["body"],
            "state": r["state"], "html_url": html, "pull_request_url": f"{repo.api}/pulls/{number}",
            "author_association": association(r["author"] or GHOST["login"], repo.owner),
            "_links": {"html": {"href": html}, "pull_request": {"href": f"{repo.api}/pulls/{number}"}},
            "submitted_at": iso(r["t"]), "commit_id": head_sha}


def commit(repo: Repo, c: dict[str, Any], person_name: str, email: str) -> dict[str, Any]:
    """An item of `/pulls/{number}/commits`."""
    sha, when = c["sha"], iso(c["t"])
    signature = {"name": person_name, "email": email, "date": when}
    return {"sha": sha, "node_id": node_id("C", c["t"]), "url": f"{repo.api}/commits/{sha}",
            "html_url": f"{repo.web}/commit/{sha}", "comments_url": f"{repo.api}/commits/{sha}/comments",
            "commit": {"author": signature, "committer": signature, "message": c["message"],
                       "tree": {"sha": sha[::-1], "url": f"{repo.api}/git/trees/{sha[::-1]}"},
                       "url": f"{repo.api}/git/commits/{sha}", "comment_count": 0,
                       "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                                        "verified_at": None}},
            "author": user(c["author"]), "committer": user(c["author"]), "parents": []}


def review_comment(repo: Repo, number: int, c: dict[str, Any], head_sha: str) -> dict[str, Any]:
    """An item of `/pulls/{number}/comments` (a comment on a line of the diff)."""
    api = f"{repo.api}/pulls/comments/{c['id']}"
    return {"url": api, "pull_request_review_id": c["review_id"], "id": c["id"], "node_id": node_id("PRRC", c["id"]),
            "diff_hunk": "@@ -10,6 +10,8 @@ def handle(request):", "path": c["path"], "position": 4,
            "original_position": 4, "commit_id": head_sha, "original_commit_id": head_sha, "user": user(c["author"]),
            "body": c["body"], "created_at": iso(c["t"]), "updated_at": iso(c["t"]),
            "html_url": f"{repo.web}/pull/{number}#discussion_r{c['id']}",
            "pull_request_url": f"{repo.api}/pulls/{number}",
            "author_association": association(c["author"] or GHOST["login"], repo.owner),
            "_links": {"self": {"href": api}, "html": {"href": f"{repo.web}/pull/{number}#discussion_r{c['id']}"},
                       "pull_request": {"href": f"{repo.api}/pulls/{number}"}},
            "reactions": reaction_summary(f"{api}/reactions", []), "start_line": None, "original_start_line": None,
            "start_side": None, "line": 12, "original_line": 12, "side": "RIGHT", "subject_type": "line"}


def reaction(r: dict[str, Any]) -> dict[str, Any]:
    """An item of `/issues/{number}/reactions` or `/issues/comments/{id}/reactions`."""
    return {"id": r["id"], "node_id": node_id("REA", r["id"]), "user": user(r["author"]), "content": r["content"],
            "created_at": iso(r["t"])}


def pull(repo: Repo, t: dict[str, Any], repository_json: dict[str, Any]) -> dict[str, Any]:
    """`GET /repos/{owner}/{repo}/pulls/{number}`: the pull request itself, with branches and merge facts."""
    number, api = t["number"], f"{repo.api}/pulls/{t['number']}"
    issue_api = f"{repo.api}/issues/{number}"
    head_sha = t["commits"][-1]["sha"] if t["commits"] else "0" * 40
    owner = repository_json["owner"]

    def branch(ref: str, sha: str) -> dict[str, Any]:
        return {"label": f"{repo.owner}:{ref}", "ref": ref, "sha": sha, "user": owner, "repo": repository_json}

    assignees = [simple_user(login) for login in t["assignees"]]
    merged = t["merged"] is not None
    return {
        "url": api, "id": t["pull_id"], "node_id": t["node_id"], "html_url": f"{repo.web}/pull/{number}",
        "diff_url": f"{repo.web}/pull/{number}.diff", "patch_url": f"{repo.web}/pull/{number}.patch",
        "issue_url": issue_api, "number": number, "state": t["state"], "locked": False, "title": t["title"],
        "user": user(t["author"]), "body": t["body"], "created_at": iso(t["created"]),
        "updated_at": iso(t["updated"]), "closed_at": iso(t["closed"]) if t["closed"] is not None else None,
        "merged_at": iso(t["merged"]) if merged else None, "merge_commit_sha": t["merge_sha"],
        "assignee": assignees[0] if assignees else None, "assignees": assignees,
        "requested_reviewers": [simple_user(login) for login in t["requested"]], "requested_teams": [],
        "labels": [label(repo, name) for name in t["labels"]], "milestone": None, "draft": False,
        "commits_url": f"{api}/commits", "review_comments_url": f"{api}/comments",
        "review_comment_url": f"{repo.api}/pulls/comments{{/number}}", "comments_url": f"{issue_api}/comments",
        "statuses_url": f"{repo.api}/statuses/{head_sha}", "head": branch(t["head_ref"], head_sha),
        "base": branch("main", t["base_sha"]),
        "_links": {"self": {"href": api}, "html": {"href": f"{repo.web}/pull/{number}"},
                   "issue": {"href": issue_api}, "comments": {"href": f"{issue_api}/comments"},
                   "review_comments": {"href": f"{api}/comments"},
                   "review_comment": {"href": f"{repo.api}/pulls/comments{{/number}}"},
                   "commits": {"href": f"{api}/commits"}, "statuses": {"href": f"{repo.api}/statuses/{head_sha}"}},
        "author_association": association(t["author"] or GHOST["login"], repo.owner), "auto_merge": None,
        "active_lock_reason": None, "merged": merged, "mergeable": None if t["state"] == "closed" else True,
        "rebaseable": None if t["state"] == "closed" else True,
        "mergeable_state": "unknown" if t["state"] == "closed" else "clean",
        "merged_by": user(t["merged_by"]) if merged else None, "comments": t["comment_count"],
        "review_comments": len(t["review_comments"]), "maintainer_can_modify": False,
        "commits": len(t["commits"]), "additions": t["additions"], "deletions": t["deletions"],
        "changed_files": t["changed_files"],
    }


def deployment(repo: Repo, d: dict[str, Any]) -> dict[str, Any]:
    """An item of `GET /repos/{owner}/{repo}/deployments`."""
    api = f"{repo.api}/deployments/{d['id']}"
    production = d["environment"] == "production"
    return {"url": api, "id": d["id"], "node_id": node_id("DE", d["id"]), "task": "deploy",
            "original_environment": d["environment"], "environment": d["environment"],
            "description": d["description"], "created_at": iso(d["t"]), "updated_at": iso(d["updated"]),
            "statuses_url": f"{api}/statuses", "repository_url": repo.api, "creator": user(d["creator"]),
            "sha": d["sha"], "ref": d["ref"], "payload": {}, "transient_environment": False,
            "production_environment": production, "performed_via_github_app": None}


def deployment_status(repo: Repo, deployment_id: int, environment: str, s: dict[str, Any]) -> dict[str, Any]:
    """An item of `GET /repos/{owner}/{repo}/deployments/{id}/statuses` (newest first there)."""
    api = f"{repo.api}/deployments/{deployment_id}"
    web = "https://shop.acme.example" if environment == "production" else "https://staging.shop.acme.example"
    return {"url": f"{api}/statuses/{s['id']}", "id": s["id"], "node_id": node_id("DES", s["id"]),
            "state": s["state"], "creator": user(s["creator"]), "description": s["description"],
            "environment": environment, "target_url": f"{repo.web}/actions/runs/{s['id']}",
            "created_at": iso(s["t"]), "updated_at": iso(s["t"]), "deployment_url": api, "repository_url": repo.api,
            "environment_url": web, "log_url": f"{repo.web}/actions/runs/{s['id']}", "performed_via_github_app": None}


def release(repo: Repo, r: dict[str, Any]) -> dict[str, Any]:
    """An item of `GET /repos/{owner}/{repo}/releases` (drafts have no `published_at`)."""
    api = f"{repo.api}/releases/{r['id']}"
    tag = r["tag"]
    return {"url": api, "assets_url": f"{api}/assets",
            "upload_url": f"https://uploads.github.com/repos/{repo.full_name}/releases/{r['id']}/assets{{?name,label}}",
            "html_url": f"{repo.web}/releases/tag/{tag}", "id": r["id"], "author": user(r["author"]),
            "node_id": node_id("RE", r["id"]), "tag_name": tag, "target_commitish": "main", "name": f"Release {tag}",
            "draft": r["draft"], "immutable": False, "prerelease": False, "created_at": iso(r["t"]),
            "updated_at": iso(r["t"]), "published_at": None if r["draft"] else iso(r["t"]), "assets": [],
            "tarball_url": f"{repo.api}/tarball/{tag}", "zipball_url": f"{repo.api}/zipball/{tag}",
            "body": r["body"]}
