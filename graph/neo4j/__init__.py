"""The Neo4j store (production) and a launcher for a local Neo4j without Docker."""

from graph.neo4j.store import Neo4jStore

__all__ = ["Neo4jStore"]
