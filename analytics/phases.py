"""Map tracker status names to canonical phases, and issue types or labels to ticket kinds.

Workflows differ per company, so both maps are defaults for common English names merged
with overrides from configuration. Matching ignores case and surrounding spaces. A status
no mapping covers has no phase: it is reported (`attribution.unmapped_statuses`), never guessed.
"""
from __future__ import annotations

from typing import Iterable, Mapping

PHASES = ("backlog", "specify", "investigate", "develop", "review", "test", "accept", "release", "deployed", "done")

KINDS = ("bug", "incident", "service_request", "improvement", "feature", "task", "pull_request", "deployment", "other")

#: Record types whose kind is structural, whatever their labels say: a GitHub pull request is
#: a pull request even when labelled "bug", and a repository's deployments pseudo-ticket is
#: no issue at all (connectors.github_parse sets these type names).
FIXED_KINDS: Mapping[str, str] = {"Pull request": "pull_request", "Deployment": "deployment", "Release": "deployment"}

DEFAULT_STATUS_PHASES: Mapping[str, str] = {
    "Backlog": "backlog",
    "Open": "backlog",
    "To Do": "backlog",
    "New": "backlog",
    "Reopened": "backlog",  # Jira's standard workflow; its status category is To Do
    "Selected for Development": "backlog",
    "Refinement": "specify",
    "In Analysis": "specify",
    "Specification": "specify",
    "Triage": "investigate",
    "Investigating": "investigate",
    "In Investigation": "investigate",
    "In Progress": "develop",
    "In Development": "develop",
    "In Review": "review",
    "Code Review": "review",
    "Review": "review",
    "In QA": "test",
    "QA": "test",
    "Testing": "test",
    "In Test": "test",
    "UAT": "accept",
    "In UAT": "accept",
    "Acceptance": "accept",
    "User Acceptance": "accept",
    "Ready for Release": "release",
    "Ready to Deploy": "release",
    "Ready for Deployment": "release",
    "Deployed": "deployed",
    "Released": "deployed",
    "In Production": "deployed",
    "Done": "done",
    "Won't Do": "done",
    "Closed": "done",
    "Resolved": "done",
    "Won't Fix": "done",
    "Cancelled": "done",
    "Rejected": "done",
    "Duplicate": "done",
    "Merged": "done",  # a GitHub pull request's state
}

#: Issue type names (Jira) → kind.
DEFAULT_KINDS: Mapping[str, str] = {
    "Bug": "bug",
    "Incident": "incident",
    "Service Request": "service_request",  # Jira Service Management's request types
    "Service Request with Approvals": "service_request",
    "Improvement": "improvement",
    "New Feature": "feature",
    "Feature": "feature",
    "Story": "feature",
    "Epic": "feature",
    "Task": "task",
    "Sub-task": "task",
    "Subtask": "task",
}

#: Labels (GitHub's default label set) → kind.
DEFAULT_LABEL_KINDS: Mapping[str, str] = {
    "bug": "bug",
    "enhancement": "improvement",
    "improvement": "improvement",
    "feature": "feature",
}


def _key(name: str) -> str:
    return name.strip().casefold()


def _merge(defaults: Mapping[str, str], overrides: Mapping[str, str], allowed: tuple[str, ...], what: str) -> dict[str, str]:
    """Defaults with overrides on top, keyed by the normalised name; a bad target is a ValueError."""
    merged = {_key(name): value for name, value in defaults.items()}
    for name, value in overrides.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"the {what} name {name!r} is empty; name a {what}.")
        target = value.strip().lower() if isinstance(value, str) else value
        if target not in allowed:
            raise ValueError(
                f"the {what} \"{name.strip()}\" maps to \"{value}\", which is not one of {', '.join(allowed)}."
            )
        merged[_key(name)] = target
    return merged


class PhaseMap:
    """Status name → canonical phase, case-insensitive; unmapped statuses have no phase."""

    __slots__ = ("_phases", "_cache")

    def __init__(self, overrides: Mapping[str, str] | None = None, *, defaults: bool = True) -> None:
        self._phases = _merge(DEFAULT_STATUS_PHASES if defaults else {}, overrides or {}, PHASES, "status")
        # Raw status strings repeat millions of times; skip re-normalising them.
        self._cache: dict[str, str | None] = {}

    def phase(self, status: str | None) -> str | None:
        """The phase of a status name, or None when no mapping covers it (never guessed)."""
        if status is None:
            return None
        try:
            return self._cache[status]
        except KeyError:
            found = self._cache[status] = self._phases.get(_key(status))
            return found

    def statuses(self, phase: str) -> list[str]:
        """The normalised status names mapped to `phase` (for documentation and the dashboard)."""
        return sorted(name for name, p in self._phases.items() if p == phase)

    def as_dict(self) -> dict[str, str]:
        """The whole map, normalised status name → phase."""
        return dict(self._phases)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PhaseMap) and self._phases == other._phases

    def __hash__(self) -> int:
        return hash(frozenset(self._phases.items()))

    def __repr__(self) -> str:
        return f"PhaseMap({len(self._phases)} statuses)"


class KindMap:
    """Issue type or label → ticket kind, case-insensitive.

    One override table serves both types and labels, as configuration's `[kinds]` does:
    `{"Defect": "bug", "customer-issue": "incident"}`. Labels win over the type because a
    label is the more specific signal (a Jira "Story" labelled "bug" is a defect report).
    """

    __slots__ = ("_types", "_labels")

    def __init__(self, overrides: Mapping[str, str] | None = None, *, defaults: bool = True) -> None:
        overrides = overrides or {}
        self._types = _merge(DEFAULT_KINDS if defaults else {}, overrides, KINDS, "type or label")
        self._labels = _merge(DEFAULT_LABEL_KINDS if defaults else {}, overrides, KINDS, "type or label")

    def kind(self, type_name: str | None, labels: Iterable[str] = ()) -> str:
        """The kind of a ticket: its first mapped label, else its type, else "other"."""
        fixed = FIXED_KINDS.get(type_name or "")
        if fixed is not None:
            return fixed
        for label in labels:
            if label:
                found = self._labels.get(_key(label))
                if found is not None:
                    return found
        if type_name:
            found = self._types.get(_key(type_name))
            if found is not None:
                return found
        return "other"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KindMap) and (self._types, self._labels) == (other._types, other._labels)

    def __hash__(self) -> int:
        return hash((frozenset(self._types.items()), frozenset(self._labels.items())))

    def __repr__(self) -> str:
        return f"KindMap({len(self._types)} types, {len(self._labels)} labels)"
