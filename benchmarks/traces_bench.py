"""Trace ingest benchmark: spans per second through POST /v1/traces, on both stores, beside the floor.

Traces are realistic RAG traces in OpenInference conventions: a CHAIN root, an EMBEDDING
span, a RETRIEVER span with 5 documents (ids, scores, content, source metadata), an LLM span
with a prompt template version and token counts, and 1-6 more spans (tool calls, a reranker,
sub-chains): 5-10 spans each. Requests are protobuf, as the SDK's BatchSpanProcessor sends them
(``--per-request`` spans at most). For each store, in the same run:

- floor: ``store.apply`` of the same spans' journal entries and deltas, built beforehand;
- CPU only: decode + scrub + encode + map (no store), what the endpoint adds per span;
- ``POST /v1/traces`` (protobuf), one client, requests back to back.

    python -m benchmarks.traces_bench --traces 2000 [--stores embedded neo4j]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from api.app import create_app
from api.settings import Settings
from graph.journal import JournalEntry
from graph.memory import MemoryStore
from graph.neo4j import Neo4jStore
from graph.neo4j.local_server import start_local_neo4j
from graph.store import Ingested, LineageStore
from ingest import otlp, privacy, traces
from ingest.intake import canonical_json

BATCH = 500  # journal entries per store.apply in the floor
T0 = 1_795_385_700_000_000_000


def _kv(key: str, value: Any) -> KeyValue:
    if isinstance(value, str):
        return KeyValue(key=key, value=AnyValue(string_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(int_value=value))


def _span(
    trace_id: bytes, span_id: bytes, parent: bytes, start: int, name: str, kind: str, attrs: dict[str, Any]
) -> Span:
    attributes = [_kv("openinference.span.kind", kind), *(_kv(k, v) for k, v in attrs.items())]
    return Span(
        trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name, kind=Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=start, end_time_unix_nano=start + 500_000, attributes=attributes,
    )  # fmt: skip


def make_requests(count: int, per_request: int, seed: int = 11) -> tuple[list[bytes], int]:
    """Return protobuf export requests holding ``count`` RAG traces, and the number of spans."""
    rng = random.Random(seed)
    spans: list[Span] = []
    for n in range(count):
        trace_id = rng.getrandbits(128).to_bytes(16, "big")
        ids = [rng.getrandbits(64).to_bytes(8, "big") for _ in range(10)]
        start = T0 + n * 1_000_000_000
        root, question = ids[0], f"question {n}: how do I {rng.choice(['return', 'pay', 'ship', 'reset'])} it?"

        def span(i: int, name: str, kind: str, attrs: dict[str, Any], parent: bytes | None = root) -> Span:
            # Called only within this iteration, so the loop's variables are the right ones.
            return _span(trace_id, ids[i], parent or b"", start + i * 1_000_000, name, kind, attrs)  # noqa: B023

        trace = [
            span(0, f"route.{rng.choice(['billing', 'shipping', 'returns', 'account'])}", "CHAIN",
                 {"input.value": question, "session.id": f"s-{n % 97}"}, parent=None),
            span(1, "embed", "EMBEDDING", {"embedding.model_name": "text-embedding-3-small",
                                            "embedding.embeddings.0.embedding.text": question}),
        ]  # fmt: skip
        docs: dict[str, Any] = {"db.system.name": "qdrant", "server.address": "qdrant.internal",
                                "server.port": 6333, "db.collection.name": "support_kb"}  # fmt: skip
        for d, doc in enumerate(rng.sample(range(50_000), k=5)):
            prefix = f"retrieval.documents.{d}.document."
            docs[prefix + "id"] = f"doc-{doc:07d}"
            docs[prefix + "score"] = round(0.95 - d * 0.05, 3)
            docs[prefix + "content"] = f"passage {doc} " * 20
            docs[prefix + "metadata"] = json.dumps({"source": f"s3://kb/articles/{doc % 900}.md"})
        trace.append(span(2, "retrieve", "RETRIEVER", docs))
        trace.append(
            span(3, "chat", "LLM", {
                "llm.model_name": rng.choice(["gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18"]), "llm.provider": "openai",
                "llm.prompt_template.template": "Context: {context}\nQ: {question}",
                "llm.prompt_template.version": f"support_answer@{1 + n % 4}",
                "llm.token_count.prompt": rng.randint(600, 2400), "llm.token_count.completion": rng.randint(80, 500),
                "output.value": f"answer {n} " * 30,
            })
        )  # fmt: skip
        for i in range(4, 4 + rng.randint(1, 6)):
            trace.append(span(i, f"tool.{i}", rng.choice(["TOOL", "RERANKER", "CHAIN"]), {"tool.name": f"t{i}"}))
        spans.extend(trace)
    resource = [_kv("service.name", "support-rag"), _kv("deployment.environment.name", "bench")]
    requests = []
    for i in range(0, len(spans), per_request):
        request = ExportTraceServiceRequest(
            resource_spans=[
                ResourceSpans(
                    resource={"attributes": resource},
                    scope_spans=[ScopeSpans(scope={"name": "bench"}, spans=spans[i : i + per_request])],
                )
            ]
        )
        requests.append(request.SerializeToString())
    return requests, len(spans)


def prepared(requests: list[bytes]) -> list[Ingested]:
    """Return what the endpoint journals for these requests, with its deltas (built off the clock)."""
    items, now = [], time.time()
    for body in requests:
        decoded = otlp.decode_protobuf(body)
        privacy.scrub_spans(decoded.spans, keep_text=False)
        for span in decoded.spans:
            text = canonical_json(orjson.dumps(otlp.span_document(span)))
            items.append(Ingested(JournalEntry(traces.SOURCE, text, now), traces.to_delta(text)))
    return items


def cpu_only(requests: list[bytes], spans: int) -> float:
    """Spans per second of everything but the store: decode, scrub, encode, canonical text, map."""
    t = time.perf_counter()
    prepared(requests)
    return spans / (time.perf_counter() - t)


async def open_store(neo4j: str | None) -> LineageStore:
    """Return an empty store (Neo4j is emptied)."""
    if neo4j is None:
        return MemoryStore(tempfile.mkdtemp())
    store = await Neo4jStore.open(neo4j)
    async with store.driver.session() as session:
        await (await session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")).consume()
    return store


def floor(items: list[Ingested], neo4j: str | None) -> float:
    """Spans per second of ``store.apply`` alone."""

    async def go() -> float:
        store = await open_store(neo4j)
        try:
            t = time.perf_counter()
            for i in range(0, len(items), BATCH):
                await store.apply(items[i : i + BATCH])
            return time.perf_counter() - t
        finally:
            await store.close()

    return len(items) / _run(go())


def _run(work: Coroutine[Any, Any, float]) -> float:
    """Run on the event loop uvicorn serves on (uvloop when installed), so floor and endpoint compare."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)
    return uvloop.run(work)


