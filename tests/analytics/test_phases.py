from __future__ import annotations

import pytest

from analytics.phases import DEFAULT_STATUS_PHASES, KINDS, PHASES, KindMap, PhaseMap

DEMO_STATUSES = {
    "Backlog": "backlog",
    "Triage": "investigate",
    "Refinement": "specify",
    "In Progress": "develop",
    "In Review": "review",
    "In QA": "test",
    "UAT": "accept",
    "Ready for Release": "release",
    "Deployed": "deployed",
    "Done": "done",
    "Won't Do": "done",
}


@pytest.mark.parametrize("status, phase", [pytest.param(s, p, id=s) for s, p in DEMO_STATUSES.items()])
def test_demo_statuses_have_their_default_phase(status: str, phase: str) -> None:
    assert PhaseMap().phase(status) == phase


@pytest.mark.parametrize(
    "status, phase",
    [
        pytest.param("to do", "backlog", id="lower-case"),
        pytest.param("  IN QA  ", "test", id="upper-case-and-padding"),
        pytest.param("selected for development", "backlog", id="long-name"),
        pytest.param("Code Review", "review", id="code-review"),
        pytest.param("In Production", "deployed", id="in-production"),
        pytest.param("won't fix", "done", id="wont-fix"),
        pytest.param("Verifying", None, id="unknown-status-not-guessed"),
        pytest.param("In QA 2", None, id="near-miss-not-guessed"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
    ],
)
def test_default_lookup_is_case_insensitive_and_never_guesses(status: str | None, phase: str | None) -> None:
    assert PhaseMap().phase(status) == phase


def test_every_default_maps_to_a_known_phase() -> None:
    assert set(DEFAULT_STATUS_PHASES.values()) <= set(PHASES)
    assert set(DEFAULT_STATUS_PHASES.items()) >= set(DEMO_STATUSES.items())


@pytest.mark.parametrize(
    "overrides, status, phase",
    [
        pytest.param({"Verifying": "test"}, "VERIFYING", "test", id="new-status"),
        pytest.param({"In QA": "accept"}, "in qa", "accept", id="override-beats-default"),
        pytest.param({" in qa ": "accept"}, "In QA", "accept", id="override-key-trimmed"),
        pytest.param({"Verifying": "Test"}, "Verifying", "test", id="phase-case-ignored"),
        pytest.param({"Verifying": "test"}, "Backlog", "backlog", id="defaults-kept"),
    ],
)
def test_overrides_merge_over_defaults(overrides: dict[str, str], status: str, phase: str) -> None:
    assert PhaseMap(overrides).phase(status) == phase


def test_defaults_can_be_switched_off() -> None:
    phases = PhaseMap({"Verifying": "test"}, defaults=False)
    assert phases.phase("Verifying") == "test"
    assert phases.phase("Backlog") is None


@pytest.mark.parametrize(
    "overrides, words",
    [
        pytest.param({"In QA": "testing"}, ["In QA", "testing"], id="unknown-phase"),
        pytest.param({"Verifying": ""}, ["Verifying"], id="empty-phase"),
        pytest.param({"  ": "test"}, ["empty"], id="empty-status"),
    ],
)
def test_bad_phase_is_a_value_error_naming_status_and_phase(overrides: dict[str, str], words: list[str]) -> None:
    with pytest.raises(ValueError) as error:
        PhaseMap(overrides)
    for word in words:
        assert word in str(error.value)


def test_phase_maps_compare_by_content() -> None:
    assert PhaseMap({"Verifying": "test"}) == PhaseMap({"verifying": "test"})
    assert PhaseMap({"Verifying": "test"}) != PhaseMap()
    assert hash(PhaseMap()) == hash(PhaseMap())


@pytest.mark.parametrize(
    "overrides, type_name, labels, kind",
    [
        pytest.param(None, "Bug", (), "bug", id="bug-type"),
        pytest.param(None, "incident", (), "incident", id="incident-lower"),
        pytest.param(None, "Improvement", (), "improvement", id="improvement"),
        pytest.param(None, "New Feature", (), "feature", id="new-feature"),
        pytest.param(None, "STORY", (), "feature", id="story-upper"),
        pytest.param(None, "Epic", (), "feature", id="epic"),
        pytest.param(None, "Sub-task", (), "task", id="sub-task"),
        pytest.param(None, "Subtask", (), "task", id="subtask"),
        pytest.param(None, "Spike", (), "other", id="unknown-type"),
        pytest.param(None, None, (), "other", id="no-type"),
        pytest.param(None, "", ("enhancement",), "improvement", id="github-enhancement"),
        pytest.param(None, "", ("Bug",), "bug", id="github-bug-label-case"),
        pytest.param(None, "Story", ("bug",), "bug", id="label-beats-type"),
        pytest.param(None, "Story", ("frontend", "feature", "bug"), "feature", id="first-mapped-label"),
        pytest.param(None, "Bug", ("frontend", "p1"), "bug", id="unmapped-labels-fall-back-to-type"),
        pytest.param(None, "Spike", ("story",), "other", id="type-names-are-not-label-defaults"),
        pytest.param({"Defect": "bug"}, "defect", (), "bug", id="type-override"),
        pytest.param({"customer-issue": "incident"}, "Bug", ("Customer-Issue",), "incident", id="label-override"),
        pytest.param({"Bug": "incident"}, "Bug", (), "incident", id="override-beats-default"),
        pytest.param({"Pull Request": "pull_request"}, "pull request", (), "pull_request", id="pull-request"),
    ],
)
def test_kind_map(overrides: dict[str, str] | None, type_name: str | None, labels: tuple[str, ...], kind: str) -> None:
    assert KindMap(overrides).kind(type_name, labels) == kind


def test_bad_kind_is_a_value_error_naming_name_and_kind() -> None:
    with pytest.raises(ValueError) as error:
        KindMap({"Defect": "defect"})
    assert "Defect" in str(error.value) and "defect" in str(error.value)
    assert "pull_request" in str(error.value)  # the sentence lists the valid kinds
    assert "other" in KINDS
