"""The errors the graph layer raises, so callers can answer each with the right status.

LineageError
├── InvalidInput            the caller sent something wrong; never retry as is (4xx)
│   ├── InvalidKey          a malformed id, an unknown kind, a missing version
│   ├── InvalidDelta        an edge of the wrong kinds, a delta that contradicts itself
│   └── InvalidQuery        a negative hop count, a bad time window
├── NodeNotFound            the start of a query is not in the graph (404)
├── QueryDeadlineExceeded   the deadline cut a query; carries the partial result
└── StoreUnavailable        the store cannot be reached now; retryable (503)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graph.results import LineageResult


class LineageError(Exception):
    """The root of every error this package raises on purpose."""

    def is_retryable(self) -> bool:
        """Return whether the same call may succeed later."""
        return False


class InvalidInput(LineageError):
    """The caller sent something the graph cannot accept."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidKey(InvalidInput):
    """A node key or id is malformed."""


class InvalidDelta(InvalidInput):
    """A graph change is inconsistent (wrong kinds on an edge, bad times)."""


class InvalidQuery(InvalidInput):
    """A query's arguments are out of range."""


class NodeNotFound(LineageError):
    """The node a query starts from does not exist."""

    def __init__(self, urn: str) -> None:
        super().__init__(f"id: no node {urn}")
        self.urn = urn


class QueryDeadlineExceeded(LineageError):
    """The query ran past its deadline; ``partial`` holds what was found until then."""

    def __init__(self, deadline: float, partial: LineageResult | None = None) -> None:
        super().__init__(f"query exceeded its deadline of {deadline:.3f}s")
        self.deadline = deadline
        self.partial = partial


class StoreUnavailable(LineageError):
    """The store cannot serve the call now (a database restarting, a network blip)."""

    def is_retryable(self) -> bool:
        """Return True: the same call may succeed once the store is back."""
        return True
