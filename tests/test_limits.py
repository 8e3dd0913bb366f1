"""Limits: body size on every route, rate limits with Retry-After, hop limits, and hostile names kept as data."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.ratelimit import RateLimiter
from api.settings import Settings
from api.tokens import Scope, TokenStore
from graph.keys import Kind, NodeKey
from graph.memory import MemoryStore
from graph.query import Direction, LineageQuery
from graph.store import LineageStore
from ingest import native
from ingest.intake import intake
from tests.graphs import ds, edge, job
from tests.snapshots import snapshot

HOSTILE = [
    "it's",
    'say "hi"',
    "back`tick`",
    "}) DETACH DELETE n //",
    "x'}) MATCH (m) DETACH DELETE m //",
    "'; DROP TABLE nodes; --",
    '" OR 1=1 --',
    "$urns",
    "{urn: 'x'}",
    "a\\b\\'c",
    "🙂 ünïcode",
    "%3A:%25",
]
LINEAGE = """query ($id: ID!, $hops: Int) { lineage(id: $id, maxHops: $hops) { __typename
  ... on Lineage { nodes { node { id namespace name } } } ... on InvalidArgument { field message } } }"""


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    store = MemoryStore(tmp_path / "data")
    settings = Settings(data_dir=tmp_path, max_body_bytes=4096, rate_limit_per_second=0)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, store)), base_url="http://test"
    ) as c:
        yield c
    await store.close()


@pytest.mark.parametrize("path", ["/graphql", "/api/v1/lineage", "/api/v1/lineage/batch", "/api/v1/graph"])
async def test_a_body_over_the_limit_is_a_413_on_every_route(client: httpx.AsyncClient, path: str) -> None:
    declared = await client.post(path, content=b" " * 5000, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "limit of 4096" in declared.json()["error"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(10):
            yield b" " * 1000

    streamed = await client.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


async def test_a_body_under_the_limit_passes(client: httpx.AsyncClient) -> None:
    query = {"query": '{ node(id: "dataset:a:b") { __typename } }'}
    answer = await client.post("/graphql", json=query)
    assert answer.status_code == 200 and answer.json()["data"]["node"]["__typename"] == "NotFound"


async def test_max_hops_over_the_ceiling_is_an_invalid_argument(client: httpx.AsyncClient) -> None:
    answer = await client.post("/graphql", json={"query": LINEAGE, "variables": {"id": ds("a"), "hops": 101}})
    assert answer.json()["data"]["lineage"]["__typename"] == "InvalidArgument"
    assert answer.json()["data"]["lineage"]["field"] == "maxHops"


def test_a_token_bucket_allows_a_burst_then_the_rate() -> None:
    limiter = RateLimiter(rate=2.0, burst=3)
    assert [limiter.take("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a", now=0.0) == pytest.approx(0.5)  # empty: the next token in half a second
    assert limiter.take("b", now=0.0) == 0.0  # another caller has its own bucket
    assert limiter.take("a", now=0.5) == 0.0
    assert limiter.take("a", now=100.0) == 0.0 and limiter.buckets["a"].tokens == pytest.approx(2.0)  # capped


async def test_over_the_rate_a_caller_gets_429_with_retry_after_and_others_do_not(tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    first, _ = tokens.create({Scope.READ})
    second, _ = tokens.create({Scope.READ})
    store = MemoryStore(tmp_path / "data")
    settings = Settings(data_dir=tmp_path, rate_limit_per_second=0.01, rate_limit_burst=5)
    query = {"query": '{ node(id: "dataset:a:b") { __typename } }'}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings, store)), base_url="http://test"
    ) as client:
        statuses = [
            (await client.post("/graphql", json=query, headers={"Authorization": f"Bearer {first}"})).status_code
            for _ in range(7)
        ]
        assert statuses == [200] * 5 + [429] * 2
        limited = await client.post("/graphql", json=query, headers={"Authorization": f"Bearer {first}"})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert "rate limit" in limited.json()["error"]
        other = await client.post("/graphql", json=query, headers={"Authorization": f"Bearer {second}"})
        assert other.status_code == 200
        assert (await client.get("/healthz")).status_code == 200  # probes are never limited
    tokens.close()
    await store.close()


def _hostile_doc() -> tuple[str, set[str]]:
    edges, urns = [], set()
    for i, text in enumerate(HOSTILE):
        src = NodeKey(Kind.DATASET, f"ns {text}", f"in {text}").urn
        dst = NodeKey(Kind.DATASET, f"ns {text}", f"out {text}").urn
        j = NodeKey(Kind.JOB, text, text).urn
        edges += [edge(src, "INPUT_OF", j, i), edge(j, "PRODUCED", dst, i)]
        urns |= {src, dst, j}
    return json.dumps({"edges": edges}), urns


async def test_injection_strings_in_names_and_namespaces_round_trip_and_delete_nothing(store: LineageStore) -> None:
    keep = json.dumps({"edges": [edge(ds("raw"), "INPUT_OF", job("load")), edge(job("load"), "PRODUCED", ds("c"))]})
    assert (await intake(store, native.SOURCE, [keep])).count("accepted") == 1
    before_nodes, before_edges = await snapshot(store)
    doc, urns = _hostile_doc()
    assert (await intake(store, native.SOURCE, [doc])).count("accepted") == 1
    after_nodes, after_edges = await snapshot(store)
    assert before_nodes <= after_nodes and before_edges <= after_edges  # nothing deleted
    found = await store.get(urns)
    assert set(found) == urns
    assert {(r.key.namespace, r.key.name) for r in found.values() if r.kind is Kind.JOB} == {(t, t) for t in HOSTILE}
    for text in HOSTILE:
        out = NodeKey(Kind.DATASET, f"ns {text}", f"out {text}")
        result = await store.lineage(LineageQuery(out, Direction.UPSTREAM, max_hops=3))
        assert result.urns() == {
            out.urn,
            NodeKey(Kind.JOB, text, text).urn,
            NodeKey(Kind.DATASET, f"ns {text}", f"in {text}").urn,
        }
        hits = await store.search(text, limit=50)
        assert out.urn in {n.urn for n in hits.nodes}
    assert (await store.verify()).intact
    nodes, _ = await store.export()
    assert len(nodes) == 3 + len(urns)


async def test_injection_strings_round_trip_through_graphql(client: httpx.AsyncClient) -> None:
    doc, _ = _hostile_doc()
    big = Settings(max_body_bytes=1 << 20)  # the hostile document is over this client's small limit
    assert big.max_body_bytes > len(doc)
    for text in HOSTILE[:6]:
        one = json.dumps({"edges": [edge(NodeKey(Kind.DATASET, text, text).urn, "INPUT_OF", job(text))]})
        assert (await client.post("/api/v1/graph", content=one)).status_code == 200
        answer = await client.post(
            "/graphql",
            json={"query": LINEAGE, "variables": {"id": job(text), "hops": 1}},
        )
        nodes = {(n["node"]["namespace"], n["node"]["name"]) for n in answer.json()["data"]["lineage"]["nodes"]}
        assert nodes == {("airflow://etl", text), (text, text)}
