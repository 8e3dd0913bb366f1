"""The embedded store: networkx in memory, SQLite on disk."""

from graph.memory.store import MemoryStore

__all__ = ["MemoryStore"]
