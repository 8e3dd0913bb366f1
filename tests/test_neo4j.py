"""What only the Neo4j store has to prove: same answers as the embedded store, faults, its journal."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.settings import Settings
from graph.errors import StoreUnavailable
from graph.keys import parse_key
from graph.memory import MemoryStore
from graph.neo4j import Neo4jStore
from graph.neo4j.local_server import start_local_neo4j
from graph.query import Direction, LineageQuery
from graph.results import LineageResult
from graph.store import LineageStore
from ingest import native
from ingest.estate import Estate, Plan
from ingest.intake import intake
from tests.backends import open_backend
from tests.graphs import ds, job_doc
from tests.neo4j_server import Neo4jTarget
from tests.snapshots import snapshot

pytestmark = pytest.mark.neo4j


def _answer(result: LineageResult) -> tuple[Any, ...]:
    nodes = sorted((n.record.urn, n.distance, n.resolution.note if n.resolution else None) for n in result.nodes)
    edges = sorted(
        (e.src, e.record.type.value, e.dst, e.record.qualifier, e.record.evidence.count) for e in result.edges
    )
    return (nodes, edges, result.total, result.counts_by_kind, result.is_partial)


async def _ask(store: LineageStore, starts: list[str], pairs: list[tuple[str, str]], words: list[str]) -> list[Any]:
    answers: list[Any] = []
    for urn in starts:
        for direction in Direction:
            query = LineageQuery(parse_key(urn), direction, max_hops=12, limit=60)
            answers.append(_answer(await store.lineage(query)))
    for a, b in pairs:
        found = await store.path(parse_key(a), parse_key(b))
        answers.append(None if found is None else ([n.urn for n in found.nodes], [(e.src, e.dst) for e in found.edges]))
    for word in words:
        result = await store.search(word, limit=10)
        answers.append(([n.urn for n in result.nodes], result.total))
    return answers


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), extra=st.lists(st.integers(0, 5), min_size=0, max_size=6))
async def test_both_stores_give_identical_answers_on_random_estates(
    neo4j_target: Neo4jTarget, tmp_path_factory: pytest.TempPathFactory, seed: int, extra: list[int]
) -> None:
    estate = Estate(Plan(days=3, documents=12, answers=25), seed=seed)
    docs = [native.dumps(d) for d in estate.events()]
    docs += [job_doc(f"extra{i}", [f"t{i}", f"t{(i + 1) % 6}"], [f"t{(i + 2) % 6}"], i) for i in extra]
    rng = random.Random(seed)
    rng.shuffle(docs)
    memory = MemoryStore(tmp_path_factory.mktemp("differential"))
    neo4j = await open_backend("neo4j", Path(), neo4j_target)
    try:
        for store in (memory, neo4j):
            assert not (await intake(store, native.SOURCE, docs)).rejected
        assert await snapshot(memory) == await snapshot(neo4j)
        nodes, _ = await memory.export()
        urns = sorted(n.urn for n in nodes)
        starts = [*rng.sample(urns, k=8), estate.landmarks["answer"], estate.landmarks["source_table"]]
        pairs = [(rng.choice(urns), rng.choice(urns)) for _ in range(5)]
        words = ["orders", "support", "churn-model", "qdrant", "doc-0000"]
        expected = await _ask(memory, starts, pairs, words)
        assert await _ask(neo4j, starts, pairs, words) == expected
        neo4j.cone_full = 0  # no cone brings its records; bare downstream cones ship only their hops' ends
        assert await _ask(neo4j, starts, pairs, words) == expected
        neo4j.cone_caps = {True: 0, False: 0}  # no cone: every level and the page read by their own statements
        neo4j.lean_cone_cap = 0
        assert await _ask(neo4j, starts, pairs, words) == expected
    finally:
        await memory.close()
        await neo4j.close()


async def test_an_altered_journal_record_is_named(store_neo4j: Neo4jStore) -> None:
    await intake(store_neo4j, "native", [job_doc(f"j{i}", [f"t{i}"], [f"t{i + 1}"], i) for i in range(4)])
    assert (await store_neo4j.verify()).intact
    await store_neo4j.driver.execute_query("MATCH (j:JournalRecord {seq: 3}) SET j.raw = j.raw + ' '")
    report = await store_neo4j.verify()
    assert not report.intact and report.broken_seq == 3


async def test_edges_written_before_edge_keys_are_keyed_on_open(
    store_neo4j: Neo4jStore, neo4j_target: Neo4jTarget
) -> None:
    await intake(store_neo4j, "native", [job_doc("j", ["a"], ["b"])])
    before = await snapshot(store_neo4j)
    await store_neo4j.driver.execute_query("MATCH ()-[r]->() REMOVE r.key")
    await store_neo4j.driver.execute_query("MATCH (h:JournalHead) REMOVE h.edge_keys")
    reopened = await open_backend("neo4j", Path(), neo4j_target, fresh=False)
    try:
        assert await snapshot(reopened) == before
        await intake(reopened, "native", [job_doc("j", ["a"], ["b"], 1)])  # a re-sighting updates, not duplicates
        records, _, _ = await reopened.driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n, count(r.key) AS k")
        assert records[0]["n"] == records[0]["k"] == len((await reopened.export())[1])
    finally:
        await reopened.close()


@pytest.mark.slow
async def test_a_restart_gives_a_retryable_error_applies_nothing_and_recovers(tmp_path: Path) -> None:
    server = start_local_neo4j(home=tmp_path / "home")
    port = int(server.uri.rsplit(":", 1)[1])
    # The default read timeout: a cold Neo4j on a busy machine may take seconds to compile its first reads.
    store = await Neo4jStore.open(server.uri, retry_seconds=1.0)
    app = create_app(Settings(data_dir=tmp_path), store)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:
        await intake(store, "native", [job_doc("before", ["a"], ["b"])])
        before = await snapshot(store)
        head = await store.head()
        server.stop()
        with pytest.raises(StoreUnavailable) as caught:
            await intake(store, "native", [job_doc("during", ["b"], ["c"])])
        assert caught.value.is_retryable()
        answer = await client.post("/api/v1/graph", content=job_doc("during", ["b"], ["c"]))
        assert answer.status_code == 503 and answer.headers["Retry-After"]
        server = start_local_neo4j(home=tmp_path / "home", port=port)
        assert await snapshot(store) == before  # nothing of the failed input was kept
        assert await store.head() == head
        report = await intake(store, "native", [job_doc("during", ["b"], ["c"])])
        assert report.count("accepted") == 1
        assert (await store.verify()).intact
    finally:
        await client.aclose()
        await store.close()
        server.stop()


def test_compose_runs_neo4j_526_and_the_service_on_loopback_ports() -> None:
    compose = yaml.safe_load((Path(__file__).parent.parent / "docker-compose.yml").read_text())
    neo4j, service = compose["services"]["neo4j"], compose["services"]["lineage"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert "healthcheck" in neo4j and neo4j["volumes"] == ["neo4j-data:/data"]
    assert any(k.startswith("NEO4J_server_memory") for k in neo4j["environment"])
    assert service["build"] == "."
    assert service["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert service["environment"]["LINEAGE_NEO4J_URI"] == "bolt://neo4j:7687"
    for ports in (neo4j["ports"], service["ports"]):
        assert all(p.startswith("127.0.0.1:") for p in ports)
    assert (Path(__file__).parent.parent / "Dockerfile").read_text().count("lineage") >= 2


async def test_concurrent_first_writes_form_one_chain(store_neo4j: Neo4jStore) -> None:
    docs = [job_doc(f"parallel{i}", [f"in{i}"], [f"out{i}"], i) for i in range(8)]
    reports = await asyncio.gather(*(intake(store_neo4j, "native", [d]) for d in docs))
    assert [r.count("accepted") for r in reports] == [1] * 8
    report = await store_neo4j.verify()
    assert report.intact and report.checked == 8


async def test_concurrent_single_events_share_transactions_and_keep_their_own_outcomes(
    store_neo4j: Neo4jStore,
) -> None:
    docs = [job_doc(f"airflow_task{i}", [f"raw{i}"], [f"clean{i}"], i) for i in range(10)]
    docs.append(docs[3])  # the same event re-sent by another worker while the first is in flight
    before = store_neo4j.group_commit.transactions
    reports = await asyncio.gather(*(intake(store_neo4j, "native", [d]) for d in docs))
    assert [r.outcomes[0].status for r in reports] == ["accepted"] * 10 + ["duplicate"]
    assert reports[10].outcomes[0].id == reports[3].outcomes[0].id
    assert store_neo4j.group_commit.transactions - before < len(docs)
    report = await store_neo4j.verify()
    assert report.intact and report.checked == 10
    down = await store_neo4j.lineage(LineageQuery(parse_key(ds("raw7")), Direction.DOWNSTREAM))
    assert ds("clean7") in {n.record.urn for n in down.nodes}
