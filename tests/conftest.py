"""Fixtures: every contract test runs once per store backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from graph.memory import MemoryStore
from graph.neo4j import Neo4jStore
from graph.store import LineageStore
from ingest import native
from ingest.estate import Estate, Plan
from ingest.intake import intake
from tests.backends import BACKENDS, open_backend
from tests.neo4j_server import Neo4jTarget, neo4j_server

StoreFactory = Callable[[], Awaitable[LineageStore]]


@pytest.fixture(scope="session")
def neo4j_target() -> Iterator[Neo4jTarget]:
    """The session's Neo4j (started on first use only)."""
    with neo4j_server() as target:
        yield target


@pytest.fixture
async def store_neo4j(neo4j_target: Neo4jTarget) -> AsyncIterator[Neo4jStore]:
    """The session's Neo4j as a store, emptied."""
    store = await open_backend("neo4j", Path(), neo4j_target)
    assert isinstance(store, Neo4jStore)
    yield store
    await store.close()


@pytest.fixture(params=[pytest.param(b, marks=getattr(pytest.mark, b)) for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the store backend under test."""
    return str(request.param)


@pytest.fixture
def target(backend: str, request: pytest.FixtureRequest) -> Neo4jTarget | None:
    """The Neo4j server when the backend needs one."""
    return request.getfixturevalue("neo4j_target") if backend == "neo4j" else None


@pytest.fixture
async def store(backend: str, target: Neo4jTarget | None, tmp_path: Path) -> AsyncIterator[LineageStore]:
    """A fresh, empty store."""
    s = await open_backend(backend, tmp_path / "store", target)
    yield s
    await s.close()


@pytest.fixture
async def new_store(
    backend: str, target: Neo4jTarget | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[StoreFactory]:
    """Make fresh stores on demand, one after the other (Neo4j's is emptied for each)."""
    opened: list[LineageStore] = []

    async def make() -> LineageStore:
        s = await open_backend(backend, tmp_path_factory.mktemp("store"), target)
        opened.append(s)
        return s

    yield make
    for s in opened:
        await s.close()


@pytest.fixture(scope="session")
def estate() -> Estate:
    """The demo estate's events (a small one), generated once."""
    estate = Estate(Plan.for_nodes(3000), seed=7)
    estate.docs = [native.dumps(d) for d in estate.events()]  # type: ignore[attr-defined]
    return estate


@pytest.fixture(scope="session")
async def demo_store(tmp_path_factory: pytest.TempPathFactory, estate: Estate) -> AsyncIterator[LineageStore]:
    """An embedded store with the demo estate loaded, shared by read-only tests."""
    store = MemoryStore(tmp_path_factory.mktemp("demo"))
    report = await intake(store, native.SOURCE, estate.docs)  # type: ignore[attr-defined]
    assert not report.rejected, report.rejected[:3]
    yield store
    await store.close()
