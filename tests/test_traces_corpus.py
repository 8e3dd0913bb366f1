"""Trace samples from real producers (the OTel SDK, OpenInference's fixtures, an MLflow server) into the graph."""

from __future__ import annotations

import json
from typing import Any

import pytest

from graph.keys import Kind, NodeKey
from graph.store import LineageStore
from ingest import otlp
from ingest.trace_intake import decode, intake_spans
from tests.corpus import CORPUS

FIXTURES = CORPUS / "openinference/js/packages/openinference-genai/test/__fixtures__"
TRACE = "00d52d9ae3c6c1e5c710a6533e3d2d13"
MLFLOW_TRACE = "f3591ec1fe02ca6fec26e66ea412f1ff"

Edge = tuple[NodeKey, str, NodeKey]


async def ingest(store: LineageStore, body: bytes) -> None:
    report = await intake_spans(store, decode(body, protobuf=False), keep_text=False)
    assert not report.rejected, report.rejected


async def graph(store: LineageStore) -> tuple[set[NodeKey], set[Edge]]:
    nodes, edges = await store.export()
    return {n.key for n in nodes}, {(n.src_key, e.type.value, n.dst_key) for e in edges for n in [_Ends(e)]}


class _Ends:
    def __init__(self, edge: Any) -> None:
        from graph.keys import parse_key

        self.src_key, self.dst_key = parse_key(edge.src), parse_key(edge.dst)


def run(trace: str) -> NodeKey:
    return NodeKey(Kind.RUN, "otel", "trace", trace)


async def test_the_openinference_rag_trace_becomes_prompt_documents_index_and_answer(store: LineageStore) -> None:
    await ingest(store, (CORPUS / "otel/rag_trace_openinference.otlp.json").read_bytes())
    nodes, edges = await graph(store)
    r = run(TRACE)
    index = NodeKey(Kind.VECTOR_INDEX, "qdrant://default", "support_docs")
    doc = NodeKey(Kind.DOCUMENT, "qdrant://default", "support_docs/doc-17")
    source = NodeKey(Kind.DATASET, "s3://kb", "refunds.md")
    pv = NodeKey(Kind.PROMPT_VERSION, "prompts", "support_answer", "2")
    prompt = NodeKey(Kind.PROMPT, "prompts", "support_answer")
    llm = NodeKey(Kind.LLM, "openai", "gpt-4o-2024-08-06")
    embedder = NodeKey(Kind.EMBEDDING_MODEL, "openai", "text-embedding-3-small")
    answer = NodeKey(Kind.OUTPUT, "otel://support-rag", f"{TRACE}/e797d3a180921939")
    job = NodeKey(Kind.JOB, "otel://support-rag", "RetrievalQA")
    assert nodes == {r, index, doc, source, pv, prompt, llm, embedder, answer, job}
    assert edges == {
        (r, "RUN_OF", job),
        (r, "PRODUCED", answer),
        (pv, "VERSION_OF", prompt),
        (pv, "INPUT_OF", r),
        (llm, "INPUT_OF", r),
        (embedder, "INPUT_OF", r),
        (index, "INPUT_OF", r),
        (doc, "INPUT_OF", r),
        (doc, "PART_OF", index),
        (source, "DERIVES", doc),
    }
    got = await store.get([r.urn, answer.urn])
    usage = got[r.urn].properties["usage.e797d3a180921939"]
    assert usage == {"model": "gpt-4o-2024-08-06", "input_tokens": 21, "output_tokens": 9, "total_tokens": 30}
    assert got[r.urn].properties["route"] == "RetrievalQA"
    assert got[r.urn].properties["session"] == "sess-42"
    assert got[answer.urn].properties["answer"]["length"] == len("You can get a refund within 30 days.")
    assert "text" not in got[answer.urn].properties["answer"]


