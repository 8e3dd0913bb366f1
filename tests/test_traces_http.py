"""POST /v1/traces: OTLP protobuf and JSON, refusals, privacy, and spans arriving one by one in any order."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf.json_format import ParseDict
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from api.app import create_app
from api.settings import Settings
from graph.store import LineageStore
from tests.corpus import CORPUS
from tests.snapshots import snapshot

SAMPLE = json.loads((CORPUS / "otel/rag_trace_openinference.otlp.json").read_text())
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def client_for(store: LineageStore, tmp_path: Path, **settings: Any) -> httpx.AsyncClient:
    app = create_app(Settings(data_dir=tmp_path, **settings), store)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def client(store: LineageStore, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(store, tmp_path) as c:
        yield c


def as_protobuf(doc: dict[str, Any]) -> bytes:
    """Encode OTLP/JSON as protobuf, the way the SDK's exporter sends it (ids are hex in OTLP/JSON)."""
    copy = json.loads(json.dumps(doc))
    for rs in copy["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return ParseDict(copy, ExportTraceServiceRequest()).SerializeToString()


def one_span_bodies(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Split a request into one request a span (what SimpleSpanProcessor sends)."""
    bodies = []
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                bodies.append({"resourceSpans": [{**rs, "scopeSpans": [{**ss, "spans": [span]}]}]})
    return bodies


async def test_protobuf_and_json_bodies_make_the_same_graph(
    store: LineageStore, new_store: Any, tmp_path: Path
) -> None:
    async with client_for(store, tmp_path) as c:
        answer = await c.post("/v1/traces", content=as_protobuf(SAMPLE), headers=PROTOBUF)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-protobuf"
    reply = ExportTraceServiceResponse.FromString(answer.content)
    assert not reply.HasField("partial_success")
    other = await new_store()
    async with client_for(other, tmp_path) as c:
        gz = gzip.compress(json.dumps(SAMPLE).encode())
        answer = await c.post("/v1/traces", content=gz, headers={"Content-Encoding": "gzip"})
    assert answer.status_code == 200 and answer.json() == {}
    assert await snapshot(store) == await snapshot(other)


async def test_spans_sent_one_a_request_in_any_order_make_the_same_graph(
    store: LineageStore, new_store: Any, tmp_path: Path
) -> None:
    async with client_for(store, tmp_path) as c:
        assert (await c.post("/v1/traces", json=SAMPLE)).status_code == 200
    whole = await snapshot(store)
    bodies = one_span_bodies(SAMPLE)
    for seed in (1, 2):
        random.Random(seed).shuffle(bodies)
        split = await new_store()
        async with client_for(split, tmp_path) as c:
            for body in bodies:
                assert (await c.post("/v1/traces", json=body)).status_code == 200
        assert await snapshot(split) == whole


async def test_a_resent_request_changes_nothing(client: httpx.AsyncClient, store: LineageStore) -> None:
    await client.post("/v1/traces", json=SAMPLE)
    before = await snapshot(store), await store.head()
    assert (await client.post("/v1/traces", json=SAMPLE)).status_code == 200
    assert (await snapshot(store), await store.head()) == before


@pytest.mark.parametrize(
    ("body", "headers", "pointer"),
    [
        (b"{not json", {}, "/: not JSON"),
        (b"[1, 2]", {}, "/: an OTLP/JSON body is an object"),
        (b'{"spans": []}', {}, "/resourceSpans: required"),
        (b'{"resourceSpans": {}}', {}, "/resourceSpans: must be an array"),
        (b"\xff\xfe garbage", PROTOBUF, "/: not an OTLP ExportTraceServiceRequest in protobuf"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz", "spanId": "0102030405060708"}]}]}]}',
            {},
            "/resourceSpans/0/scopeSpans/0/spans/0/traceId: 'xyz' is neither",
        ),
    ],
)
async def test_a_malformed_body_is_a_400_status_naming_the_problem_and_a_dead_letter(
    client: httpx.AsyncClient, store: LineageStore, body: bytes, headers: dict[str, str], pointer: str
) -> None:
    answer = await client.post("/v1/traces", content=body, headers={"Content-Type": "application/json", **headers})
    assert answer.status_code == 400
    if headers == PROTOBUF:
        status = Status.FromString(answer.content)
        message = status.message
    else:
        reply = answer.json()
        assert reply["code"] == 3 and reply["details"] == []
        message = reply["message"]
    assert message.startswith(pointer)
    letters = await store.dead_letters()
    assert [d.source for d in letters] == ["traces"]
    assert letters[0].reason.startswith(pointer)


async def test_refused_spans_are_a_partial_success_and_the_rest_is_kept(
    client: httpx.AsyncClient, store: LineageStore
) -> None:
    doc = json.loads(json.dumps(SAMPLE))
    spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[1]["spanId"] = "00000000"
    spans[2]["startTimeUnixNano"] = "soon"
    answer = await client.post("/v1/traces", json=doc)
    assert answer.status_code == 200
    partial = answer.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert "/resourceSpans/0/scopeSpans/0/spans/1/spanId" in partial["errorMessage"]
    assert "/resourceSpans/0/scopeSpans/0/spans/2/startTimeUnixNano" in partial["errorMessage"]
    assert len(await store.journal()) == 2
    assert {d.reason.split(":")[0] for d in await store.dead_letters()} == {
        "/resourceSpans/0/scopeSpans/0/spans/1/spanId",
        "/resourceSpans/0/scopeSpans/0/spans/2/startTimeUnixNano",
    }


async def test_a_body_that_is_not_gzip_is_a_400_status(client: httpx.AsyncClient, store: LineageStore) -> None:
    answer = await client.post("/v1/traces", content=b"plain", headers={"Content-Encoding": "gzip", **PROTOBUF})
    assert answer.status_code == 400
    assert Status.FromString(answer.content).message.startswith("body: not valid gzip")
    assert [d.reason[:20] for d in await store.dead_letters()] == ["body: not valid gzip"]


async def test_an_unknown_content_type_is_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/traces", content=b"x", headers={"Content-Type": "text/plain"})
    assert answer.status_code == 415


SECRET_SPAN = {
    "traceId": "5b8efff798038103d269b633813fc60c",
    "spanId": "eee19b7ec3c1b174",
    "name": "llm",
    "startTimeUnixNano": "1795385733245853127",
    "attributes": [
        {"key": "openinference.span.kind", "value": {"stringValue": "LLM"}},
        {"key": "llm.model_name", "value": {"stringValue": "gpt-4o"}},
        {"key": "input.value", "value": {"stringValue": "My card number is 4111 1111 1111 1111"}},
        {"key": "output.value", "value": {"stringValue": "Thanks, use key sk-proj-abcdefghijklmnopqrstuvwx1234"}},
        {"key": "http.url", "value": {"stringValue": "https://bob:hunter2@api.example.com/v1"}},
        {"key": "http.request.header.authorization", "value": {"stringValue": "Bearer abcdefghijkl"}},
        {"key": "note", "value": {"stringValue": "aws AKIAIOSFODNN7EXAMPLE with password=s3cr3t!"}},
    ],
}
SECRETS = ("sk-proj-abcdefghijklmnopqrstuvwx1234", "hunter2", "abcdefghijkl", "AKIAIOSFODNN7EXAMPLE", "s3cr3t!")


def secret_body(**span: Any) -> dict[str, Any]:
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "bot"}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [{**SECRET_SPAN, **span}]}]}]}


async def test_prompt_and_answer_text_are_fingerprints_by_default_and_secrets_never_stored(
    client: httpx.AsyncClient, store: LineageStore
) -> None:
    assert (await client.post("/v1/traces", json=secret_body())).status_code == 200
    journal = "".join(r.raw for r in await store.journal())
    nodes, edges = await store.export()
    graph = json.dumps([n.properties for n in nodes] + [e.properties for e in edges])
    for kept in (journal, graph):
        assert "4111 1111" not in kept and "Thanks, use key" not in kept
        for secret in SECRETS:
            assert secret not in kept
    assert hashlib.sha256(b"My card number is 4111 1111 1111 1111").hexdigest() in journal  # the prompt's fingerprint


async def test_kept_text_stays_but_secrets_are_still_redacted(store: LineageStore, tmp_path: Path) -> None:
    async with client_for(store, tmp_path, keep_llm_text=True) as c:
        assert (await c.post("/v1/traces", json=secret_body())).status_code == 200
    journal = "".join(r.raw for r in await store.journal())
    assert "My card number is 4111 1111 1111 1111" in journal
    assert "Thanks, use key [REDACTED]" in journal
    assert "https://bob:[REDACTED]@api.example.com/v1" in journal
    for secret in SECRETS:
        assert secret not in journal


async def test_a_dead_letter_keeps_no_secret(client: httpx.AsyncClient, store: LineageStore) -> None:
    body = secret_body(startTimeUnixNano="later")
    assert (await client.post("/v1/traces", json=body)).status_code == 400
    raw = "".join(d.raw + d.reason for d in await store.dead_letters())
    assert "startTimeUnixNano" in raw
    for secret in SECRETS:
        assert secret not in raw
