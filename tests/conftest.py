"""Fixtures: every contract test runs once per store backend."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from graph.store import LineageStore
from tests.backends import BACKENDS, open_backend

StoreFactory = Callable[[], Awaitable[LineageStore]]


@pytest.fixture(params=[pytest.param(b, marks=getattr(pytest.mark, b)) for b in BACKENDS])
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the store backend under test."""
    return str(request.param)


@pytest.fixture
async def store(backend: str, tmp_path: Path) -> AsyncIterator[LineageStore]:
    """A fresh, empty store."""
    s = await open_backend(backend, tmp_path / "store")
    yield s
    await s.close()


@pytest.fixture
async def new_store(backend: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[StoreFactory]:
    """Make fresh stores on demand (for property tests that need one per example)."""
    opened: list[LineageStore] = []

    async def make() -> LineageStore:
        s = await open_backend(backend, tmp_path_factory.mktemp("store"))
        opened.append(s)
        return s

    yield make
    for s in opened:
        await s.close()
