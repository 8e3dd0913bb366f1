"""The service over HTTP: health, native ingest, GraphQL node and lineage, errors never 500."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from graph.store import LineageStore
from ingest.estate import Estate
from tests.graphs import ds, job, job_doc

LINEAGE = """
query ($id: ID!, $direction: Direction!, $hops: Int) {
  lineage(id: $id, direction: $direction, maxHops: $hops) {
    __typename
    ... on Lineage { total isPartial nodes { distance node { id kind name } } edges { source target type } }
    ... on NotFound { message }
    ... on InvalidArgument { field message }
  }
}
"""


@pytest.fixture
async def client(store: LineageStore, tmp_path: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(data_dir=str(tmp_path), max_body_bytes=64 * 1024), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


@pytest.fixture
async def demo_client(demo_store: LineageStore, tmp_path: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(data_dir=str(tmp_path)), demo_store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_native_ingest_then_lineage_over_graphql(client: httpx.AsyncClient) -> None:
    posted = await client.post("/api/v1/graph", content=job_doc("load", ["raw"], ["clean"]))
    assert posted.status_code == 200 and posted.json()["accepted"] == 1
    again = await client.post("/api/v1/graph", content=job_doc("load", ["raw"], ["clean"]))
    assert again.json()["duplicates"] == 1
    answer = await client.post(
        "/graphql", json={"query": LINEAGE, "variables": {"id": ds("clean"), "direction": "UPSTREAM"}}
    )
    body = answer.json()["data"]["lineage"]
    assert body["__typename"] == "Lineage"
    assert {(n["node"]["id"], n["distance"]) for n in body["nodes"]} == {
        (ds("clean"), 0),
        (job("load"), 1),
        (ds("raw"), 2),
    }
    assert {(e["source"], e["type"], e["target"]) for e in body["edges"]} == {
        (job("load"), "PRODUCED", ds("clean")),
        (ds("raw"), "INPUT_OF", job("load")),
    }


async def test_gzip_bodies_are_accepted(client: httpx.AsyncClient) -> None:
    body = gzip.compress(job_doc("zipped", ["a"], ["b"]).encode())
    posted = await client.post("/api/v1/graph", content=body, headers={"Content-Encoding": "gzip"})
    assert posted.status_code == 200 and posted.json()["accepted"] == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "/: not JSON"),
        (
            b'{"edges": [{"src": "urn:lineage:gizmo:a:b", "type": "INPUT_OF", "dst": "job:a:b", '
            b'"time": "2026-11-20T10:00:00Z"}]}',
            "/edges/0/",
        ),
        (b'{"edges": [{"src": "dataset:a:b", "type": "INPUT_OF", "dst": "job:a:b"}]}', "/edges/0/time"),
        (
            b'{"edges": [{"src": "dataset:a:b", "type": "FLOWS", "dst": "job:a:b", "time": "2026-11-20T10:00:00Z"}]}',
            "unknown edge type",
        ),
        (b'{"nodes": [], "surprise": 1}', "/surprise"),
    ],
)
async def test_bad_input_is_a_400_naming_the_problem_and_is_dead_lettered(
    client: httpx.AsyncClient, store: LineageStore, body: bytes, reason: str
) -> None:
    answer = await client.post("/api/v1/graph", content=body)
    assert answer.status_code == 400
    text = json.dumps(answer.json())
    assert reason in text
    letters = await store.dead_letters()
    assert letters and reason in letters[0].reason


async def test_a_body_over_the_limit_is_refused_with_413(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/graph", content=b"[" + b" " * 70_000 + b"]")
    assert answer.status_code == 413


async def test_graphql_errors_are_typed_results(client: httpx.AsyncClient) -> None:
    missing = await client.post(
        "/graphql", json={"query": LINEAGE, "variables": {"id": ds("nowhere"), "direction": "UPSTREAM"}}
    )
    assert missing.json()["data"]["lineage"]["__typename"] == "NotFound"
    bad = await client.post(
        "/graphql", json={"query": LINEAGE, "variables": {"id": "what:is:this", "direction": "UPSTREAM"}}
    )
    assert bad.json()["data"]["lineage"] == {
        "__typename": "InvalidArgument",
        "field": "id",
        "message": "id: 'what:is:this' is neither a urn:lineage: id nor a Marquez node id "
        "(dataset:<namespace>:<name>, job:<namespace>:<name>)",
    }
    negative = await client.post(
        "/graphql", json={"query": LINEAGE, "variables": {"id": ds("a"), "direction": "UPSTREAM", "hops": -1}}
    )
    assert negative.json()["data"]["lineage"] == {
        "__typename": "InvalidArgument",
        "field": "maxHops",
        "message": "maxHops: -1 is outside 0..100",
    }


async def test_node_by_marquez_id_on_the_demo(demo_client: httpx.AsyncClient, estate: Estate) -> None:
    query = "query ($id: ID!) { node(id: $id) { __typename ... on Node { id kind namespace name } } }"
    answer = await demo_client.post(
        "/graphql",
        json={"query": query, "variables": {"id": "dataset:postgres://orders-db.internal:5432:shop.public.orders"}},
    )
    assert answer.json()["data"]["node"] == {
        "__typename": "Dataset",
        "id": estate.landmarks["orders_table"],
        "kind": "Dataset",
        "namespace": "postgres://orders-db.internal:5432",
        "name": "shop.public.orders",
    }
