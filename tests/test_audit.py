"""Audit trails on the demo estate, on both stores: the exact chain, PROV that reads back, tamper evidence.

What a report should say is derived from the estate generator's own events (which document
asserted what, at which time) and its plan (MARTS, SOURCE_TABLES), never written out by hand.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from prov.model import ProvDocument
from typer.testing import CliRunner, Result

from api.app import create_app
from api.audit_formats import get_format, json_report, prov_json
from api.cli import app as cli
from api.settings import Settings
from graph.audit import AuditTrail, audit_trail, producer_of, recheck
from graph.keys import Kind, NodeKey, parse_key
from graph.memory import MemoryStore
from graph.neo4j import Neo4jStore
from graph.store import LineageStore
from ingest import native
from ingest.estate import MARTS, SOURCE_TABLES, Estate, Plan
from ingest.intake import intake
from tests.backends import BACKENDS, open_backend
from tests.corpus import corpus

runner = CliRunner()
Doc = dict[str, Any]


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class Expected:
    """What the generator's events say happened, indexed for the questions the tests ask."""

    docs: list[Doc]
    produced_by: dict[str, tuple[str, float, Doc]] = field(default_factory=dict)  # output -> (run, time, doc)
    inputs: dict[str, set[str]] = field(default_factory=dict)  # run -> what it read (INPUT_OF into it)
    edges: dict[tuple[str, str], Doc] = field(default_factory=dict)  # (src, dst) of an INPUT_OF -> the edge

    def __post_init__(self) -> None:
        for doc in self.docs:
            for e in doc["edges"]:
                if e["type"] == "PRODUCED" and e["src"].startswith("urn:lineage:run:"):
                    self.produced_by[e["dst"]] = (e["src"], _epoch(e["time"]), doc)
                if e["type"] == "INPUT_OF" and e["dst"].startswith("urn:lineage:run:"):
                    self.inputs.setdefault(e["dst"], set()).add(e["src"])
                    self.edges[(e["src"], e["dst"])] = e

    def aliases_at(self, version: str, t: float) -> set[str]:
        """Return the aliases on a version at ``t``, replaying the alias moves in time order."""
        moves = []
        for doc in self.docs:
            moves += [
                (_epoch(e["time"]), 0, e["qualifier"])
                for e in doc["edges"]
                if e["type"] == "ALIAS" and e["dst"] == version
            ]
            moves += [
                (_epoch(c["time"]), 1, c["edge"]["qualifier"]) for c in doc["closes"] if c["edge"]["dst"] == version
            ]
        held: set[str] = set()
        for when, closes, name in sorted(moves):
            if when <= t:
                (held.discard if closes else held.add)(name)
        return held

    def last_writer(self, output: str, t: float) -> str:
        """Return the last run that wrote an unversioned node (a feature view) at or before ``t``."""
        return max(
            (_epoch(e["time"]), e["src"])
            for doc in self.docs
            for e in doc["edges"]
            if e["type"] == "PRODUCED"
            and e["dst"] == output
            and e["src"].startswith("urn:lineage:run:")
            and _epoch(e["time"]) <= t
        )[1]

    def live_build(self, builds: list[str], t: float) -> str:
        """Return the index build that was the latest one finished at ``t``."""
        return max((self.produced_by[b][1], b) for b in builds if self.produced_by[b][1] <= t)[1]


def _of(urns: set[str], kind: Kind) -> set[str]:
    return {u for u in urns if parse_key(u).kind is kind}


def _sources_behind(*models: str) -> set[str]:
    """Return the source tables a dbt model reads, through the staging models (the estate's plan)."""
    found, todo = set(), list(models)
    while todo:
        model = todo.pop()
        if model.startswith("stg_") and model[4:] in SOURCE_TABLES:
            found.add(model[4:])
        todo.extend(MARTS.get(model, []))
    return found


@pytest.fixture(scope="module")
def estate() -> Estate:
    """A small demo estate: five days, two hundred events (Neo4j loads it in each test session)."""
    estate = Estate(Plan(days=5, documents=40, answers=60), seed=11)
    estate.events_list = list(estate.events())  # type: ignore[attr-defined]
    return estate


