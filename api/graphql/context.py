"""What every resolver can reach: the store and the settings."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.fastapi import BaseContext

from api.settings import Settings
from graph.store import LineageStore


@dataclass
class LineageContext(BaseContext):
    """Per-request context."""

    store: LineageStore
    settings: Settings

    def __post_init__(self) -> None:
        super().__init__()
