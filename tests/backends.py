"""The stores every contract test runs against, by name; the Neo4j store joins this list."""

from __future__ import annotations

from pathlib import Path

from graph.memory import MemoryStore
from graph.store import LineageStore

BACKENDS = ["memory"]


async def open_backend(name: str, folder: Path) -> LineageStore:
    """Return a fresh, empty store of this backend."""
    if name == "memory":
        return MemoryStore(folder)
    msg = f"unknown backend {name!r}"
    raise ValueError(msg)