@pytest.fixture(scope="module")
def expected(estate: Estate) -> Expected:
    return Expected(estate.events_list)  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=[pytest.param(b, marks=getattr(pytest.mark, b)) for b in BACKENDS])
async def loaded(
    request: pytest.FixtureRequest, estate: Estate, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, LineageStore, Path]]:
    """The estate loaded into a store of each backend: (backend, store, data folder)."""
    backend = str(request.param)
    folder = tmp_path_factory.mktemp(f"audit-{backend}")
    target = request.getfixturevalue("neo4j_target") if backend == "neo4j" else None
    store = await open_backend(backend, folder, target)
    docs = [native.dumps(d) for d in estate.events_list]  # type: ignore[attr-defined]
    report = await intake(store, native.SOURCE, docs)
    assert not report.rejected
    yield backend, store, folder
    await store.close()


@pytest.fixture
def store(loaded: tuple[str, LineageStore, Path]) -> LineageStore:
    return loaded[1]


async def _answer_trail(store: LineageStore, estate: Estate) -> AuditTrail:
    return await audit_trail(store, parse_key(estate.landmarks["answer"]))


async def test_an_answer_report_has_the_exact_chain(store: LineageStore, estate: Estate, expected: Expected) -> None:
    answer = estate.landmarks["answer"]
    call, t, _ = expected.produced_by[answer]
    read = expected.inputs[call]
    prompt_version = next(iter(_of(read, Kind.PROMPT_VERSION)))
    documents = _of(read, Kind.DOCUMENT)
    build = expected.live_build(estate.landmarks["index_builds"].split(","), t)
    build_run = expected.produced_by[build][0]
    chunks = next(iter(_of(expected.inputs[build_run], Kind.DATASET_VERSION)))
    chunk_run = expected.produced_by[chunks][0]
    sources = _of(expected.inputs[chunk_run], Kind.DATASET_VERSION)
    llm = next(iter(_of(read, Kind.LLM)))
    embedder = next(iter(_of(read, Kind.EMBEDDING_MODEL)))

    trail = await _answer_trail(store, estate)

    assert trail.complete and trail.existed and trail.verification.intact
    assert {n.urn for n in trail.nodes} == {
        answer, call, prompt_version, llm, embedder, *documents, build, build_run, chunks, chunk_run, *sources
    }  # fmt: skip
    summary = trail.summary
    [pv] = summary["prompt_versions"]
    assert pv["id"] == prompt_version
    assert {a["name"] for a in pv["aliases"]} == expected.aliases_at(prompt_version, t)
    assert {(d["id"], d["rank"], d["score"]) for d in summary["documents"]} == {
        (d, expected.edges[(d, call)]["properties"]["rank"], expected.edges[(d, call)]["properties"]["score"])
        for d in documents
    }
    [index] = summary["index_builds"]
    assert (index["id"], index["built_by"], index["index"]) == (build, build_run, estate.landmarks["index"])
    assert "live at" in index["resolution"]
    assert [m["id"] for m in summary["embedding_models"]] == [embedder]
    assert [m["id"] for m in summary["llms"]] == [llm]
    datasets = {d["id"]: d for d in summary["datasets"]}
    assert datasets[chunks]["written_by"] == chunk_run and not datasets[chunks]["source"]
    assert {u for u, d in datasets.items() if d["source"]} == sources
    assert estate.landmarks["source_table"] in {d["dataset"] for d in datasets.values()}
    # The latest answer came after that day's chunking, so the documents' origins are its inputs.
    assert {o for d in summary["documents"] for o in d["derived_from"]} <= sources


async def test_each_hop_cites_journal_records_with_their_place_in_the_chain(
    store: LineageStore, estate: Estate
) -> None:
    trail = await _answer_trail(store, estate)
    assert all(h.evidence for h in trail.hops)
    cited = {rid for h in trail.hops for rid in h.evidence} | {rid for n in trail.nodes for rid in n.evidence}
    assert cited == set(trail.citations)
    journal = await store.events(cited)
    assert {(c.id, c.seq, c.record_hash) for c in trail.citations.values()} == {
        (r.id, r.seq, r.record_hash) for r in journal.values()
    }
    assert all(c.source == native.SOURCE and c.content_ok for c in trail.citations.values())
    assert trail.verification.upto_seq == max(c.seq for c in trail.citations.values())
    notes = " ".join(trail.notes)
    assert estate.landmarks["index"] in notes and "the version live at" in notes


