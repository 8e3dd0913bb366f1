"""GraphQL over HTTP on the demo estate, once per store: every query, paging, failures and limits.

Expected answers come from the estate's raw events (what a producer said), not from the code under test.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Collection
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.graphql.export import SCHEMA_FILE, sdl
from api.graphql.limits import MAX_ALIASES, MAX_DEPTH, MAX_TRAVERSALS
from api.graphql.paging import MAX_PAGE, cursor
from api.settings import Settings
from graph.keys import Kind, NodeKey, parse_key
from graph.store import LineageStore
from ingest import native
from ingest.estate import FEAST, MLFLOW, SOURCE_TABLES, Estate
from ingest.intake import intake
from tests.backends import BACKENDS, open_backend

Raw = tuple[str, str, str]  # (src, type, dst) of an edge a producer sent


@pytest.fixture(scope="module", params=[pytest.param(b, marks=getattr(pytest.mark, b)) for b in BACKENDS])
async def estate_store(
    request: pytest.FixtureRequest, estate: Estate, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LineageStore]:
    """The demo estate in a store of each backend, loaded once per module."""
    target = request.getfixturevalue("neo4j_target") if request.param == "neo4j" else None
    store = await open_backend(request.param, tmp_path_factory.mktemp("gql"), target)
    report = await intake(store, native.SOURCE, estate.docs)  # type: ignore[attr-defined]
    assert not report.rejected, report.rejected[:3]
    yield store
    await store.close()


@pytest.fixture(scope="module")
def raw(estate: Estate) -> set[Raw]:
    """Every edge the estate's producers sent."""
    docs = (json.loads(d) for d in estate.docs)  # type: ignore[attr-defined]
    return {(e["src"], e["type"], e["dst"]) for d in docs for e in d.get("edges", [])}


def srcs(raw: set[Raw], edge_type: str, dst: str, kind: Kind | None = None) -> set[str]:
    """Return the sources of raw edges of a type into a node (of a kind)."""
    return {s for s, t, d in raw if t == edge_type and d == dst and (kind is None or parse_key(s).kind is kind)}


