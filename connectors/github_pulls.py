"""What a GitHub pull request says about itself, in whichever shape it comes.

A pull request reaches the parser in two REST shapes: as an item of the issues listing (it has
a `pull_request` object, whose `merged_at` is all it tells of the merge) and as an object of
the pulls API (`GET /repos/{owner}/{repo}/pulls`, an export of it, a webhook's `pull_request`:
no `pull_request` key, but `head`, `base`, `merged`, `merged_at`, `merged_by`, and a `url`
ending in `/pulls/N`). GraphQL adds the merge to the first shape (`github_graphql_shapes.pull_from_graphql`).
https://docs.github.com/en/rest/issues/issues#list-repository-issues ,
https://docs.github.com/en/rest/pulls/pulls#get-a-pull-request
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple

#: The external id of a pull request's merge, whoever reports it. A pull request is merged once;
#: the `merged` issue event and the pull request's own `merged_by` are two sightings of that one
#: act. Events are stored by (ticket, external id), so with one id whichever sighting a sync or
#: an import reads first stays the one merge, and the other never adds a second.
MERGE_EVENT_ID = "merged"


class Merge(NamedTuple):
    """A merge as the pull request reports it (times and user in REST shapes, None when not told)."""

    at: Any
    by: Any
    commit: str | None


def is_pull_request(raw: Mapping[str, Any]) -> bool:
    """Whether an issues-listing item or a pulls-API object is a pull request."""
    if isinstance(raw.get("pull_request"), dict):
        return True  # the issues listing's mark
    if isinstance(raw.get("head"), dict) and isinstance(raw.get("base"), dict):
        return True  # only a pull request has branches
    url = raw.get("url")
    return isinstance(url, str) and "/pulls/" in url


def merge_of(raw: Mapping[str, Any], pull: Mapping[str, Any] | None = None) -> Merge | None:
    """The merge a pull request reports of itself (`raw`, and `pull` for what GraphQL added); None when unmerged.

    Merged when any shape says so: `merged` true or a `merged_at` time. `merge_commit_sha` is
    kept only then, since GitHub fills it for unmerged pull requests too (a test merge commit).
    """
    listed = raw.get("pull_request") if isinstance(raw.get("pull_request"), dict) else {}
    shapes = [raw, listed, pull or {}]
    at = next((shape.get("merged_at") for shape in shapes if shape.get("merged_at")), None)
    if at is None and not any(shape.get("merged") is True for shape in shapes):
        return None
    by = next((shape.get("merged_by") for shape in shapes if isinstance(shape.get("merged_by"), dict)), None)
    commit = next((shape.get("merge_commit_sha") for shape in shapes if isinstance(shape.get("merge_commit_sha"), str)
                   and shape.get("merge_commit_sha")), None)
    return Merge(at, by, commit)