async def test_a_model_version_report_names_its_training_run_datasets_and_source_tables(
    store: LineageStore, estate: Estate, expected: Expected
) -> None:
    version = estate.landmarks["model_versions"].split(",")[0]
    training_run, t, _ = expected.produced_by[version]
    read = expected.inputs[training_run]
    views = _of(read, Kind.FEATURE_VIEW)
    materializations = {view: expected.last_writer(view, t) for view in views}
    training_datasets = _of(read, Kind.DATASET_VERSION)  # the labels, read as a version
    features = {d for run in materializations.values() for d in _of(expected.inputs[run], Kind.DATASET_VERSION)}

    trail = await audit_trail(store, parse_key(version))

    summary = trail.summary
    [run] = summary["training_runs"]
    assert run["id"] == training_run and set(run["inputs"]) == read
    assert [(m["id"], m["trained_by"]) for m in summary["model_versions"]] == [(version, training_run)]
    assert {v["id"] for v in summary["feature_views"]} == views
    dataset_ids = {d["id"] for d in summary["datasets"]}
    assert training_datasets <= dataset_ids
    assert {v["id"]: v["materialized_by"] for v in summary["feature_views"]} == {
        view: [run] for view, run in materializations.items()
    }
    assert features and features <= dataset_ids
    sources = {parse_key(d["id"]).name for d in summary["datasets"] if d["source"]}
    features_model, labels_model = "customer_features_daily", "churn_labels"
    assert sources == {f"shop.public.{s}" for s in _sources_behind(features_model, labels_model)}
    assert all(parse_key(d["id"]).kind is Kind.DATASET_VERSION for d in summary["datasets"])


async def test_prov_json_reads_back_with_every_referenced_id_defined(store: LineageStore, estate: Estate) -> None:
    for landmark in ("answer", "prediction_batch"):
        trail = await audit_trail(store, parse_key(estate.landmarks[landmark]))
        document = ProvDocument.deserialize(content=prov_json.render(trail), format="json")
        records = document.get_records()
        defined = {
            str(r.identifier) for r in records if type(r).__name__ in {"ProvEntity", "ProvActivity", "ProvAgent"}
        }
        referenced = {
            str(value)
            for r in records
            for name, value in r.formal_attributes
            if value is not None
            and str(name).removeprefix("prov:") in {"activity", "entity", "agent", "generatedEntity", "usedEntity"}
        }
        assert referenced and referenced <= defined
        assert {prov_json.qname(n.urn) for n in trail.nodes} <= defined
        kinds = {type(r).__name__ for r in records}
        assert {"ProvEntity", "ProvActivity", "ProvAgent", "ProvUsage", "ProvGeneration", "ProvDerivation"} <= kinds


async def test_as_of_before_anything_gives_an_empty_chain(store: LineageStore, estate: Estate) -> None:
    before = (estate.start - timedelta(days=1)).timestamp()
    trail = await audit_trail(store, parse_key(estate.landmarks["answer"]), as_of=before)
    assert not trail.existed and trail.nodes == [] and trail.hops == [] and trail.citations == {}
    assert json_report.to_dict(trail)["chain"] == {"nodes": [], "hops": []}


async def test_as_of_reproduces_the_aliases_of_the_time(
    store: LineageStore, estate: Estate, expected: Expected
) -> None:
    first = estate.landmarks["prompt_versions"].split(",")[0]
    for day in (0.5, 1, 3, 6):
        t = (estate.start + timedelta(days=day)).timestamp()
        trail = await audit_trail(store, parse_key(first), as_of=t)
        [pv] = trail.summary["prompt_versions"]
        assert {a["name"] for a in pv["aliases"]} == expected.aliases_at(first, t), day
    assert expected.aliases_at(first, (estate.start + timedelta(days=1)).timestamp()) == {"production"}
    assert expected.aliases_at(first, (estate.start + timedelta(days=3)).timestamp()) == set()


