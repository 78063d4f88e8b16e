"""Issues changed lately are read by id through `reconcileIssues`, 50 a search, within the
configured filter; an id that is no number is left out, and a refused search is logged, not fatal."""
from __future__ import annotations

import logging
from typing import Any, Iterator, Sequence

import pytest

from connectors.jira_http import Refused
from connectors.jira_waiting import RECONCILE_IDS, read_reconciled


def test_ids_are_read_fifty_a_search_within_the_filter(caplog: pytest.LogCaptureFixture) -> None:
    asked: list[tuple[str, list[int]]] = []

    def search(jql: str, reconcile: Sequence[int] = ()) -> Iterator[tuple[list[dict[str, Any]], Any]]:
        asked.append((jql, list(reconcile)))
        if 10051 in reconcile:
            raise Refused("An issue with key '10051' does not exist for field 'id'.")
        yield [{"id": str(i)} for i in reconcile], None

    ids = [str(10000 + n) for n in range(120)] + ["10001", "SHOP-1", "１２３", ""]
    with caplog.at_level(logging.WARNING):
        found = read_reconciled(search, "project in (SHOP)", ids, "acme-jira")
    assert [len(r) for _, r in asked] == [RECONCILE_IDS, RECONCILE_IDS, 20]
    assert asked[0][0] == ("project in (SHOP) AND id in (" + ", ".join(str(10000 + n) for n in range(50))
                           + ") ORDER BY updated ASC")
    assert [int(raw["id"]) for raw in found] == list(range(10000, 10050)) + list(range(10100, 10120))
    assert "could not read 50 recently changed issues consistently" in caplog.text
