"""GitHub REST items as the API returns them (the fields that matter, in their real places), for export tests."""
from __future__ import annotations

from typing import Any

API = "https://api.github.com"
WEB = "https://github.com"


def user(login: str) -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10**8, "node_id": "U_x", "type": "User", "site_admin": False,
            "url": f"{API}/users/{login}", "html_url": f"{WEB}/{login}"}


def issue(repo: str, number: int, *, author: str = "c-client", updated: str = "2024-03-02T10:00:00Z",
          state: str = "closed", pull: bool = False, **extra: Any) -> dict[str, Any]:
    """An item of GET /repos/{owner}/{repo}/issues."""
    raw = {
        "url": f"{API}/repos/{repo}/issues/{number}", "repository_url": f"{API}/repos/{repo}",
        "html_url": f"{WEB}/{repo}/{'pull' if pull else 'issues'}/{number}", "id": 9000 + number,
        "node_id": f"I_{number}", "number": number, "title": f"Checkout fails #{number}", "user": user(author),
        "labels": [{"id": 1, "node_id": "L_1", "url": f"{API}/repos/{repo}/labels/bug", "name": "bug",
                    "color": "d73a4a", "default": True}],
        "state": state, "locked": False, "assignee": None, "assignees": [], "comments": 0,
        "created_at": "2024-03-01T09:00:00Z", "updated_at": updated,
        "closed_at": updated if state == "closed" else None, "author_association": "MEMBER", "body": "",
        "state_reason": "completed" if state == "closed" and not pull else None,
    }
    if pull:
        raw["pull_request"] = {"url": f"{API}/repos/{repo}/pulls/{number}", "html_url": raw["html_url"],
                               "merged_at": updated if state == "closed" else None}
    raw.update(extra)
    return raw


def pull(repo: str, number: int, *, branch: str = "fix", merged_by: str | None = "p-partner",
         updated: str = "2024-03-02T10:00:00Z", body: str = "") -> dict[str, Any]:
    """An item of GET /repos/{owner}/{repo}/pulls."""
    base_repo = {"id": 1, "full_name": repo, "url": f"{API}/repos/{repo}"}
    return {
        "url": f"{API}/repos/{repo}/pulls/{number}", "id": 7000 + number, "node_id": f"PR_{number}",
        "html_url": f"{WEB}/{repo}/pull/{number}", "issue_url": f"{API}/repos/{repo}/issues/{number}",
        "number": number, "state": "closed", "title": f"Fix checkout #{number}", "user": user("p-partner"),
        "body": body, "labels": [], "created_at": "2024-03-01T09:00:00Z", "updated_at": updated,
        "closed_at": updated, "merged_at": updated, "merge_commit_sha": "abc123", "assignee": None,
        "assignees": [], "draft": False,
        "head": {"label": f"partner:{branch}", "ref": branch, "sha": "def456", "user": user("p-partner"),
                 "repo": base_repo},
        "base": {"label": "acme:main", "ref": "main", "sha": "0a1b2c", "user": user("acme"), "repo": base_repo},
        **({"merged": True, "merged_by": user(merged_by)} if merged_by else {}),
    }


def event(repo: str, number: int, event_id: int, kind: str, at: str, actor: str, *, embed: bool = True,
          **extra: Any) -> dict[str, Any]:
    """An item of GET /repos/{owner}/{repo}/issues/events (embeds its issue); without it, a timeline item."""
    raw = {"id": event_id, "node_id": f"E_{event_id}", "url": f"{API}/repos/{repo}/issues/events/{event_id}",
           "actor": user(actor), "event": kind, "commit_id": None, "commit_url": None, "created_at": at, **extra}
    if embed:
        raw["issue"] = issue(repo, number)
    return raw


def comment(repo: str, number: int, comment_id: int, at: str, author: str, *, timeline: bool = False) -> dict[str, Any]:
    """An item of GET /repos/{owner}/{repo}/issues/comments (or a timeline's "commented" event)."""
    raw = {"url": f"{API}/repos/{repo}/issues/comments/{comment_id}", "id": comment_id, "node_id": "IC_x",
           "html_url": f"{WEB}/{repo}/issues/{number}#issuecomment-{comment_id}",
           "issue_url": f"{API}/repos/{repo}/issues/{number}", "user": user(author), "created_at": at,
           "updated_at": at, "author_association": "MEMBER", "body": "Looking into it."}
    if timeline:
        raw.update(event="commented", actor=user(author))
    return raw


def review(repo: str, number: int, review_id: int, at: str, author: str, state: str = "APPROVED",
           *, timeline: bool = False) -> dict[str, Any]:
    """An item of GET /repos/{owner}/{repo}/pulls/{n}/reviews (or a timeline's "reviewed" event)."""
    raw = {"id": review_id, "node_id": "PRR_x", "user": user(author), "body": "", "state": state,
           "html_url": f"{WEB}/{repo}/pull/{number}#pullrequestreview-{review_id}",
           "pull_request_url": f"{API}/repos/{repo}/pulls/{number}", "author_association": "MEMBER",
           "submitted_at": at, "commit_id": "def456"}
    if timeline:
        raw.update(event="reviewed", state=state.lower())
    return raw
