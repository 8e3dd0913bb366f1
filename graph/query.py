"""The arguments of a lineage query, checked once here for every store."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from graph.errors import InvalidQuery
from graph.keys import Kind, NodeKey

#: The largest hop count any query may ask for (the audit/impact budget).
MAX_HOPS = 100
MAX_LIMIT = 100_000


class Direction(StrEnum):
    """Which way to walk from the start node."""

    UPSTREAM = "UPSTREAM"
    DOWNSTREAM = "DOWNSTREAM"
    BOTH = "BOTH"


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """As-of one moment, or active within [since, until]; all None means now, everything."""

    as_of: float | None = None
    since: float | None = None
    until: float | None = None

    def __post_init__(self) -> None:
        if self.as_of is not None and (self.since is not None or self.until is not None):
            msg = "asOf: give either asOf or a since/until window, not both"
            raise InvalidQuery(msg, field="asOf")
        if self.since is not None and self.until is not None and self.since > self.until:
            msg = "since: the window starts after it ends"
            raise InvalidQuery(msg, field="since")

    @property
    def is_open(self) -> bool:
        """Return whether the window filters nothing."""
        return self.as_of is None and self.since is None and self.until is None

    @property
    def horizon(self) -> float | None:
        """Return the latest moment the window can see, if it has one."""
        return self.as_of if self.as_of is not None else self.until


@dataclass(frozen=True, slots=True)
class LineageQuery:
    """What to traverse and how much of it to return."""

    start: NodeKey
    direction: Direction = Direction.UPSTREAM
    max_hops: int = 10
    kinds: frozenset[Kind] | None = None
    window: TimeWindow = TimeWindow()
    limit: int = 1000
    offset: int = 0
    deadline: float | None = None  # seconds

    def __post_init__(self) -> None:
        if not 0 <= self.max_hops <= MAX_HOPS:
            msg = f"maxHops: {self.max_hops} is outside 0..{MAX_HOPS}"
            raise InvalidQuery(msg, field="maxHops")
        if not 0 <= self.limit <= MAX_LIMIT:
            msg = f"limit: {self.limit} is outside 0..{MAX_LIMIT}"
            raise InvalidQuery(msg, field="limit")
        if self.offset < 0:
            msg_0 = "offset: must not be negative"
            raise InvalidQuery(msg_0, field="offset")
        if self.deadline is not None and self.deadline <= 0:
            msg_0 = "deadline: must be positive"
            raise InvalidQuery(msg_0, field="deadline")
