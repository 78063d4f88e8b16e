"""Determinism, sizes, ordering, truncation, paging and the export of the demo scenario."""
from __future__ import annotations

import copy
import json
import statistics
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from connectors.jira_parse import issues_in_document
from simulator.scenario import generate, iter_issues, search_pages, truncate, write_export

from .conftest import TICKETS


def histories(issue: dict[str, Any]) -> int:
    return len(issue["changelog"]["histories"])


def test_same_arguments_give_byte_identical_json() -> None:
    assert json.dumps(generate(300)) == json.dumps(generate(300))


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"seed": 8}, id="seed"),
        pytest.param({"start": date(2024, 1, 1)}, id="start"),
        pytest.param({"months": 12}, id="months"),
    ],
)
def test_other_arguments_give_another_scenario(other: dict[str, Any]) -> None:
    assert json.dumps(generate(300, **other)) != json.dumps(generate(300))


def test_iter_issues_yields_what_generate_returns() -> None:
    assert list(iter_issues(400, seed=3)) == generate(400, seed=3)


def test_in_creation_order_the_same_issues_come_by_id() -> None:
    by_creation = list(iter_issues(400, seed=3, order="created"))
    assert [int(i["id"]) for i in by_creation] == list(range(10000, 10400))
    assert json.dumps(by_creation) == json.dumps(sorted(generate(400, seed=3), key=lambda i: int(i["id"])))
    with pytest.raises(ValueError):
        next(iter_issues(10, order="key"))


def test_issues_are_sorted_by_updated_then_id(issues: list[dict[str, Any]]) -> None:
    order = [(i["fields"]["updated"], int(i["id"])) for i in issues]
    assert order == sorted(order)


def test_every_ticket_is_there_once_with_keys_numbered_in_creation_order(issues: list[dict[str, Any]]) -> None:
    assert len(issues) == TICKETS
    assert sorted(int(i["id"]) for i in issues) == list(range(10000, 10000 + TICKETS))
    by_id = sorted(issues, key=lambda i: int(i["id"]))
    created = [i["fields"]["created"] for i in by_id]
    assert created == sorted(created)
    for project in ("SHOP", "PAY"):
        numbers = [int(i["key"].split("-")[1]) for i in by_id if i["key"].startswith(project + "-")]
        assert numbers == list(range(1, len(numbers) + 1))
    shop = sum(i["key"].startswith("SHOP-") for i in issues)
    assert 0.5 < shop / TICKETS < 0.7


def test_type_mix_and_open_tickets(issues: list[dict[str, Any]]) -> None:
    types = {i["fields"]["issuetype"]["name"] for i in issues}
    assert types == {"Bug", "Story", "Task", "Improvement", "Incident"}
    still_open = [i for i in issues if i["fields"]["status"]["statusCategory"]["key"] != "done"]
    assert 0.03 < len(still_open) / TICKETS < 0.3  # the period ends with work in flight
    assert all(i["fields"]["resolutiondate"] is None for i in still_open)


def test_about_eight_histories_and_three_comments_per_ticket(issues: list[dict[str, Any]]) -> None:
    counts = [histories(i) for i in issues]
    ordinary = [n for n in counts if n <= 100]
    assert 6 <= statistics.median(counts) <= 10
    assert 6 <= statistics.mean(ordinary) <= 10
    assert statistics.mean(counts) <= 12  # the 2% long ones add about two on average
    assert 2 <= statistics.mean(len(i["fields"]["comment"]["comments"]) for i in issues) <= 4


@pytest.mark.parametrize(
    "rate, low, high",
    [
        pytest.param(0.02, 0.01, 0.03, id="default-2-percent"),
        pytest.param(0.0, 0.0, 0.0, id="none"),
        pytest.param(0.2, 0.15, 0.25, id="20-percent"),
    ],
)
def test_long_histories_come_at_the_requested_rate(rate: float, low: float, high: float,
                                                   issues: list[dict[str, Any]]) -> None:
    sample = issues if rate == 0.02 else generate(1000, long_history_rate=rate)
    share = sum(histories(i) > 100 for i in sample) / len(sample)
    assert low <= share <= high


