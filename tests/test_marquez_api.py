"""Marquez's `GET /api/v1/lineage` on Marquez's own seed events, sent through the OpenLineage source.

The expected graph is computed here from the raw events with Marquez's rule (jobs connected through
a shared dataset, ``depth`` steps out), independently of the service.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from graph.store import LineageStore
from ingest.intake import intake
from tests.corpus import food_delivery

NS = "food_delivery"


def io_of_jobs() -> dict[str, tuple[set[str], set[str]]]:
    """Return each job's input and output dataset ids, as Marquez names them, from the raw events."""
    io: dict[str, tuple[set[str], set[str]]] = {}
    for text in food_delivery():
        event = json.loads(text)
        job = f"job:{event['job']['namespace']}:{event['job']['name']}"
        ins, outs = io.setdefault(job, (set(), set()))
        ins.update(f"dataset:{d['namespace']}:{d['name']}" for d in event.get("inputs", []))
        outs.update(f"dataset:{d['namespace']}:{d['name']}" for d in event.get("outputs", []))
    return io


def expected_graph(node_id: str, depth: int) -> tuple[set[str], set[tuple[str, str]]]:
    """Return Marquez's node ids and (origin, destination) edges around a node."""
    io = io_of_jobs()
    touching = {j for j, (ins, outs) in io.items() if node_id in ins | outs}
    jobs = {node_id} if node_id.startswith("job:") else touching
    frontier = set(jobs)
    for _ in range(depth):
        datasets = set().union(*(io[j][0] | io[j][1] for j in frontier)) if frontier else set()
        frontier = {j for j, (ins, outs) in io.items() if (ins | outs) & datasets} - jobs
        jobs |= frontier
    edges = {(d, j) for j in jobs for d in io[j][0]} | {(j, d) for j in jobs for d in io[j][1]}
    return jobs | {n for e in edges for n in e} | {node_id}, edges


@pytest.fixture
async def client(store: LineageStore, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    report = await intake(store, "openlineage", food_delivery())
    assert report.count("accepted") == 26
    app = create_app(Settings(data_dir=tmp_path, query_deadline_seconds=120), store)  # CI machines are shared
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


async def graph(client: httpx.AsyncClient, node_id: str, depth: int | None = None) -> list[dict[str, Any]]:
    params = {"nodeId": node_id} | ({"depth": str(depth)} if depth is not None else {})
    answer = await client.get("/api/v1/lineage", params=params)
    assert answer.status_code == 200, answer.text
    nodes: list[dict[str, Any]] = answer.json()["graph"]
    return nodes


def shape(nodes: list[dict[str, Any]]) -> tuple[set[str], set[tuple[str, str]]]:
    ids = {n["id"] for n in nodes}
    edges = {(e["origin"], e["destination"]) for n in nodes for e in n["inEdges"] + n["outEdges"]}
    return ids, edges


@pytest.mark.parametrize(
    ("node_id", "depth"),
    [
        (f"dataset:{NS}:public.delivery_7_days", 20),
        (f"dataset:{NS}:public.delivery_7_days", 0),
        (f"dataset:{NS}:public.customers", 1),
        (f"job:{NS}:etl_orders_7_days", 2),
        (f"job:{NS}:email_discounts", 20),
    ],
)
async def test_the_graph_is_marquez_walk_over_the_seed_events(
    client: httpx.AsyncClient, node_id: str, depth: int
) -> None:
    nodes = await graph(client, node_id, depth)
    assert shape(nodes) == expected_graph(node_id, depth)
    assert len({n["id"] for n in nodes}) == len(nodes)


async def test_every_node_has_marquez_fields_and_consistent_edges(client: httpx.AsyncClient) -> None:
    nodes = await graph(client, f"dataset:{NS}:public.delivery_7_days")  # Marquez's default depth
    assert shape(nodes) == expected_graph(f"dataset:{NS}:public.delivery_7_days", 20)
    by_id = {n["id"]: n for n in nodes}
    io = io_of_jobs()
    for node in nodes:
        assert list(node) == ["id", "type", "data", "inEdges", "outEdges"]
        kind, namespace, name = node["id"].split(":", 2)
        assert node["type"] == kind.upper() and node["data"]["id"] == {"namespace": namespace, "name": name}
        for e in node["inEdges"]:
            assert e["destination"] == node["id"] and {"origin": e["origin"], "destination": node["id"]} in [
                *by_id[e["origin"]]["outEdges"]
            ]
        if kind == "job":
            ins, outs = io[node["id"]]
            assert {f"dataset:{d['namespace']}:{d['name']}" for d in node["data"]["inputs"]} == ins
            assert {f"dataset:{d['namespace']}:{d['name']}" for d in node["data"]["outputs"]} == outs
    events = [json.loads(t) for t in food_delivery()]
    schema = next(
        d["facets"]["schema"]["fields"]
        for e in events
        for d in e.get("outputs", [])
        if d["name"] == "public.delivery_7_days" and "schema" in d.get("facets", {})
    )
    data = by_id[f"dataset:{NS}:public.delivery_7_days"]["data"]
    assert [f["name"] for f in data["fields"]] == [f["name"] for f in schema]
    assert data["type"] == "DB_TABLE" and data["createdAt"] <= data["updatedAt"]
    assert data["description"]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"nodeId": f"dataset:{NS}:public.nowhere"}, 404, "no node"),
        ({"nodeId": "spaceship:x:y"}, 400, "neither a urn:lineage: id nor a Marquez node id"),
        ({}, 400, "nodeId: required"),
        ({"nodeId": f"dataset:{NS}:public.customers", "depth": "deep"}, 400, "depth: 'deep' is not a whole number"),
        ({"nodeId": f"dataset:{NS}:public.customers", "depth": "-1"}, 400, "depth: '-1'"),
    ],
)
async def test_bad_requests_get_marquez_errors_never_a_500(
    client: httpx.AsyncClient, params: dict[str, str], status: int, message: str
) -> None:
    answer = await client.get("/api/v1/lineage", params=params)
    assert answer.status_code == status
    body = answer.json()
    assert body["code"] == status and message in body["message"]
