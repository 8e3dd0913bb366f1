"""What every resolver can reach: the store, the settings, the loaders and the deadline."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from strawberry.fastapi import BaseContext

from api.graphql.loaders import Loaders
from api.settings import Settings
from graph.store import LineageStore


@dataclass
class LineageContext(BaseContext):
    """Per-request context."""

    store: LineageStore
    settings: Settings
    loaders: Loaders = field(init=False)
    #: monotonic time the request's deadline falls at
    deadline_at: float = field(init=False)

    def __post_init__(self) -> None:
        super().__init__()
        self.loaders = Loaders(self.store)
        self.deadline_at = time.monotonic() + self.settings.query_deadline_seconds

    def time_left(self) -> float:
        """Return the seconds left before the request's deadline (a little at least)."""
        return max(self.deadline_at - time.monotonic(), 0.001)