async def test_the_mlflow_export_links_its_prompt_the_named_index_build_and_the_document_source(
    store: LineageStore,
) -> None:
    await ingest(store, (CORPUS / "mlflow/trace_batchget_rag.json").read_bytes())
    nodes, edges = await graph(store)
    r = run(MLFLOW_TRACE)
    index = NodeKey(Kind.VECTOR_INDEX, "vector://default", "support_docs_idx")
    build = NodeKey(Kind.DATASET_VERSION, "vector://default", "support_docs_idx", "v3")
    doc = NodeKey(Kind.DOCUMENT, "vector://default", "support_docs_idx/doc-17")
    source = NodeKey(Kind.DATASET, "s3://kb", "refunds.md")
    pv = NodeKey(Kind.PROMPT_VERSION, "mlflow", "support_answer", "2")
    prompt = NodeKey(Kind.PROMPT, "mlflow", "support_answer")
    embedder = NodeKey(Kind.EMBEDDING_MODEL, "openai", "text-embedding-3-small")
    answer = NodeKey(Kind.OUTPUT, "otel://mlflow-experiment-1", f"{MLFLOW_TRACE}/21e01a671f75f5ed")
    job = NodeKey(Kind.JOB, "otel://mlflow-experiment-1", "rag_answer")
    assert nodes == {r, index, build, doc, source, pv, prompt, embedder, answer, job}
    assert edges == {
        (r, "RUN_OF", job),
        (r, "PRODUCED", answer),
        (pv, "VERSION_OF", prompt),
        (pv, "INPUT_OF", r),
        (embedder, "INPUT_OF", r),
        (build, "VERSION_OF", index),
        (build, "INPUT_OF", r),
        (doc, "INPUT_OF", r),
        (doc, "PART_OF", index),
        (source, "DERIVES", doc),
    }
    got = (await store.get([doc.urn]))[doc.urn]
    assert got.properties["metadata"] == {"doc_uri": "s3://kb/refunds.md", "chunk_id": "c-17", "score": 0.91}
    assert got.properties["content"]["length"] == len("Refunds within 30 days")


