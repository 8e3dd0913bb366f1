"""Open the store the settings name: Neo4j when a URI is set, else the embedded store."""

from __future__ import annotations

from api.settings import Settings
from graph.memory import MemoryStore
from graph.neo4j import Neo4jStore
from graph.store import LineageStore


async def open_store(settings: Settings) -> LineageStore:
    """Return the store the settings name."""
    if settings.neo4j_uri:
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else None
        return await Neo4jStore.open(
            settings.neo4j_uri,
            user=settings.neo4j_user,
            password=password,
            database=settings.neo4j_database,
            read_timeout=settings.query_deadline_seconds,
        )
    return MemoryStore(settings.data_dir, synchronous=settings.sqlite_synchronous)


def describe(settings: Settings) -> str:
    """Say which store the settings name, without secrets."""
    if settings.neo4j_uri:
        return f"Neo4j at {settings.neo4j_uri} (database {settings.neo4j_database})"
    return f"the embedded store in {settings.data_dir}"
