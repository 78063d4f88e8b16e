"""Builders for Jira REST shapes and a connector wired to fakes (no sleeping, no network)."""
from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

from connectors.jira import JiraConnector

DATA = Path(__file__).resolve().parent.parent / "data" / "jira"
CLOUD = "https://acme.atlassian.net"
SERVER = "https://jira.nordlys.example"
TOKEN = "tok-SECRET-4f9a2c"  # must never show up in a message or a log line
TOKEN_ENV = "JIRA_API_TOKEN"


def load(name: str) -> Any:
    """A JSON fixture from tests/data/jira/."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def user(account: str, *, cloud: bool = True) -> dict[str, Any]:
    if cloud:
        return {"accountId": account, "displayName": account.title(), "active": True}
    return {"name": account, "key": f"JIRAUSER-{account}", "displayName": account.title(), "emailAddress": f"{account}@example.org"}


def history(history_id: int, at: str, author: str | None = "dev", *, to: str = "In Progress") -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": str(history_id),
        "created": at,
        "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status", "fromString": "Open", "toString": to}],
    }
    if author:
        entry["author"] = user(author)
    return entry


def comment(comment_id: int, at: str, author: str = "dev") -> dict[str, Any]:
    return {"id": str(comment_id), "author": user(author), "created": at, "body": f"comment {comment_id}"}


def issue(
    number: int, *, updated: str = "2024-03-04T10:00:00.000+0000", histories: list[dict] | None = None,
    changelog_total: int | None = None, comments: list[dict] | None = None, comment_total: int | None = None,
    project: str = "ACME", base: str = CLOUD,
) -> dict[str, Any]:
    """A search hit with `expand=changelog`; totals above the embedded counts mark a truncated page."""
    histories = histories or []
    comments = comments or []
    return {
        "id": str(10000 + number),
        "key": f"{project}-{number}",
        "self": f"{base}/rest/api/3/issue/{10000 + number}",
        "fields": {
            "summary": f"Issue {number}",
            "issuetype": {"name": "Bug"},
            "status": {"name": "Open"},
            "project": {"key": project},
            "reporter": user("client"),
            "creator": user("client"),
            "assignee": None,
            "labels": [],
            "priority": {"name": "Medium"},
            "created": "2024-01-01T09:00:00.000+0000",
            "updated": updated,
            "resolutiondate": None,
            "comment": {
                "startAt": 0, "maxResults": len(comments), "comments": comments,
                "total": len(comments) if comment_total is None else comment_total,
            },
        },
        "changelog": {
            "startAt": 0, "maxResults": len(histories), "histories": histories,
            "total": len(histories) if changelog_total is None else changelog_total,
        },
    }


def cloud_page(issues: list[dict], token: str | None = None) -> dict[str, Any]:
    """A `/rest/api/3/search/jql` response."""
    page: dict[str, Any] = {"issues": copy.deepcopy(issues), "isLast": token is None}
    if token:
        page["nextPageToken"] = token
    return page


def server_page(issues: list[dict], start_at: int, total: int, max_results: int = 2) -> dict[str, Any]:
    """A `/rest/api/2/search` response."""
    return {"expand": "schema,names", "startAt": start_at, "maxResults": max_results, "total": total, "issues": copy.deepcopy(issues)}


class Waits:
    """Stands in for time.sleep and the CLI's on_wait: records, never sleeps."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.announced: list[tuple[float, str]] = []
        self.progress: list[tuple[int, int | None]] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def on_wait(self, seconds: float, reason: str) -> None:
        self.announced.append((seconds, reason))

    def on_progress(self, done: int, total: int | None) -> None:
        self.progress.append((done, total))


def connector(waits: Waits, deployment: str = "cloud", **overrides: Any) -> JiraConnector:
    """A connector for `acme-jira` whose waits and progress land in `waits`."""
    options: dict[str, Any] = dict(
        email="bot@acme.example" if deployment == "cloud" else None,
        token=TOKEN, token_env=TOKEN_ENV, start=date(2024, 1, 1), page_size=2,
        sleep=waits.sleep, on_wait=waits.on_wait, on_progress=waits.on_progress,
    )
    options.update(overrides)
    url = CLOUD if deployment == "cloud" else SERVER
    return JiraConnector("acme-jira", url, deployment, "project = ACME", **options)
