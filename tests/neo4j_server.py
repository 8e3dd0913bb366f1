"""One Neo4j for the whole test session: NEO4J_URI if set, else Docker, else the local launcher.

CI has no Docker engine, so there the launcher starts Neo4j 5.26 from Maven Central's jars.
If none of the three can give a server, the Neo4j tests fail with the reason; they never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@dataclass(frozen=True)
class Neo4jTarget:
    """Where the session's Neo4j answers, and how to log in (None: auth is off)."""

    uri: str
    user: str | None = None
    password: str | None = None


@contextmanager
def neo4j_server() -> Iterator[Neo4jTarget]:
    """Yield a running Neo4j, started for the session if need be."""
    if os.environ.get("NEO4J_URI"):
        yield Neo4jTarget(os.environ["NEO4J_URI"], os.environ.get("NEO4J_USER"), os.environ.get("NEO4J_PASSWORD"))
        return
    if _docker_answers():
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26-community") as container:
            yield Neo4jTarget(container.get_connection_url(), container.username, container.password)
        return
    from graph.neo4j.local_server import start_local_neo4j

    server = start_local_neo4j()
    try:
        yield Neo4jTarget(server.uri)
    finally:
        server.stop()