async def test_an_entity_is_refused_and_an_unknown_id_is_not_found(store: LineageStore, estate: Estate) -> None:
    from graph.errors import InvalidQuery, NodeNotFound

    with pytest.raises(InvalidQuery, match="pick one of its versions"):
        await audit_trail(store, parse_key(estate.landmarks["index"]))
    with pytest.raises(NodeNotFound):
        await audit_trail(store, NodeKey(Kind.OUTPUT, "support-rag", "no-such-answer"))


async def test_records_name_their_producer_openlineage_and_otlp(tmp_path: Path) -> None:
    raw = (corpus() / "openlineage/client/python/tests/example_full_event.json").read_text()
    event = json.loads(raw)
    store = MemoryStore(tmp_path)
    try:
        assert not (await intake(store, "openlineage", [raw])).rejected
        nodes, _ = await store.export()
        [output] = [n for n in nodes if n.kind is Kind.DATASET_VERSION and n.key.name == event["outputs"][0]["name"]]
        trail = await audit_trail(store, output.key)
        assert trail.hops and trail.verification.intact
        assert {c.producer for c in trail.citations.values()} == {event["producer"]}
    finally:
        await store.close()
    otlp = (corpus() / "otel/rag_trace_openinference.otlp.json").read_text()
    resource = {
        a["key"]: a["value"]["stringValue"] for a in json.loads(otlp)["resourceSpans"][0]["resource"]["attributes"]
    }
    producer = producer_of(otlp) or ""
    assert resource["service.name"] in producer and resource["telemetry.sdk.version"] in producer


# -- over HTTP -----------------------------------------------------------------------------


@pytest.fixture
async def client(store: LineageStore, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    service = create_app(Settings(data_dir=tmp_path), store)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service), base_url="http://test") as c:
        yield c


def _path(urn: str) -> str:
    return f"/api/v1/audit/{quote(urn, safe='')}"


