"""Connector errors, split by what the caller should do about them."""
from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error a connector raises."""


class FatalError(ConnectorError):
    """Stop the run: bad credentials, a missing permission, a misconfigured source."""


class RetriableError(ConnectorError):
    """Try again later: 429, 5xx, timeouts. `wait` is the server's Retry-After, if any."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class SkippableError(ConnectorError):
    """One malformed item: refuse it, say why, keep going with the rest."""