@pytest.mark.parametrize(
    "args",
    [
        pytest.param({"tickets": -1}, id="negative-tickets"),
        pytest.param({"months": 0}, id="no-months"),
        pytest.param({"long_history_rate": 1.5}, id="rate-above-one"),
    ],
)
def test_nonsense_arguments_are_refused(args: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        generate(**{"tickets": 10, **args})


def test_no_tickets_is_an_empty_scenario() -> None:
    assert generate(0) == []


def test_truncate_embeds_the_first_page_and_keeps_the_real_totals(issues: list[dict[str, Any]]) -> None:
    long = next(i for i in issues if histories(i) > 100)
    before = copy.deepcopy(long)
    view = truncate(long)
    assert long == before  # the full issue is untouched
    changelog = view["changelog"]
    assert changelog["maxResults"] == 40 < changelog["total"] == histories(long)
    assert changelog["histories"] == long["changelog"]["histories"][:40]
    assert view["fields"]["summary"] == long["fields"]["summary"]


@pytest.mark.parametrize(
    "max_comments, expect_max, expect_len",
    [
        pytest.param(1, 1, 1, id="cut"),
        pytest.param(50, None, None, id="all-fit"),
    ],
)
def test_truncate_comments(issues: list[dict[str, Any]], max_comments: int, expect_max, expect_len) -> None:
    issue = next(i for i in issues if len(i["fields"]["comment"]["comments"]) >= 3)
    total = len(issue["fields"]["comment"]["comments"])
    page = truncate(issue, max_comments=max_comments)["fields"]["comment"]
    assert page["total"] == total
    assert page["maxResults"] == (expect_max or total)
    assert len(page["comments"]) == (expect_len or total)


def test_truncate_leaves_short_issues_as_they_are(issues: list[dict[str, Any]]) -> None:
    short = [i for i in issues if histories(i) <= 40 and len(i["fields"]["comment"]["comments"]) <= 20]
    assert short and all(truncate(i) == i for i in short[:200])


@pytest.mark.parametrize(
    "count, size, pages",
    [
        pytest.param(0, 100, 1, id="empty"),
        pytest.param(1, 100, 1, id="one"),
        pytest.param(100, 100, 1, id="exactly-one-page"),
        pytest.param(101, 100, 2, id="one-over"),
        pytest.param(250, 100, 3, id="partial-last"),
        pytest.param(7, 1, 7, id="page-size-one"),
    ],
)
def test_search_pages(count: int, size: int, pages: int, issues: list[dict[str, Any]]) -> None:
    sample = issues[:count]
    result = list(search_pages(iter(sample), page_size=size))
    assert len(result) == pages
    assert [i for page in result for i in page["issues"]] == sample
    assert [page["isLast"] for page in result] == [False] * (pages - 1) + [True]
    assert "nextPageToken" not in result[-1]
    tokens = [page["nextPageToken"] for page in result[:-1]]
    assert len(set(tokens)) == len(tokens) and all(isinstance(t, str) and t for t in tokens)
    assert all(len(page["issues"]) <= size for page in result)


def test_search_pages_refuses_empty_pages() -> None:
    with pytest.raises(ValueError):
        next(search_pages([], page_size=0))


def test_write_export_writes_importable_pages_and_clears_stale_ones(tmp_path: Path) -> None:
    stale = tmp_path / "page-0009.json"
    stale.write_text("{}", encoding="utf-8")
    keep = tmp_path / "notes.txt"
    keep.write_text("mine", encoding="utf-8")

    paths = write_export(tmp_path, tickets=250, seed=5, page_size=100)

    assert [p.name for p in paths] == ["page-0001.json", "page-0002.json", "page-0003.json"]
    assert not stale.exists() and keep.exists()
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    exported = [issue for doc in docs for issue in issues_in_document(doc)]
    assert exported == generate(250, seed=5)
    assert [doc["isLast"] for doc in docs] == [False, False, True]
    again = write_export(tmp_path / "again", tickets=250, seed=5, page_size=100)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]