def served(neo4j: str | None) -> Iterator[str]:
    """Run the app over an empty store on a loopback port."""
    asyncio.run(_empty(neo4j))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(Settings(data_dir=Path(tempfile.mkdtemp()), neo4j_uri=neo4j))
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


async def _empty(neo4j: str | None) -> None:
    if neo4j is not None:
        await (await open_store(neo4j)).close()


def endpoint(requests: list[bytes], spans: int, neo4j: str | None) -> float:
    """Spans per second through POST /v1/traces (protobuf), requests back to back."""
    for url in served(neo4j):
        with httpx.Client(timeout=600) as client:
            t = time.perf_counter()
            for body in requests:
                answer = client.post(
                    f"{url}/v1/traces", content=body, headers={"Content-Type": "application/x-protobuf"}
                )
                assert answer.status_code == 200 and answer.content == b"", answer.content
            return spans / (time.perf_counter() - t)
    msg = "the server did not start"
    raise RuntimeError(msg)


def report(args: argparse.Namespace) -> dict[str, Any]:
    """Measure every part for every store and return the results."""
    requests, spans = make_requests(args.traces, args.per_request)
    items = prepared(requests)
    warm_up = prepared(make_requests(max(args.traces // 10, 10), args.per_request, seed=99)[0])
    elements = sum(item.delta.size for item in items)
    result: dict[str, Any] = {
        "traces": args.traces,
        "spans": spans,
        "requests": len(requests),
        "graph_elements_per_span": round(elements / spans, 1),
        "cpu_only_spans_per_s": round(cpu_only(requests, spans)),
    }
    for name in args.stores:
        neo4j_server = start_local_neo4j(heap="2g", pagecache="1g") if name == "neo4j" else None
        uri = neo4j_server.uri if neo4j_server else None
        try:
            floor(warm_up, uri)  # a first, discarded pass: a cold server (JIT, caches) is not what is measured
            base = floor(items, uri)
            through = endpoint(requests, spans, uri)
        finally:
            if neo4j_server is not None:
                neo4j_server.stop()
        result[name] = {
            "floor_apply_spans_per_s": round(base),
            "endpoint_spans_per_s": round(through),
            "endpoint_vs_floor": round(through / base, 2),
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=2000)
    parser.add_argument("--per-request", type=int, default=512, help="Spans per export request (the SDK's batch).")
    parser.add_argument("--stores", nargs="+", default=["embedded", "neo4j"], choices=["embedded", "neo4j"])
    args = parser.parse_args()
    print(json.dumps(report(args), indent=2))


if __name__ == "__main__":
    main()
