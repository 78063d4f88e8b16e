"""HTTP mocking for connector tests: every registered response must be used, and nothing else may be asked."""
from __future__ import annotations

from typing import Iterator

import pytest
import responses

from tests.connectors.jira_fakes import Waits


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    """`responses` that fails the test on any unregistered request, even one the retry policy swallowed."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
        unexpected = [
            f"{call.request.method} {call.request.url}" for call in mock.calls
            if isinstance(call.response, Exception) and "Connection refused by Responses" in str(call.response)
        ]
        assert not unexpected, f"unexpected requests: {unexpected}"


@pytest.fixture
def waits() -> Waits:
    return Waits()