async def test_http_serves_every_format(client: httpx.AsyncClient, estate: Estate) -> None:
    answer = estate.landmarks["answer"]
    body = (await client.get(_path(answer))).json()
    assert body["subject"]["id"] == answer and body["verification"]["intact"]
    prov = await client.get(_path(answer), params={"format": "prov"})
    assert prov.status_code == 200
    ProvDocument.deserialize(content=prov.text, format="json")
    markdown = await client.get(_path(answer), params={"format": "md"})
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith("# Audit trail") and "## Journal records cited" in markdown.text
    page = await client.get(_path(answer), params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<!DOCTYPE html>") and "@media print" in page.text
    assert "<script" not in page.text and "src=" not in page.text and "<link" not in page.text  # self-contained
    early = await client.get(_path(answer), params={"asOf": (estate.start - timedelta(days=1)).isoformat()})
    assert early.json()["chain"]["hops"] == []


async def test_http_answers_404_and_422(client: httpx.AsyncClient, estate: Estate) -> None:
    missing = NodeKey(Kind.OUTPUT, "support-rag", "no-such-answer").urn
    assert (await client.get(_path(missing))).status_code == 404
    for bad in ("nonsense", estate.landmarks["index"]):
        refused = await client.get(_path(bad))
        assert refused.status_code == 422 and refused.json()["field"] == "id"
    answer = estate.landmarks["answer"]
    for params, name in (({"format": "pdf"}, "format"), ({"asOf": "yesterday"}, "asOf")):
        refused = await client.get(_path(answer), params=params)
        assert refused.status_code == 422 and refused.json()["field"] == name


AUDIT_QUERY = """
query ($id: ID!, $asOf: DateTime) {
  auditTrail(id: $id, asOf: $asOf) {
    __typename
    ... on AuditTrail {
      subject existed complete summary notes
      hops { source type target evidenceIds resolution }
      records { id seq recordHash contentOk }
      verification { intact statement uptoSeq }
      report
    }
    ... on NotFound { message }
    ... on InvalidArgument { field message }
  }
}
"""


async def _graphql(client: httpx.AsyncClient, urn: str, as_of: str | None = None) -> dict[str, Any]:
    answer = await client.post("/graphql", json={"query": AUDIT_QUERY, "variables": {"id": urn, "asOf": as_of}})
    body = answer.json()
    assert "errors" not in body, body
    return dict(body["data"]["auditTrail"])


async def test_graphql_audit_trail_matches_the_report(
    client: httpx.AsyncClient, store: LineageStore, estate: Estate
) -> None:
    answer = estate.landmarks["answer"]
    found = await _graphql(client, answer)
    assert found["__typename"] == "AuditTrail" and found["verification"]["intact"]
    trail = await _answer_trail(store, estate)
    assert {(h["source"], h["type"], h["target"]) for h in found["hops"]} == {
        (h.src, h.type.value, h.dst) for h in trail.hops
    }
    assert {r["id"] for r in found["records"]} == set(trail.citations)
    assert found["summary"] == trail.summary and found["report"]["subject"]["id"] == answer
    early = await _graphql(client, answer, (estate.start - timedelta(days=1)).isoformat())
    assert not early["existed"] and early["hops"] == []
    missing = await _graphql(client, NodeKey(Kind.OUTPUT, "support-rag", "no-such-answer").urn)
    assert missing["__typename"] == "NotFound"
    for bad in ("nonsense", estate.landmarks["index"]):
        refused = await _graphql(client, bad)
        assert refused["__typename"] == "InvalidArgument" and refused["field"] == "id"


# -- tamper evidence -------------------------------------------------------------------------


async def _invoke(args: list[str], env: dict[str, str]) -> Result:
    """Run the CLI as a person would (it runs its own event loop, so in a thread here)."""
    return await asyncio.to_thread(runner.invoke, cli, args, env=env)


async def _alter(store: LineageStore, record_id: str, raw: str) -> None:
    """Rewrite a journal record behind the store's back, as an intruder with database access would."""
    if isinstance(store, MemoryStore):
        store.file.db.execute("UPDATE journal SET raw = ? WHERE id = ?", (raw, record_id))
    else:
        assert isinstance(store, Neo4jStore)
        await store.driver.execute_query("MATCH (j:JournalRecord {id: $id}) SET j.raw = $raw", id=record_id, raw=raw)


def _cli_env(
    loaded: tuple[str, LineageStore, Path], request: pytest.FixtureRequest
) -> tuple[list[str], dict[str, str]]:
    backend, _, folder = loaded
    if backend == "memory":
        return ["--data", str(folder)], {}
    target = request.getfixturevalue("neo4j_target")
    return [], {"LINEAGE_NEO4J_URI": target.uri, **({"LINEAGE_NEO4J_USER": target.user} if target.user else {})} | (
        {"LINEAGE_NEO4J_PASSWORD": target.password} if target.password else {}
    )


async def test_an_altered_record_fails_the_report_the_cli_and_the_recheck(
    loaded: tuple[str, LineageStore, Path], estate: Estate, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _, store, _ = loaded
    saved = tmp_path / "report.json"
    before = await _answer_trail(store, estate)
    saved.write_text(get_format("json").render(before))
    args, env = _cli_env(loaded, request)
    rechecked = await _invoke(["verify", "--report", str(saved), *args], env=env)
    assert rechecked.exit_code == 0 and "report holds" in rechecked.output
    # The record that says which prompt version the answer used.
    answer_hop = next(h for h in before.hops if parse_key(h.src).kind is Kind.PROMPT_VERSION)
    victim = before.citations[answer_hop.evidence[0]]
    original = (await store.events([victim.id]))[victim.id].raw
    await _alter(store, victim.id, original.replace('"INPUT_OF"', '"DERIVES"', 1))
    try:
        after = await _answer_trail(store, estate)
        assert not after.verification.intact
        assert (after.verification.broken_seq, after.verification.broken_record) == (victim.seq, victim.id)
        assert not after.citations[victim.id].content_ok
        assert victim.id in get_format("md").render(after) and victim.id in get_format("html").render(after)

        verified = await _invoke(["verify", *args], env=env)
        assert verified.exit_code == 1 and f"journal broken at record {victim.seq}" in verified.output

        result = await recheck(store, json.loads(saved.read_text()))
        assert not result.ok and any(victim.id in p for p in result.problems)
        rechecked = await _invoke(["verify", "--report", str(saved), *args], env=env)
        assert rechecked.exit_code == 1 and victim.id in rechecked.output.replace("\n", "")

        audited = await _invoke(["audit", estate.landmarks["answer"], "-f", "md", *args], env=env)
        assert audited.exit_code == 1 and "BROKEN" in audited.output
    finally:
        await _alter(store, victim.id, original)
    assert (await store.verify()).intact
