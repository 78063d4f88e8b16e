"""Completing what a Jira search cut short: changelogs and comments beyond the embedded page.

A search returns each issue with at most a page of its changelog (and comments). On Cloud, the
issues cut short wait across search pages for one bulk changelog request for up to 1,000 of
them; on Server/Data Center each fetches its own changelog. Comments beyond the embedded page
are read by their own listing. A shortfall that remains keeps the declared total, so the ticket
is stored flagged incomplete rather than taken as whole.
"""
from __future__ import annotations

import logging
from typing import Any

from connectors.errors import FatalError
from connectors.jira_parse import comments_of, histories_of

log = logging.getLogger("connectors.jira")

BULK_CHANGELOG_ISSUES = 1000  # issues per request, documented limit of changelog/bulkfetch
BULK_CHANGELOG_PAGE = 10000  # histories per answer, the documented maximum of its maxResults
COMMENT_PAGE = 100


class NotFound(FatalError):
    """HTTP 404: fatal for search, but for one issue's comments it means the issue is gone."""


def _merge_by_id(known: list[Any], fetched: list[Any]) -> list[Any]:
    merged = {str(item.get("id")): item for item in known + fetched if isinstance(item, dict)}
    return list(merged.values())


def changelog_truncated(raw: dict[str, Any]) -> bool:
    changelog = raw.get("changelog")
    if not isinstance(changelog, dict) or not isinstance(changelog.get("total"), int):
        return False
    limit = changelog.get("maxResults")
    return changelog["total"] > len(histories_of(raw)) or (isinstance(limit, int) and limit < changelog["total"])


def _comments_truncated(raw: dict[str, Any]) -> bool:
    comment = raw["fields"].get("comment") if isinstance(raw.get("fields"), dict) else None
    if not isinstance(comment, dict) or not isinstance(comment.get("total"), int):
        return False
    return comment["total"] > len(comments_of(raw["fields"]))



class CompletesHistories:
    """The part of `JiraConnector` that fetches what a search page left out; it needs the
    connector's `source`, `cloud`, `_request` and `_first_time`."""

    source: str
    cloud: bool

    def _complete(self, issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Fetch the changelog entries and comments the search response left out."""
        truncated = [raw for raw in issues if raw.get("id") is not None and changelog_truncated(raw)]
        gone: set[str] = set()
        if truncated and self.cloud:
            self._bulk_changelogs(truncated)
        elif truncated:
            for raw in truncated:
                try:
                    self._server_changelog(raw)
                except NotFound:
                    gone.add(str(raw["id"]))
        for raw in issues:
            if raw.get("id") is not None and str(raw["id"]) not in gone and _comments_truncated(raw):
                try:
                    self._all_comments(raw)
                except NotFound:
                    gone.add(str(raw["id"]))
        for issue_id in gone:
            log.warning("Jira source '%s': issue %s vanished while being fetched; skipped.", self.source, issue_id)
        return [raw for raw in issues if str(raw.get("id")) not in gone]

    def _bulk_changelogs(self, truncated: list[dict[str, Any]]) -> None:
        """Cloud: every history of all truncated issues of a page, in as few requests as possible.

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-changelog-bulkfetch-post
        """
        by_id = {str(raw["id"]): raw for raw in truncated}
        fetched: dict[str, list[Any]] = {}
        ids = list(by_id)
        for first in range(0, len(ids), BULK_CHANGELOG_ISSUES):
            body: dict[str, Any] = {"issueIdsOrKeys": ids[first:first + BULK_CHANGELOG_ISSUES],
                                    "maxResults": BULK_CHANGELOG_PAGE}
            seen: set[str] = set()
            while True:
                data = self._request("POST", "changelog/bulkfetch", body) or {}
                for entry in data.get("issueChangeLogs") or []:
                    if isinstance(entry, dict):
                        fetched.setdefault(str(entry.get("issueId")), []).extend(entry.get("changeHistories") or [])
                token = data.get("nextPageToken")
                if not token:
                    break
                self._first_time(seen, token, "changelog page token")
                body = {**body, "nextPageToken": token}
        for issue_id, raw in by_id.items():
            self._set_changelog(raw, fetched.get(issue_id, []))

    def _server_changelog(self, raw: dict[str, Any]) -> None:
        """Server/DC: the issue's own changelog. The paged `/issue/{key}/changelog` is Cloud-only.

        https://docs.atlassian.com/software/jira/docs/api/REST/9.12.0/#api/2/issue-getIssue
        """
        data = self._request("GET", f"issue/{raw['id']}", {"expand": "changelog", "fields": "updated"})
        self._set_changelog(raw, histories_of(data) if isinstance(data, dict) else [])

    def _set_changelog(self, raw: dict[str, Any], fetched: list[Any]) -> None:
        declared = raw["changelog"].get("total", 0)
        histories = _merge_by_id(histories_of(raw), fetched)
        if len(histories) < declared:
            # Kept in `total`, so the ticket is stored flagged incomplete rather than taken as whole.
            log.warning("Jira source '%s': issue %s has %d of %d changelog entries.",
                        self.source, raw.get("key"), len(histories), declared)
        total = max(len(histories), declared) if isinstance(declared, int) else len(histories)
        raw["changelog"] = {"startAt": 0, "maxResults": len(histories), "total": total, "histories": histories}

    def _all_comments(self, raw: dict[str, Any]) -> None:
        """Comments beyond the embedded first page.

        https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/#api-rest-api-3-issue-issueidorkey-comment-get
        """
        fields = raw["fields"] = dict(raw["fields"])
        comments = comments_of(fields)
        total = fields["comment"]["total"]
        start_at = len(comments)
        while start_at < total:
            data = self._request("GET", f"issue/{raw['id']}/comment", {"startAt": start_at, "maxResults": COMMENT_PAGE})
            page = data.get("comments") if isinstance(data, dict) else None
            if not isinstance(page, list) or not page:
                break
            comments = _merge_by_id(comments, page)
            start_at += len(page)
            total = data["total"] if isinstance(data.get("total"), int) else total
        # A shortfall stays visible in `total`: the ticket is then stored flagged incomplete.
        fields["comment"] = {"startAt": 0, "maxResults": len(comments), "total": max(total, len(comments)),
                             "comments": comments}