def client_for(store: LineageStore, tmp_path: Path, **settings: Any) -> httpx.AsyncClient:
    """Return an HTTP client of the app around a store (a generous deadline: CI machines are shared)."""
    app = create_app(Settings(data_dir=tmp_path, **{"query_deadline_seconds": 120.0, **settings}), store)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def client(estate_store: LineageStore, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(estate_store, tmp_path) as c:
        yield c


async def ask(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    """Post a query; return its data, failing on any GraphQL error."""
    answer = await client.post("/graphql", json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


async def refused(client: httpx.AsyncClient, query: str, **variables: Any) -> str:
    """Post a query that must be refused; return the error messages."""
    answer = await client.post("/graphql", json={"query": query, "variables": variables})
    body = answer.json()
    assert body.get("errors"), body
    return " | ".join(e["message"] for e in body["errors"])


def ids(items: Collection[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


# -- node, nodes and the per-kind fields -------------------------------------------------------

NODE = """
query ($id: ID!, $asOf: DateTime) {
  node(id: $id) {
    __typename
    ... on Node { id kind namespace name version properties firstSeen lastSeen
                  evidence { id source seq receivedAt raw } }
    ... on Dataset { columns { id name } versions(first: 3) { id } }
    ... on VectorIndex { versions { id } documents(first: 1000) { id } }
    ... on Model { versions { id } aliases(asOf: $asOf) { name target validFrom validTo }
                   aliasHistory { name target validFrom validTo } }
    ... on Prompt { versions { id ... on PromptVersion { templateHash aliases(asOf: $asOf) { name } } }
                    aliases(asOf: $asOf) { name target } }
    ... on ModelVersion { aliases(asOf: $asOf) { name target } model { id } }
    ... on Job { runs(first: 10) { id state startedAt endedAt job { id } parent { id } } }
    ... on Output { call { id state job { id } } }
    ... on FeatureView { features { id } }
    ... on NotFound { id message }
    ... on InvalidArgument { field message }
  }
}
"""


async def node(client: httpx.AsyncClient, urn: str, **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = (await ask(client, NODE, id=urn, **variables))["node"]
    return found


async def test_a_dataset_has_its_columns(client: httpx.AsyncClient, estate: Estate, raw: set[Raw]) -> None:
    table = estate.landmarks["source_table"]
    found = await node(client, table)
    assert found["__typename"] == "Dataset" and found["kind"] == "Dataset"
    assert set(ids(found["columns"])) == srcs(raw, "PART_OF", table, Kind.COLUMN)
    assert {c["name"].split("#")[1] for c in found["columns"]} == set(SOURCE_TABLES["support_tickets"])
    assert found["evidence"] == []  # only named in edges: no event asserted the node itself


async def test_marquez_style_ids_name_the_same_node(client: httpx.AsyncClient, estate: Estate) -> None:
    key = parse_key(estate.landmarks["source_table"])
    found = await node(client, f"dataset:{key.namespace}:{key.name}")
    assert found["id"] == key.urn


async def test_a_model_has_its_versions_and_the_champion_alias_over_time(
    client: httpx.AsyncClient, estate: Estate, raw: set[Raw]
) -> None:
    model = estate.landmarks["model"]
    v1, v2, v3 = estate.landmarks["model_versions"].split(",")
    found = await node(client, model)
    assert found["__typename"] == "Model"
    assert ids(found["versions"]) == [v3, v2, v1]  # newest first
    assert set(ids(found["versions"])) == srcs(raw, "VERSION_OF", model)
    assert [(a["name"], a["target"], a["validTo"]) for a in found["aliases"]] == [("champion", v2, None)]
    assert [a["target"] for a in found["aliasHistory"]] == [v1, v2, v3, v2]  # moved twice, rolled back once
    history = found["aliasHistory"]
    assert all(a["validTo"] == b["validFrom"] for a, b in itertools.pairwise(history))
    day4 = (estate.start + timedelta(days=4)).isoformat()
    earlier = await node(client, model, asOf=day4)
    assert [a["target"] for a in earlier["aliases"]] == [v2]
    version = await node(client, v2, asOf=day4)
    assert version["__typename"] == "ModelVersion" and version["model"]["id"] == model
    assert [a["name"] for a in version["aliases"]] == ["champion"]
    assert (await node(client, v1, asOf=day4))["aliases"] == []


async def test_a_prompt_has_versions_with_template_hashes_and_a_production_alias(
    client: httpx.AsyncClient, estate: Estate
) -> None:
    docs = [json.loads(d) for d in estate.docs]  # type: ignore[attr-defined]
    hashes = {
        n["id"]: n["properties"]["template_hash"]
        for d in docs
        for n in d.get("nodes", [])
        if n["id"].startswith("urn:lineage:prompt_version:")
    }
    found = await node(client, estate.landmarks["prompt"])
    versions = estate.landmarks["prompt_versions"].split(",")
    assert {v["id"]: v["templateHash"] for v in found["versions"]} == hashes
    assert set(hashes) == set(versions)
    assert [a["target"] for a in found["aliases"]] == [versions[2]]  # v4 is a canary, never production
    production = {v["id"] for v in found["versions"] if v["aliases"]}
    assert production == {versions[2]}


async def test_an_index_has_its_builds_and_documents(client: httpx.AsyncClient, estate: Estate, raw: set[Raw]) -> None:
    index = estate.landmarks["index"]
    found = await node(client, index)
    assert found["__typename"] == "VectorIndex"
    assert set(ids(found["versions"])) == set(estate.landmarks["index_builds"].split(","))
    assert set(ids(found["documents"])) == srcs(raw, "PART_OF", index, Kind.DOCUMENT)


async def test_a_job_has_its_runs_with_state_times_and_job(
    client: httpx.AsyncClient, estate: Estate, raw: set[Raw]
) -> None:
    job = NodeKey(Kind.JOB, MLFLOW, "churn-training").urn
    found = await node(client, job)
    runs = found["runs"]
    assert set(ids(runs)) == srcs(raw, "RUN_OF", job)
    assert [r["startedAt"] for r in runs] == sorted((r["startedAt"] for r in runs), reverse=True)
    for run in runs:
        assert run["state"] == "COMPLETE" and run["job"]["id"] == job and run["parent"] is None
        assert run["startedAt"] < run["endedAt"]


async def test_an_answer_knows_the_call_that_produced_it(
    client: httpx.AsyncClient, estate: Estate, raw: set[Raw]
) -> None:
    answer = estate.landmarks["answer"]
    found = await node(client, answer)
    assert found["__typename"] == "Output"
    assert {found["call"]["id"]} == srcs(raw, "PRODUCED", answer)
    assert found["call"]["job"]["id"] == estate.landmarks["rag_job"] and found["call"]["state"] == "COMPLETE"
    (evidence,) = found["evidence"]  # asserted once, by the event of its call
    assert evidence["source"] == "native" and evidence["seq"] > 0
    assert answer in {n["id"] for n in evidence["raw"]["nodes"]}


async def test_a_feature_view_has_its_features(client: httpx.AsyncClient, raw: set[Raw]) -> None:
    view = NodeKey(Kind.FEATURE_VIEW, FEAST, "customer_value").urn
    found = await node(client, view)
    assert set(ids(found["features"])) == srcs(raw, "PART_OF", view, Kind.FEATURE) != set()


async def test_nodes_returns_those_that_exist_in_the_order_asked(client: httpx.AsyncClient, estate: Estate) -> None:
    wanted = [estate.landmarks["model"], "urn:lineage:model:x:missing", "not an id", estate.landmarks["index"]]
    found = await ask(client, "query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", ids=wanted)
    assert [(n["__typename"], n["id"]) for n in found["nodes"]] == [
        ("Model", estate.landmarks["model"]),
        ("VectorIndex", estate.landmarks["index"]),
    ]


async def test_a_missing_or_malformed_id_is_a_typed_result(client: httpx.AsyncClient) -> None:
    missing = await node(client, "urn:lineage:dataset:nowhere:nothing")
    assert missing == {
        "__typename": "NotFound",
        "id": "urn:lineage:dataset:nowhere:nothing",
        "message": missing["message"],
    }
    assert "no node" in missing["message"]
    malformed = await node(client, "urn:lineage:spaceship:a:b")
    assert malformed["__typename"] == "InvalidArgument" and malformed["field"] == "id"
    assert "unknown kind 'spaceship'" in malformed["message"]


# -- lineage, traceBack, impact -----------------------------------------------------------------

LINEAGE_PAGE = """
fragment Page on Lineage {
  start total isPartial countsByKind { kind count }
  nodes { distance resolution node { id kind } }
  edges { source target type qualifier evidenceCount evidenceIds }
  pageInfo { hasNextPage endCursor }
}
"""
TRACE_BACK = (
    LINEAGE_PAGE
    + """
query ($id: ID!, $hops: Int, $first: Int, $after: String, $kinds: [String!]) {
  traceBack(id: $id, maxHops: $hops, first: $first, after: $after, kinds: $kinds) {
    __typename ...Page
    ... on NotFound { message } ... on InvalidArgument { field message }
    ... on DeadlineExceeded { message partial { total nodes { node { id } } } }
  }
}
"""
)
IMPACT = (
    LINEAGE_PAGE
    + """
query ($id: ID!, $hops: Int, $first: Int, $after: String, $kinds: [String!]) {
  impact(id: $id, maxHops: $hops, first: $first, after: $after, kinds: $kinds) {
    __typename ...Page ... on NotFound { message } ... on InvalidArgument { field message }
    ... on DeadlineExceeded { message partial { total nodes { node { id } } } }
  }
}
"""
)


async def test_trace_back_from_an_answer_is_its_call_and_the_call_inputs_at_version_level(
    client: httpx.AsyncClient, estate: Estate, raw: set[Raw]
) -> None:
    answer = estate.landmarks["answer"]
    (call,) = srcs(raw, "PRODUCED", answer)
    inputs = srcs(raw, "INPUT_OF", call)
    build = estate.landmarks["index_builds"].split(",")[-1]
    expected = {answer: 0, call: 1} | {u: 2 for u in inputs - {estate.landmarks["index"]}} | {build: 2}
    found = (await ask(client, TRACE_BACK, id=answer, hops=2))["traceBack"]
    assert found["__typename"] == "Lineage" and not found["isPartial"]
    assert {n["node"]["id"]: n["distance"] for n in found["nodes"]} == expected
    assert found["total"] == len(expected)
    resolved = {n["node"]["id"]: n["resolution"] for n in found["nodes"] if n["resolution"]}
    assert list(resolved) == [build] and estate.landmarks["index"] in resolved[build]
    edges = {(e["source"], e["type"], e["target"]) for e in found["edges"]}
    assert edges == {(u, "INPUT_OF", call) for u in expected if expected[u] == 2} | {(call, "PRODUCED", answer)}
    counts = {c["kind"]: c["count"] for c in found["countsByKind"]}
    assert counts == {"Run": 1, "Document": 5, "PromptVersion": 1, "LLM": 1, "EmbeddingModel": 1, "DatasetVersion": 1}


async def test_impact_counts_every_kind_reached_and_kinds_pages_one_kind(
    client: httpx.AsyncClient, estate: Estate
) -> None:
    table = estate.landmarks["source_table"]
    whole = (await ask(client, IMPACT, id=table, hops=30, first=0))["impact"]
    assert whole["__typename"] == "Lineage", whole
    counts = {c["kind"]: c["count"] for c in whole["countsByKind"]}
    assert whole["nodes"] == [] and whole["isPartial"] and whole["total"] == sum(counts.values()) + 1
    assert counts["ModelVersion"] == 3 and counts["Output"] > 1000
    versions = (await ask(client, IMPACT, id=table, hops=30, kinds=["ModelVersion"]))["impact"]
    assert {n["node"]["id"] for n in versions["nodes"]} == {table, *estate.landmarks["model_versions"].split(",")}
    assert versions["total"] == 4 and not versions["isPartial"]


async def walk_pages(client: httpx.AsyncClient, query: str, field: str, size: int, **variables: Any) -> list[str]:
    """Follow endCursor to the end; return every node id in page order."""
    seen: list[str] = []
    after = None
    for _ in range(10_000):
        page = (await ask(client, query, first=size, after=after, **variables))[field]
        seen.extend(n["node"]["id"] for n in page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    msg = "paging did not end"
    raise AssertionError(msg)


async def test_impact_pages_concatenate_to_the_whole_without_repeats(client: httpx.AsyncClient, estate: Estate) -> None:
    table = estate.landmarks["orders_table"]
    whole = (await ask(client, IMPACT, id=table, hops=8, first=MAX_PAGE))["impact"]
    assert not whole["isPartial"], "the reach fits in one page"
    everything = [n["node"]["id"] for n in whole["nodes"]]
    paged = await walk_pages(client, IMPACT, "impact", 37, id=table, hops=8)
    assert paged == everything and len(set(paged)) == len(paged) == whole["total"]
    runs = await walk_pages(client, IMPACT, "impact", 5, id=table, hops=8, kinds=["Run"])
    assert set(runs) == {u for u in everything if parse_key(u).kind is Kind.RUN} | {table}


async def test_lineage_both_is_upstream_and_downstream_together(client: httpx.AsyncClient, estate: Estate) -> None:
    query = (
        LINEAGE_PAGE
        + """
    query ($id: ID!, $d: Direction) { lineage(id: $id, direction: $d, maxHops: 3, first: 1000) { ...Page } }
    """
    )
    mart = estate.landmarks["mart"]
    up, down, both = [
        {n["node"]["id"] for n in (await ask(client, query, id=mart, d=d))["lineage"]["nodes"]}
        for d in ("UPSTREAM", "DOWNSTREAM", "BOTH")
    ]
    assert both == up | down and up & down == {mart} and len(up) > 1 and len(down) > 1


async def test_as_of_and_windows_see_the_graph_as_it_was(client: httpx.AsyncClient, estate: Estate) -> None:
    query = """
    query ($id: ID!, $asOf: DateTime, $since: DateTime, $until: DateTime) {
      lineage(id: $id, direction: DOWNSTREAM, maxHops: 3, asOf: $asOf, since: $since, until: $until) {
        __typename ... on Lineage { total nodes { node { id } } } ... on InvalidArgument { field message }
      }
    }
    """
    index = estate.landmarks["index"]
    before_builds = (estate.start + timedelta(hours=2)).isoformat()
    early = (await ask(client, query, id=index, asOf=before_builds))["lineage"]
    assert early["total"] == 1  # the first build is at 04:00 on day 0: nothing was built or answered yet
    later = (await ask(client, query, id=index, asOf=(estate.start + timedelta(days=1)).isoformat()))["lineage"]
    builds = set(estate.landmarks["index_builds"].split(","))
    assert {n["node"]["id"] for n in later["nodes"]} & builds == {sorted(builds)[0]}  # only day 0's build
    both = (await ask(client, query, id=index, asOf=before_builds, since=before_builds))["lineage"]
    assert (both["__typename"], both["field"]) == ("InvalidArgument", "asOf")
    backwards = await ask(client, query, id=index, since=before_builds, until=estate.start.isoformat())
    assert backwards["lineage"]["field"] == "since"


async def test_lineage_failures_are_typed(client: httpx.AsyncClient, estate: Estate) -> None:
    missing = (await ask(client, TRACE_BACK, id="urn:lineage:dataset:a:b"))["traceBack"]
    assert missing["__typename"] == "NotFound"
    hops = (await ask(client, TRACE_BACK, id=estate.landmarks["answer"], hops=1000))["traceBack"]
    assert (hops["__typename"], hops["field"]) == ("InvalidArgument", "maxHops")
    cursor = (await ask(client, TRACE_BACK, id=estate.landmarks["answer"], after="bm90IGEgY3Vyc29y"))["traceBack"]
    assert (cursor["__typename"], cursor["field"]) == ("InvalidArgument", "after")
    kinds = (await ask(client, TRACE_BACK, id=estate.landmarks["answer"], kinds=["Spaceship"]))["traceBack"]
    assert (kinds["__typename"], kinds["field"]) == ("InvalidArgument", "kinds")
    big = (await ask(client, TRACE_BACK, id=estate.landmarks["answer"], first=MAX_PAGE + 1))["traceBack"]
    assert (big["__typename"], big["field"]) == ("InvalidArgument", "first")


async def test_a_request_past_its_deadline_answers_with_the_partial_lineage(
    estate_store: LineageStore, estate: Estate, tmp_path: Path
) -> None:
    async with client_for(estate_store, tmp_path, query_deadline_seconds=1e-9) as slow:
        found = (await ask(slow, IMPACT, id=estate.landmarks["source_table"], hops=30))["impact"]
    assert found["__typename"] == "DeadlineExceeded" and "deadline" in found["message"]
    assert found["partial"] is not None
    assert estate.landmarks["source_table"] in {n["node"]["id"] for n in found["partial"]["nodes"]}


# -- path and search ----------------------------------------------------------------------------

PATH = """
query ($from: ID!, $to: ID!) {
  path(from: $from, to: $to) {
    __typename
    ... on Path { nodes { id } edges { source target type evidence { id raw } } }
    ... on NoPath { message } ... on NotFound { id message }
  }
}
"""


async def test_path_explains_how_a_source_table_reaches_a_model_version_with_evidence(
    client: httpx.AsyncClient, estate: Estate, raw: set[Raw]
) -> None:
    table, version = estate.landmarks["orders_table"], estate.landmarks["model_versions"].split(",")[1]
    found = (await ask(client, PATH, **{"from": table, "to": version}))["path"]
    assert found["__typename"] == "Path"
    path = ids(found["nodes"])
    assert path[0] == table and path[-1] == version
    for hop, (a, b) in zip(found["edges"], itertools.pairwise(path), strict=True):
        assert {hop["source"], hop["target"]} == {a, b}
        assert (hop["source"], hop["type"], hop["target"]) in raw  # each hop is something a producer said
        assert hop["evidence"] and all(hop["source"] in json.dumps(ev["raw"]) for ev in hop["evidence"])
    backwards = (await ask(client, PATH, **{"from": version, "to": table}))["path"]
    assert ids(backwards["nodes"]) == path  # upstream end first either way round


async def test_unconnected_nodes_have_no_path_and_a_missing_end_is_not_found(
    client: httpx.AsyncClient, estate: Estate
) -> None:
    none = (await ask(client, PATH, **{"from": estate.landmarks["model"], "to": estate.landmarks["prompt"]}))["path"]
    assert none["__typename"] == "NoPath" and "no lineage path" in none["message"]
    missing = (await ask(client, PATH, **{"from": estate.landmarks["model"], "to": "urn:lineage:job:a:b"}))["path"]
    assert missing == {"__typename": "NotFound", "id": "urn:lineage:job:a:b", "message": missing["message"]}


SEARCH = """
query ($text: String!, $kinds: [String!], $first: Int, $after: String) {
  search(text: $text, kinds: $kinds, first: $first, after: $after) {
    totalCount edges { cursor node { __typename id name } } pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_search_finds_by_name_best_first_and_pages_through_every_hit(
    client: httpx.AsyncClient, estate: Estate
) -> None:
    best = (await ask(client, SEARCH, text="churn-model", first=1))["search"]
    assert best["edges"][0]["node"]["id"] == estate.landmarks["model"]
    hits: list[str] = []
    after = None
    total = None
    while True:
        page = (await ask(client, SEARCH, text="customer", first=4, after=after))["search"]
        total = page["totalCount"]
        hits.extend(e["node"]["id"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(hits) == len(set(hits)) == total > 8
    assert all("customer" in parse_key(h).name.lower() or "customer" in h.lower() for h in hits)
    views = (await ask(client, SEARCH, text="customer", kinds=["FeatureView"], first=20))["search"]
    assert {e["node"]["id"] for e in views["edges"]} == {
        NodeKey(Kind.FEATURE_VIEW, FEAST, n).urn for n in ("customer_activity", "customer_value")
    }


async def test_search_refuses_an_unknown_kind_or_a_foreign_cursor(client: httpx.AsyncClient) -> None:
    assert "unknown kind 'Spaceship'" in await refused(client, SEARCH, text="x", kinds=["Spaceship"])
    assert "not a cursor of this search listing" in await refused(client, SEARCH, text="x", after=cursor("lineage", 4))


# -- limits and batching ---------------------------------------------------------------------------


async def test_abusive_queries_are_refused_before_they_run(client: httpx.AsyncClient, estate: Estate) -> None:
    deep = '{ node(id: "x") { ... on Run { ' + "job { runs { " * MAX_DEPTH + "id" + " } }" * MAX_DEPTH + " } } }"
    assert "exceeds maximum operation depth" in await refused(client, deep)
    aliases = "{ " + " ".join(f'a{i}: node(id: "x") {{ __typename }}' for i in range(MAX_ALIASES + 1)) + " }"
    assert "aliases found" in await refused(client, aliases)
    tokens = '{ search(text: "x") { totalCount ' + "totalCount " * 3000 + "} }"
    assert "token" in (await refused(client, tokens)).lower()
    big = '{ search(text: "x", first: 100000) { totalCount } }'
    assert "first: 100000 is outside 0..1000" in await refused(client, big)
    traversals = "{ " + " ".join(f'a{i}: search(text: "x") {{ totalCount }}' for i in range(MAX_TRAVERSALS + 1)) + " }"
    assert f"at most {MAX_TRAVERSALS} (lineage, traceBack, impact, path, search) per request" in await refused(
        client, traversals
    )


NESTED = """
query ($id: ID!, $first: Int, $runs: Int) {
  impact(id: $id, first: $first) { ... on Lineage { nodes { node { id ... on Job { runs(first: $runs) { id
    job { runs(first: $runs) { id evidence { raw } } } } } } } } }
}
"""


async def test_nested_pages_that_multiply_are_refused_before_any_resolver_runs(
    estate_store: LineageStore, estate: Estate, tmp_path: Path
) -> None:
    counting = CountingStore(estate_store)
    async with client_for(counting, tmp_path) as c:  # type: ignore[arg-type]
        message = await refused(c, NESTED, id=estate.landmarks["source_table"], first=1000, runs=1000)
        assert "over the limit of 100,000" in message and "ask smaller pages" in message
        assert counting.calls == {}, "refused before the store was asked anything"
        # the same document with small pages is fine (variables decide the estimate)
        small = (await ask(c, NESTED, id=estate.landmarks["source_table"], first=20, runs=3))["impact"]
    assert len(small["nodes"]) == 20


class CountingStore:
    """The real store, counting the calls made to it (a wrapper, not a mock)."""

    def __init__(self, store: LineageStore) -> None:
        self.store = store
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if not callable(attr):
            return attr

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return await attr(*args, **kwargs)

        return counted


async def test_resolvers_batch_store_calls_however_many_nodes_a_page_holds(
    estate_store: LineageStore, estate: Estate, tmp_path: Path
) -> None:
    counting = CountingStore(estate_store)
    query = """
    query ($id: ID!) {
      impact(id: $id, maxHops: 30, first: 300) { ... on Lineage {
        nodes { node { id evidence { id }
          ... on Run { state job { id runs(first: 2) { id } } parent { id } }
          ... on Output { call { id } }
          ... on DatasetVersion { entity { id } aliases { name } } } }
        edges { evidence { id } } } }
    }
    """
    async with client_for(counting, tmp_path) as c:  # type: ignore[arg-type]
        found = (await ask(c, query, id=estate.landmarks["source_table"]))["impact"]
    kinds = {parse_key(n["node"]["id"]).kind for n in found["nodes"]}
    assert len(found["nodes"]) == 300 and {Kind.RUN, Kind.DATASET_VERSION} <= kinds
    calls = counting.calls
    # One traversal; then a bounded number of batches, whatever the page size: structural edges once per
    # relation field (edge types and direction), the nodes at their ends at most once per such field (the
    # loaders batch what is asked together; on a networked store the fields' answers come back apart),
    # evidence once per level.
    assert calls.pop("lineage") == 1
    assert calls.pop("edges_of", 0) <= 5
    assert calls.pop("get", 0) <= 5
    assert calls.pop("events", 0) <= 2
    assert not calls, calls


def test_the_checked_in_schema_is_the_one_the_code_builds() -> None:
    assert SCHEMA_FILE.read_text() == sdl(), "api/schema.graphql is stale: run `make schema`"
