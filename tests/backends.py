"""The stores every contract test runs against, by name."""

from __future__ import annotations

from pathlib import Path

from graph.memory import MemoryStore
from graph.neo4j import Neo4jStore
from graph.store import LineageStore
from tests.neo4j_server import Neo4jTarget

BACKENDS = ["memory", "neo4j"]


async def open_backend(
    name: str, folder: Path, neo4j: Neo4jTarget | None = None, *, fresh: bool = True
) -> LineageStore:
    """Return a store of this backend; ``fresh`` empties it first (Neo4j has one database to share)."""
    if name == "memory":
        return MemoryStore(folder)
    if name == "neo4j":
        assert neo4j is not None, "the neo4j backend needs the session's server"
        store = await Neo4jStore.open(neo4j.uri, user=neo4j.user, password=neo4j.password)
        if fresh:
            async with store.driver.session(database=store.database) as session:  # an implicit transaction
                await (
                    await session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")
                ).consume()
        return store
    msg = f"unknown backend {name!r}"
    raise ValueError(msg)
