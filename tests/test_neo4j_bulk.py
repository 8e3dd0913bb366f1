"""Copying an embedded store into an empty Neo4j: the same journal, the same graph, the same answers."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from graph.keys import parse_key
from graph.memory import MemoryStore
from graph.neo4j import Neo4jStore
from graph.neo4j.bulk import TargetNotEmpty, copy_embedded
from graph.query import Direction, LineageQuery
from graph.results import LineageResult
from graph.store import LineageStore
from ingest import native
from ingest.estate import Estate, Plan
from ingest.intake import intake
from tests.corpus import food_delivery
from tests.neo4j_server import Neo4jTarget
from tests.snapshots import snapshot

pytestmark = pytest.mark.neo4j
HELD_BACK = 40  # estate events applied to both stores after the copy


@pytest.fixture
def events() -> tuple[Estate, list[str]]:
    """A small estate's events in event-time order."""
    estate = Estate(Plan(days=3, documents=20, answers=40), seed=11)
    return estate, [native.dumps(d) for d in estate.events()]


@pytest.fixture
async def embedded(tmp_path: Path, events: tuple[Estate, list[str]]) -> AsyncIterator[MemoryStore]:
    """An embedded store with most of the estate, Marquez's OpenLineage seed events and two refused inputs."""
    _, docs = events
    store = MemoryStore(tmp_path / "embedded")
    assert not (await intake(store, native.SOURCE, docs[:-HELD_BACK])).rejected
    assert not (await intake(store, "openlineage", food_delivery())).rejected
    refused = await intake(store, "openlineage", ['{"eventType": "START"}', "not json"])
    assert len(refused.rejected) == 2
    yield store
    await store.close()


def _answer(result: LineageResult) -> tuple[Any, ...]:
    nodes = {(n.record.urn, n.distance, n.resolution.note if n.resolution else None) for n in result.nodes}
    edges = {(e.src, e.record.type.value, e.dst, e.record.qualifier, e.record.evidence.count) for e in result.edges}
    return (nodes, edges, result.total, result.counts_by_kind, result.is_partial)


async def _answers(store: LineageStore, urns: list[str], estate: Estate) -> list[Any]:
    rng = random.Random(3)
    landmarks = [estate.landmarks["answer"], estate.landmarks["source_table"]]
    starts = [*rng.sample(urns, k=10), *(u for u in landmarks if u in urns)]
    found: list[Any] = []
    for urn in starts:
        for direction in Direction:
            found.append(_answer(await store.lineage(LineageQuery(parse_key(urn), direction, max_hops=12, limit=60))))
    for a, b in zip(starts, reversed(starts), strict=True):
        path = await store.path(parse_key(a), parse_key(b))
        found.append(None if path is None else ([n.urn for n in path.nodes], [(e.src, e.dst) for e in path.edges]))
    for word in ("orders", "support", "food_delivery", "embedding"):
        result = await store.search(word, limit=10)
        found.append(([n.urn for n in result.nodes], result.total))
    return found


async def _journal(store: LineageStore) -> list[Any]:
    return [*(await store.journal(0, 100_000)), await store.head(), await store.verify(), await store.dead_letters()]


async def test_copied_store_answers_as_the_embedded_one(
    embedded: MemoryStore, store_neo4j: Neo4jStore, events: tuple[Estate, list[str]]
) -> None:
    estate, docs = events
    copied = await copy_embedded(embedded.file, store_neo4j)
    stats = embedded.stats()
    assert (copied.nodes, copied.edges, copied.journal, copied.dead_letters) == (
        stats["nodes"],
        stats["edges"],
        stats["journal"],
        2,
    )
    assert await snapshot(store_neo4j) == await snapshot(embedded)
    assert await _journal(store_neo4j) == await _journal(embedded)
    assert (await store_neo4j.verify()).intact
    urns = sorted(n.urn for n in (await embedded.export())[0])
    assert await _answers(store_neo4j, urns, estate) == await _answers(embedded, urns, estate)

    # The copy goes on as if every input had been applied to it: the held-back events, a re-sent
    # one (kept already) and a new refusal extend both stores alike.
    for store in (embedded, store_neo4j):
        report = await intake(store, native.SOURCE, [*docs[-HELD_BACK:], docs[0]], received_at=1.8e9)
        assert (report.count("accepted"), report.count("duplicate"), report.rejected) == (HELD_BACK, 1, [])
        assert len((await intake(store, "openlineage", ["[]"], received_at=1.8e9)).rejected) == 1
    assert await snapshot(store_neo4j) == await snapshot(embedded)
    assert await _journal(store_neo4j) == await _journal(embedded)
    assert (await store_neo4j.verify()).intact
    assert await _answers(store_neo4j, urns, estate) == await _answers(embedded, urns, estate)


async def test_copy_refuses_a_target_that_holds_data(embedded: MemoryStore, store_neo4j: Neo4jStore) -> None:
    await store_neo4j.reject("openlineage", "{}", "/eventType: missing", 1.7e9)
    with pytest.raises(TargetNotEmpty, match="not empty"):
        await copy_embedded(embedded.file, store_neo4j)
    assert len(await store_neo4j.dead_letters()) == 1
    assert await store_neo4j.head() == (0, "0" * 64)


async def test_import_command_copies_a_data_folder(
    embedded: MemoryStore, store_neo4j: Neo4jStore, neo4j_target: Neo4jTarget
) -> None:
    assert neo4j_target.password is None or neo4j_target.user is not None
    args = ["neo4j", "import", "--data", str(embedded.data_dir), "--uri", neo4j_target.uri]
    if neo4j_target.user and neo4j_target.password:
        args += ["--user", neo4j_target.user, "--password", neo4j_target.password]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 0, result.output
    assert "copied" in result.output
    assert await store_neo4j.head() == await embedded.head()
    assert await snapshot(store_neo4j) == await snapshot(embedded)
    again = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert again.exit_code == 2
    assert "not empty" in again.output
