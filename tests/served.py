"""The app on a real loopback port, for clients that speak HTTP (OTel exporters, OpenLineage's transport)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from api.app import create_app
from api.settings import Settings
from tests.backends import open_backend
from tests.neo4j_server import Neo4jTarget


def settings_for(backend: str, folder: Path, target: Neo4jTarget | None, **extra: object) -> Settings:
    """Return settings that open this backend (the server opens its store on its own event loop)."""
    if backend == "neo4j":
        assert target is not None
        return Settings(
            data_dir=folder, neo4j_uri=target.uri, neo4j_user=target.user, neo4j_password=target.password, **extra
        )  # type: ignore[arg-type]
    return Settings(data_dir=folder, **extra)  # type: ignore[arg-type]


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Run the app in a thread until the block ends; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            msg = "the app did not start"
            raise RuntimeError(msg)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def emptied(backend: str, folder: Path, target: Neo4jTarget | None) -> None:
    """Empty the backend's store before a served test (Neo4j has one database to share)."""

    async def wipe() -> None:
        store = await open_backend(backend, folder, target, fresh=True)
        await store.close()

    asyncio.run(wipe())