def span_body(attributes: dict[str, Any], name: str = "call") -> bytes:
    """Wrap an attribute fixture in one OTLP/JSON root span."""
    span = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": name,
        "kind": "SPAN_KIND_CLIENT",
        "startTimeUnixNano": "1795385733245853127",
        "endTimeUnixNano": "1795385733246101161",
        "attributes": otlp.encode_attributes(attributes),
    }
    resource = {"attributes": otlp.encode_attributes({"service.name": "weather-bot"})}
    return json.dumps({"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}).encode()


FIXTURE_EXPECTED = {
    # fixture: (LLM, request model on its edge)
    "openinference_client_span_input_output_only.json": (NodeKey(Kind.LLM, "openai", "gpt-4-0613"), None),
    "openinference_client_span_tool_calls.json": (NodeKey(Kind.LLM, "openai", "gpt-4-0613"), None),
    "otel_genai_client_span_tool_calls.json": (NodeKey(Kind.LLM, "openai", "gpt-4-0613"), "gpt-4"),
    "otel_genai_deprecated_client_span_tool_calls.json": (NodeKey(Kind.LLM, "openai", "gpt-4-0613"), "gpt-4"),
    "otel_genai_tool_execution_span.json": (None, None),
}


@pytest.mark.parametrize("fixture", sorted(FIXTURE_EXPECTED))
async def test_openinference_and_genai_fixture_spans_become_a_call_of_the_response_model(
    store: LineageStore, fixture: str
) -> None:
    await ingest(store, span_body(json.loads((FIXTURES / fixture).read_text())))
    nodes, edges = await graph(store)
    r = run("5b8efff798038103d269b633813fc60c")
    job = NodeKey(Kind.JOB, "otel://weather-bot", "call")
    llm, request_model = FIXTURE_EXPECTED[fixture]
    if llm is None:  # a tool execution: the run and its span, nothing generated
        assert nodes == {r, job}
        assert edges == {(r, "RUN_OF", job)}
        got = (await store.get([r.urn]))[r.urn]
        assert got.properties["spans.eee19b7ec3c1b174"]["kind"] == "tool"
        return
    answer = NodeKey(Kind.OUTPUT, "otel://weather-bot", "5b8efff798038103d269b633813fc60c/eee19b7ec3c1b174")
    assert nodes == {r, job, llm, answer}
    assert edges == {(r, "RUN_OF", job), (llm, "INPUT_OF", r), (r, "PRODUCED", answer)}
    got = await store.get([answer.urn])
    props = got[answer.urn].properties
    assert props["input_tokens"] == 97 and props["output_tokens"] == 52
    assert props["answer"].keys() == {"sha256", "length"}
    _, _, llm_edge = next(
        (e.src, e.type, e) for e in (await store.export())[1] if e.src == llm.urn and e.type.value == "INPUT_OF"
    )
    assert llm_edge.properties.get("request_model") == request_model


async def test_the_span_record_keeps_attributes_no_dialect_knows(store: LineageStore) -> None:
    attributes = {"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o", "tenant": "acme", "ab.arm": 2}
    await ingest(store, span_body(attributes))
    got = await store.get([run("5b8efff798038103d269b633813fc60c").urn])
    record = next(iter(got.values())).properties["spans.eee19b7ec3c1b174"]
    assert record["attributes"] == {"tenant": "acme", "ab.arm": 2}


async def test_genai_retrieval_and_a_langfuse_generation_name_index_documents_prompt_and_model(
    store: LineageStore,
) -> None:
    trace = "6c8efff798038103d269b633813fc60c"
    resource = {"attributes": otlp.encode_attributes({"service.name": "faq"})}
    retrieval = {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.data_source.id": "faq_index",
        "gen_ai.retrieval.documents": json.dumps([{"id": "q-1", "score": 0.8}, {"id": "q-9", "score": 0.5}]),
    }
    generation = {
        "langfuse.observation.type": "generation",
        "langfuse.observation.prompt.name": "faq_answer",
        "langfuse.observation.prompt.version": 3,
        "gen_ai.request.model": "claude-3-5-sonnet-20241022",
        "langfuse.observation.usage_details": json.dumps({"input": 120, "output": 30, "total": 150}),
        "langfuse.observation.cost_details": json.dumps({"total": 0.0012}),
    }
    spans = [
        {"traceId": trace, "spanId": f"{n + 1:016x}", "parentSpanId": "00000000000000aa", "name": name,
         "startTimeUnixNano": str(1795385733245853127 + n), "attributes": otlp.encode_attributes(attrs)}
        for n, (name, attrs) in enumerate([("search", retrieval), ("generate", generation)])
    ]  # fmt: skip
    body = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}
    await ingest(store, json.dumps(body).encode())
    nodes, edges = await graph(store)
    r = run(trace)
    index = NodeKey(Kind.VECTOR_INDEX, "vector://default", "faq_index")
    docs = {NodeKey(Kind.DOCUMENT, "vector://default", f"faq_index/{d}") for d in ("q-1", "q-9")}
    pv = NodeKey(Kind.PROMPT_VERSION, "langfuse", "faq_answer", "3")
    prompt = NodeKey(Kind.PROMPT, "langfuse", "faq_answer")
    llm = NodeKey(Kind.LLM, "anthropic", "claude-3-5-sonnet-20241022")
    answer = NodeKey(Kind.OUTPUT, "otel://faq", f"{trace}/0000000000000002")
    assert nodes == {r, index, pv, prompt, llm, answer, *docs}  # no root span arrived: no job yet
    assert edges == {
        (index, "INPUT_OF", r),
        *((d, "INPUT_OF", r) for d in docs),
        *((d, "PART_OF", index) for d in docs),
        (pv, "VERSION_OF", prompt),
        (pv, "INPUT_OF", r),
        (llm, "INPUT_OF", r),
        (r, "PRODUCED", answer),
    }
    got = (await store.get([r.urn]))[r.urn]
    assert got.properties["usage.0000000000000002"] == {
        "model": "claude-3-5-sonnet-20241022", "input_tokens": 120, "output_tokens": 30, "total_tokens": 150,
        "cost": 0.0012,
    }  # fmt: skip


@pytest.mark.parametrize(("operation", "reads"), [("query_points", True), ("search", True), ("upsert", False)])
async def test_a_plain_vector_store_span_reads_the_collection_only_when_it_queries(
    store: LineageStore, operation: str, reads: bool
) -> None:
    attributes = {
        "db.system.name": "qdrant",
        "db.operation.name": operation,
        "db.collection.name": "kb",
        "server.address": "qdrant.internal",
        "server.port": 6333,
    }
    await ingest(store, span_body(attributes, name="qdrant"))
    nodes, edges = await graph(store)
    index = NodeKey(Kind.VECTOR_INDEX, "qdrant://qdrant.internal:6333", "kb")
    assert ((index, "INPUT_OF", run("5b8efff798038103d269b633813fc60c")) in edges) is reads
    assert (index in nodes) is reads
