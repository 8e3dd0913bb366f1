"""Open the store the settings name (a registry by backend, so the app never imports one)."""

from __future__ import annotations

from api.settings import Settings
from graph.memory import MemoryStore
from graph.store import LineageStore


async def open_store(settings: Settings) -> LineageStore:
    """Return the embedded store under the data folder."""
    return MemoryStore(settings.data_dir, synchronous=settings.sqlite_synchronous)
