"""Any body sent to /v1/traces ends as spans that re-derive their graph, or as a refusal naming a pointer."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.errors import InvalidInput
from ingest import otlp, privacy, traces
from ingest.intake import canonical_json
from ingest.trace_intake import decode
from tests import json_fuzz
from tests.corpus import CORPUS

SAMPLES = [
    orjson.loads((CORPUS / "otel/rag_trace_openinference.otlp.json").read_bytes()),
    orjson.loads((CORPUS / "mlflow/trace_batchget_rag.json").read_bytes()),
]
# Wider than strict JSON: integers over 64 bits and NaN, as careless producers send them.
json_values = json_fuzz.json_values(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20)
)


def journaled_and_replayed(body: bytes, protobuf: bool, keep_text: bool = False) -> None:
    """Decode, scrub and encode as the intake does; each journal text must map to a delta on replay."""
    try:
        decoded = decode(body, protobuf)
    except InvalidInput as e:
        assert str(e).startswith("/"), e
        return
    for problem in decoded.problems:
        assert problem.pointer.startswith("/"), problem
    privacy.scrub_spans(decoded.spans, keep_text)
    for span in decoded.spans:
        traces.to_delta(canonical_json(orjson.dumps(otlp.span_document(span))))


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_any_json_is_spans_or_a_pointed_refusal(value: Any) -> None:
    journaled_and_replayed(_dumps(value), protobuf=False)


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=200))
def test_any_bytes_as_protobuf_are_spans_or_a_pointed_refusal(body: bytes) -> None:
    journaled_and_replayed(body, protobuf=True)


PATHS = [(n, path) for n, sample in enumerate(SAMPLES) for path in json_fuzz.paths(sample)[1:]]


@settings(max_examples=400, deadline=None)
@given(where=st.sampled_from(PATHS), value=json_values, keep_text=st.booleans())
def test_a_real_trace_with_any_part_replaced_is_spans_or_a_pointed_refusal(
    where: tuple[int, tuple[Any, ...]], value: Any, keep_text: bool
) -> None:
    n, path = where
    doc = orjson.loads(orjson.dumps(SAMPLES[n]))
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    journaled_and_replayed(_dumps(doc), protobuf=False, keep_text=keep_text)


def test_an_mlflow_trace_location_of_another_shape_is_still_read() -> None:
    doc = orjson.loads(orjson.dumps(SAMPLES[1]))
    for location in ([None], "x", {"experiment_id": ["1"]}):
        doc["traces"][0]["trace_info"]["trace_location"]["mlflow_experiment"] = location
        journaled_and_replayed(_dumps(doc), protobuf=False)  # found by the property above


any_values = st.recursive(
    st.text(max_size=30) | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.binary(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "openinference.span.kind", "llm.model_name", "llm.prompt_template.version", "prompt.id",
        "retrieval.documents.0.document.id", "retrieval.documents.0.document.metadata", "db.collection.name",
        "gen_ai.operation.name", "gen_ai.retrieval.documents", "mlflow.spanType", "mlflow.spanOutputs",
        "mlflow.linkedPrompts", "langfuse.observation.prompt.name", "embedding_model", "vector_index",
        "output.value", "llm.token_count.prompt", "server.port",
    ]
) | st.text(max_size=10)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(attributes=st.dictionaries(KEYS, any_values, max_size=8), root=st.booleans())
def test_a_span_with_any_attributes_is_accepted_and_replays(attributes: dict[str, Any], root: bool) -> None:
    span: dict[str, Any] = {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "call",
        "startTimeUnixNano": "1795385733245853127",
        "attributes": otlp.encode_attributes(attributes),
    }
    if not root:
        span["parentSpanId"] = "aaa19b7ec3c1b174"
    body = orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
    decoded = decode(body, protobuf=False)
    assert not decoded.problems and len(decoded.spans) == 1
    journaled_and_replayed(body, protobuf=False)
