"""Namespace-limited tokens: other nodes show as Restricted placeholders (kind, distance), never dropped or named."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.restrict import HIDDEN_RAW, RestrictedStore, View, is_placeholder, restrict
from api.settings import Settings
from api.tokens import Scope, TokenStore
from graph.keys import Kind, NodeKey
from graph.memory import MemoryStore
from graph.query import Direction, LineageQuery
from graph.store import LineageStore
from ingest import native
from ingest.intake import intake
from tests.graphs import at

LAKE = "s3://lake"
SECRET_NS = "postgres://payroll-db:5432"
SECRET_NAMES = ["payroll.salaries", "payroll_export", "airflow://hr", "alice@example.com", SECRET_NS, "payroll"]
SALARIES = NodeKey(Kind.DATASET, SECRET_NS, "payroll.salaries")
EXPORT = NodeKey(Kind.JOB, "airflow://hr", "payroll_export")
COSTS = NodeKey(Kind.DATASET, LAKE, "finance/costs")
REPORT = NodeKey(Kind.DATASET, LAKE, "finance/report")
SUMMARY = NodeKey(Kind.JOB, f"{LAKE}/jobs", "summarise")


def _docs() -> list[str]:
    """salaries (hidden) -> payroll_export (hidden) -> costs (lake) -> summarise (lake) -> report (lake)."""
    first = {
        "nodes": [{"id": SALARIES.urn, "time": at(0), "properties": {"owner": "alice@example.com"}}],
        "edges": [
            {"src": SALARIES.urn, "type": "INPUT_OF", "dst": EXPORT.urn, "time": at(0)},
            {"src": EXPORT.urn, "type": "PRODUCED", "dst": COSTS.urn, "time": at(0), "properties": {"sql": "payroll"}},
        ],
    }
    second = {
        "edges": [
            {"src": COSTS.urn, "type": "INPUT_OF", "dst": SUMMARY.urn, "time": at(1)},
            {"src": SUMMARY.urn, "type": "PRODUCED", "dst": REPORT.urn, "time": at(1)},
        ]
    }
    return [json.dumps(first), json.dumps(second)]


def _leaks(value: Any) -> set[str]:
    text = json.dumps(value)
    return {s for s in SECRET_NAMES if s in text}


async def test_restrict_turns_hidden_nodes_into_placeholders_and_keeps_them(store: LineageStore) -> None:
    assert (await intake(store, native.SOURCE, _docs())).count("accepted") == 2
    full = await store.lineage(LineageQuery(REPORT, Direction.UPSTREAM, max_hops=10))
    view = View((LAKE,), b"k" * 32)
    seen = restrict(full, view)
    assert len(seen.nodes) == len(full.nodes) and seen.total == full.total  # nothing dropped
    assert seen.counts_by_kind == full.counts_by_kind
    shown = {(n.record.urn, n.distance) for n in seen.nodes if not is_placeholder(n.record.urn)}
    assert shown == {(REPORT.urn, 0), (SUMMARY.urn, 1), (COSTS.urn, 2)}
    hidden = {(n.record.kind, n.distance) for n in seen.nodes if is_placeholder(n.record.urn)}
    assert hidden == {(Kind.JOB, 3), (Kind.DATASET, 4)}
    assert all(not n.record.properties for n in seen.nodes if is_placeholder(n.record.urn))
    ids = {n.record.urn for n in seen.nodes}
    assert {(e.src in ids, e.dst in ids) for e in seen.edges} == {(True, True)}  # edges still connect
    assert len(seen.edges) == len(full.edges)
    assert not _leaks([repr(n) for n in seen.nodes] + [repr(e) for e in seen.edges])
    # One node, one placeholder id, within a view; another view (another key) gives another id.
    assert restrict(full, view).nodes == seen.nodes
    other = restrict(full, View((LAKE,), b"x" * 32))
    assert {n.record.urn for n in other.nodes} != ids


async def test_evidence_naming_a_hidden_node_loses_its_text(store: LineageStore) -> None:
    await intake(store, native.SOURCE, _docs())
    records = await store.journal()
    seen = await RestrictedStore(store, View((LAKE,), b"k" * 32)).events([r.id for r in records])
    raws = {r.seq: r.raw for r in seen.values()}
    assert raws[1] == HIDDEN_RAW  # the first input names the payroll nodes
    assert raws[2] == records[1].raw  # the second names only lake nodes


@pytest.fixture
async def clients(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    lake, _ = tokens.create({Scope.READ}, [LAKE], "lake analysts")
    everything, _ = tokens.create({Scope.READ}, None, "auditors")
    tokens.close()
    store = MemoryStore(tmp_path / "data")
    await intake(store, native.SOURCE, _docs())
    app = create_app(Settings(data_dir=tmp_path, rate_limit_per_second=0), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client, {"lake": lake, "all": everything}
    await store.close()


NODE = "id kind namespace name properties evidence { raw }"
PAGE = f"... on Lineage {{ nodes {{ distance node {{ __typename {NODE} }} }} }}"
QUERIES = {
    "lineage": (
        f"query ($id: ID!) {{ lineage(id: $id, maxHops: 10) {{ ... on Lineage {{ total "
        f"nodes {{ distance resolution node {{ __typename {NODE} }} }} "
        f"edges {{ source target type qualifier properties evidence {{ raw }} }} }} }} }}",
        {"id": REPORT.urn},
    ),
    "traceBack": (
        f"query ($id: ID!) {{ traceBack(id: $id) {{ {PAGE} }} }}",
        {"id": REPORT.urn},
    ),
    "impact": (
        f"query ($id: ID!) {{ impact(id: $id) {{ {PAGE} }} }}",
        {"id": SALARIES.urn},
    ),
    "path": (
        f"query ($a: ID!, $b: ID!) {{ path(from: $a, to: $b) {{ ... on Path {{ nodes {{ __typename {NODE} }} "
        f"edges {{ source target properties }} }} }} }}",
        {"a": SALARIES.urn, "b": REPORT.urn},
    ),
    "search": (
        f'query {{ search(text: "payroll") {{ totalCount edges {{ node {{ __typename {NODE} }} }} }} }}',
        {},
    ),
    "node": (f"query ($id: ID!) {{ node(id: $id) {{ __typename ... on Node {{ {NODE} }} }} }}", {"id": SALARIES.urn}),
    "nodes": (f"query ($ids: [ID!]!) {{ nodes(ids: $ids) {{ __typename {NODE} }} }}", {"ids": [EXPORT.urn, COSTS.urn]}),
}


async def _ask(client: httpx.AsyncClient, secret: str, name: str) -> Any:
    query, variables = QUERIES[name]
    answer = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    return answer.json()["data"][name]


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_a_namespace_limited_token_never_sees_other_names(
    clients: tuple[httpx.AsyncClient, dict[str, str]], name: str
) -> None:
    client, secrets = clients
    assert _leaks(await _ask(client, secrets["all"], name))  # the query does reach the payroll nodes
    assert _leaks(await _ask(client, secrets["lake"], name)) == set()


async def test_lineage_shows_restricted_nodes_with_kind_and_distance(
    clients: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, secrets = clients
    full = await _ask(client, secrets["all"], "lineage")
    seen = await _ask(client, secrets["lake"], "lineage")
    assert seen["total"] == full["total"] and len(seen["nodes"]) == len(full["nodes"])
    restricted = [n for n in seen["nodes"] if n["node"]["__typename"] == "Restricted"]
    assert {(n["node"]["kind"], n["distance"], n["node"]["namespace"], n["node"]["name"]) for n in restricted} == {
        ("Job", 3, "", ""),
        ("Dataset", 4, "", ""),
    }
    assert all(n["node"]["properties"] == {} and n["node"]["evidence"] == [] for n in restricted)
    ids = {n["node"]["id"] for n in seen["nodes"]}
    assert {(e["source"] in ids, e["target"] in ids) for e in seen["edges"]} == {(True, True)}
    visible = {n["node"]["name"] for n in seen["nodes"] if n["node"]["__typename"] != "Restricted"}
    assert visible == {"finance/report", "summarise", "finance/costs"}


async def test_a_placeholder_id_cannot_be_looked_up_later(clients: tuple[httpx.AsyncClient, dict[str, str]]) -> None:
    client, secrets = clients
    seen = await _ask(client, secrets["lake"], "lineage")
    placeholder = next(n["node"]["id"] for n in seen["nodes"] if n["node"]["__typename"] == "Restricted")
    query = "query ($id: ID!) { node(id: $id) { __typename } }"
    for secret in secrets.values():
        answer = await client.post(
            "/graphql",
            json={"query": query, "variables": {"id": placeholder}},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert answer.json()["data"]["node"]["__typename"] == "NotFound"


@pytest.mark.parametrize("path", ["/openapi.json", "/api/v1/audit/dataset:a:b", "/docs"])
async def test_reads_that_cannot_filter_refuse_a_namespace_limited_token(
    clients: tuple[httpx.AsyncClient, dict[str, str]], path: str
) -> None:
    client, secrets = clients
    limited = await client.get(path, headers={"Authorization": f"Bearer {secrets['lake']}"})
    assert limited.status_code == 403 and "namespaces" in limited.json()["error"]
    assert (await client.get(path, headers={"Authorization": f"Bearer {secrets['all']}"})).status_code != 403


async def test_an_audit_trail_refuses_a_namespace_limited_token(
    clients: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, secrets = clients
    query = "query ($id: ID!) { auditTrail(id: $id) { __typename ... on InvalidArgument { field message } } }"
    answers = {}
    for who, secret in secrets.items():
        answer = await client.post(
            "/graphql",
            json={"query": query, "variables": {"id": REPORT.urn}},
            headers={"Authorization": f"Bearer {secret}"},
        )
        answers[who] = answer.json()["data"]["auditTrail"]
    assert answers["lake"]["__typename"] == "InvalidArgument" and "limited to namespaces" in answers["lake"]["message"]
    assert "limited to namespaces" not in str(answers["all"])


async def test_the_marquez_endpoint_shows_hidden_nodes_without_names(
    clients: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, secrets = clients
    path = f"/api/v1/lineage?nodeId=dataset:{LAKE}:finance/report&depth=10"
    full = await client.get(path, headers={"Authorization": f"Bearer {secrets['all']}"})
    seen = await client.get(path, headers={"Authorization": f"Bearer {secrets['lake']}"})
    assert full.status_code == seen.status_code == 200
    assert _leaks(full.json()) and not _leaks(seen.json())
    assert len(seen.json()["graph"]) == len(full.json()["graph"])  # placeholders, not gaps
