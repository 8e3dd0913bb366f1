"""OTLP traces, protobuf or JSON, decoded to one span model and encoded back as OTLP/JSON.

Accepted JSON is what real exporters and tools write, not only the spec's canonical form
(https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): lowerCamelCase or
snake_case keys, trace and span ids in hex or in base64 (protobuf's JSON mapping, as MLflow
exports them), enums as integers or names, 64-bit integers as numbers or strings. Protobuf is
read with opentelemetry-proto's messages field by field, without a detour through JSON.

A structural problem (not OTLP at all) raises InvalidInput; a span that cannot be understood
is a Problem naming its JSON pointer, so the rest of the request can still be accepted.
``span_document`` writes one span back as canonical OTLP/JSON (hex ids, integer enums): the
text the journal keeps and ``lineage replay`` reads.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from google.protobuf.json_format import MessageToJson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status as PbStatus

from graph.errors import InvalidInput

Json = dict[str, Any]
Attributes = dict[str, Any]  # values: str, bool, int, float, bytes, None, lists and dicts of those
INT64 = (-(2**63), 2**63 - 1)
_KINDS = {name: int(number) for name, number in PbSpan.SpanKind.items()}
_STATUS = {name: int(number) for name, number in PbStatus.StatusCode.items()}


@dataclass(slots=True)
class Scope:
    """The instrumentation scope that made a span."""

    name: str = ""
    version: str = ""
    attributes: Attributes = field(default_factory=dict)


@dataclass(slots=True)
class Event:
    """A timed event inside a span."""

    name: str
    time_ns: int
    attributes: Attributes


@dataclass(slots=True)
class Link:
    """A link from a span to another span."""

    trace_id: str
    span_id: str
    attributes: Attributes


@dataclass(slots=True)
class Span:
    """One span with its resource and scope (shared between the spans of a batch)."""

    trace_id: str  # 32 lower-case hex digits
    span_id: str  # 16 lower-case hex digits
    parent_id: str  # "" for a root span
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: Attributes
    status_code: int
    status_message: str
    events: list[Event]
    links: list[Link]
    resource: Attributes
    scope: Scope
    at: str = ""  # the JSON pointer of the span in the body it came in

    @property
    def start(self) -> float:
        """Return the start time in epoch seconds."""
        return self.start_ns / 1e9

    @property
    def end(self) -> float:
        """Return the end time in epoch seconds."""
        return self.end_ns / 1e9


@dataclass(frozen=True, slots=True)
class Problem:
    """A span that was refused: where it was, why, and its text (for the dead-letter table)."""

    pointer: str
    reason: str
    raw: str

    def __str__(self) -> str:
        return f"{self.pointer}: {self.reason}"


@dataclass(slots=True)
class Decoded:
    """The spans of a body that could be read, and the problems of those that could not."""

    spans: list[Span] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class _SpanError(ValueError):
    """A problem inside one span, with the pointer below the span."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(reason)
        self.pointer = pointer
        self.reason = reason


# -- protobuf -----------------------------------------------------------------------------------


def decode_protobuf(body: bytes) -> Decoded:
    """Decode an ExportTraceServiceRequest."""
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as e:
        msg = f"/: not an OTLP ExportTraceServiceRequest in protobuf: {e}"
        raise InvalidInput(msg, field="/") from e
    out = Decoded()
    for r, rs in enumerate(request.resource_spans):
        resource = _pb_attributes(rs.resource.attributes)
        for s, ss in enumerate(rs.scope_spans):
            scope = Scope(ss.scope.name, ss.scope.version, _pb_attributes(ss.scope.attributes))
            for i, pb in enumerate(ss.spans):
                at = f"/resourceSpans/{r}/scopeSpans/{s}/spans/{i}"
                try:
                    out.spans.append(_pb_span(pb, resource, scope, at))
                except _SpanError as e:
                    out.problems.append(Problem(at + e.pointer, e.reason, _pb_text(pb)))
    return out


def _pb_span(pb: PbSpan, resource: Attributes, scope: Scope, at: str) -> Span:
    trace_id = _id_bytes(pb.trace_id, 16, "/traceId")
    span_id = _id_bytes(pb.span_id, 8, "/spanId")
    parent = _id_bytes(pb.parent_span_id, 8, "/parentSpanId") if pb.parent_span_id else ""
    start = pb.start_time_unix_nano
    if start <= 0:
        raise _SpanError("/startTimeUnixNano", "required, nanoseconds since the epoch")
    return Span(
        trace_id,
        span_id,
        parent,
        pb.name,
        pb.kind,
        start,
        pb.end_time_unix_nano or start,
        _pb_attributes(pb.attributes),
        pb.status.code,
        pb.status.message,
        [Event(e.name, e.time_unix_nano, _pb_attributes(e.attributes)) for e in pb.events],
        [
            Link(_id_bytes(k.trace_id, 16, "/links/traceId"), _id_bytes(k.span_id, 8, "/links/spanId"), {})
            for k in pb.links
        ],
        resource,
        scope,
        at,
    )


def _id_bytes(value: bytes, size: int, pointer: str) -> str:
    if len(value) != size or not any(value):
        raise _SpanError(pointer, f"must be {size} bytes, not all zero")
    return value.hex()


def _pb_attributes(items: Iterable[Any]) -> Attributes:
    return {kv.key: _pb_value(kv.value) for kv in items}


def _pb_value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return value.int_value
    if which == "bool_value":
        return value.bool_value
    if which == "double_value":
        return _finite(value.double_value)
    if which == "array_value":
        return [_pb_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return _pb_attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return bytes(value.bytes_value)
    return None


def _pb_text(pb: PbSpan) -> str:
    """Return a refused span as JSON text (off the hot path: only for dead letters)."""
    return str(MessageToJson(pb))


# -- JSON ---------------------------------------------------------------------------------------


def decode_json(doc: Any) -> Decoded:
    """Decode an ExportTraceServiceRequest in OTLP/JSON (any of the spellings real tools write)."""
    if not isinstance(doc, dict):
        msg = "/: an OTLP/JSON body is an object with resourceSpans"
        raise InvalidInput(msg, field="/")
    resource_spans = _get(doc, "resourceSpans", "resource_spans")
    if resource_spans is None:
        msg = "/resourceSpans: required (an OTLP/JSON ExportTraceServiceRequest)"
        raise InvalidInput(msg, field="/resourceSpans")
    out = Decoded()
    for r, rs in enumerate(_array(resource_spans, "/resourceSpans")):
        at_r = f"/resourceSpans/{r}"
        rs_doc = _object(rs, at_r)
        resource = _json_attributes_at(_object(rs_doc.get("resource") or {}, f"{at_r}/resource"), f"{at_r}/resource")
        for s, ss in enumerate(_array(_get(rs_doc, "scopeSpans", "scope_spans") or [], f"{at_r}/scopeSpans")):
            at_s = f"{at_r}/scopeSpans/{s}"
            ss_doc = _object(ss, at_s)
            scope = _json_scope(_object(ss_doc.get("scope") or {}, f"{at_s}/scope"), f"{at_s}/scope")
            for i, item in enumerate(_array(ss_doc.get("spans") or [], f"{at_s}/spans")):
                at = f"{at_s}/spans/{i}"
                try:
                    out.spans.append(_json_span(item, resource, scope, at))
                except _SpanError as e:
                    out.problems.append(Problem(at + e.pointer, e.reason, _text(item)))
    return out


def _json_span(doc: Any, resource: Attributes, scope: Scope, at: str) -> Span:
    if not isinstance(doc, dict):
        raise _SpanError("", "a span is an object")
    trace_id = _json_id(_get(doc, "traceId", "trace_id"), 16, "/traceId")
    span_id = _json_id(_get(doc, "spanId", "span_id"), 8, "/spanId")
    parent_text = _get(doc, "parentSpanId", "parent_span_id")
    start_text = _get(doc, "startTimeUnixNano", "start_time_unix_nano")
    start = _int64(start_text, "/startTimeUnixNano") if start_text is not None else 0
    if start <= 0:
        raise _SpanError("/startTimeUnixNano", "required, nanoseconds since the epoch")
    end_text = _get(doc, "endTimeUnixNano", "end_time_unix_nano")
    status = doc.get("status") or {}
    if not isinstance(status, dict):
        raise _SpanError("/status", "must be an object")
    name = doc.get("name", "")
    if not isinstance(name, str):
        raise _SpanError("/name", "must be a string")
    message = status.get("message", "")
    return Span(
        trace_id,
        span_id,
        _json_id(parent_text, 8, "/parentSpanId") if parent_text else "",
        name,
        _enum(doc.get("kind", 0), _KINDS, "/kind"),
        start,
        _int64(end_text, "/endTimeUnixNano") if end_text not in (None, "", 0, "0") else start,
        _json_attributes(doc.get("attributes"), "/attributes"),
        _enum(status.get("code", 0), _STATUS, "/status/code"),
        message if isinstance(message, str) else str(message),
        [_json_event(e, f"/events/{n}") for n, e in enumerate(_span_array(doc.get("events"), "/events"))],
        [_json_link(k, f"/links/{n}") for n, k in enumerate(_span_array(doc.get("links"), "/links"))],
        resource,
        scope,
        at,
    )


def _json_event(doc: Any, at: str) -> Event:
    if not isinstance(doc, dict):
        raise _SpanError(at, "an event is an object")
    name = doc.get("name", "")
    time_ns = _int64(_get(doc, "timeUnixNano", "time_unix_nano") or 0, f"{at}/timeUnixNano")
    attributes = _json_attributes(doc.get("attributes"), f"{at}/attributes")
    return Event(name if isinstance(name, str) else str(name), time_ns, attributes)


def _json_link(doc: Any, at: str) -> Link:
    if not isinstance(doc, dict):
        raise _SpanError(at, "a link is an object")
    return Link(
        _json_id(_get(doc, "traceId", "trace_id"), 16, f"{at}/traceId"),
        _json_id(_get(doc, "spanId", "span_id"), 8, f"{at}/spanId"),
        _json_attributes(doc.get("attributes"), f"{at}/attributes"),
    )


def _json_scope(doc: Json, at: str) -> Scope:
    name, version = doc.get("name") or "", doc.get("version") or ""
    if not isinstance(name, str) or not isinstance(version, str):
        msg = f"{at}: name and version are strings"
        raise InvalidInput(msg, field=at)
    return Scope(name, version, _json_attributes_at(doc, at))


def _json_attributes_at(doc: Json, at: str) -> Attributes:
    """Read the attributes of a resource or scope, where a problem refuses the whole body."""
    try:
        return _json_attributes(doc.get("attributes"), "/attributes")
    except _SpanError as e:
        msg = f"{at}{e.pointer}: {e.reason}"
        raise InvalidInput(msg, field=at + e.pointer) from e


def _json_attributes(items: Any, at: str) -> Attributes:
    if items is None:
        return {}
    if isinstance(items, dict):  # a plain mapping, as some tools log attributes
        return {str(k): _plain(v, f"{at}/{k}") for k, v in items.items()}
    if not isinstance(items, list):
        raise _SpanError(at, "must be an array of {key, value}")
    out: Attributes = {}
    for n, kv in enumerate(items):
        key = kv.get("key") if type(kv) is dict else None
        if not isinstance(key, str):
            raise _SpanError(f"{at}/{n}", "an attribute is {key: string, value: AnyValue}")
        value = kv.get("value")
        if type(value) is dict and type(value.get("stringValue")) is str:  # most values: no detour
            out[key] = value["stringValue"]
            continue
        try:
            out[key] = _json_value(value)
        except _SpanError as e:  # pointers are put together only on the way out of an error
            raise _SpanError(f"{at}/{n}/value{e.pointer}", e.reason) from None
    return out


def _json_value(value: Any) -> Any:
    """Read an AnyValue; a _SpanError's pointer is relative to the value."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _SpanError("", "an AnyValue is an object such as {stringValue: ...}")
    for key, inner in value.items():
        kind = _VALUE_KINDS.get(key)
        if kind == "string":
            if not isinstance(inner, str):
                raise _SpanError(f"/{key}", "must be a string")
            return inner
        if kind == "bool":
            if not isinstance(inner, bool):
                raise _SpanError(f"/{key}", "must be true or false")
            return inner
        if kind == "int":
            return _int64(inner, f"/{key}")
        if kind == "double":
            return _double(inner, f"/{key}")
        if kind == "array":
            values = inner.get("values") if isinstance(inner, dict) else None
            out = []
            for n, v in enumerate(_span_array(values, f"/{key}/values")):
                try:
                    out.append(_json_value(v))
                except _SpanError as e:
                    raise _SpanError(f"/{key}/values/{n}{e.pointer}", e.reason) from None
            return out
        if kind == "kvlist":
            values = inner.get("values") if isinstance(inner, dict) else None
            return _json_attributes(values or [], f"/{key}/values")
        if kind == "bytes":
            return _base64(inner, f"/{key}")
    return None  # an empty AnyValue, or one of a kind added after this reader: no value


_VALUE_KINDS = {
    **{k: "string" for k in ("stringValue", "string_value")},
    **{k: "bool" for k in ("boolValue", "bool_value")},
    **{k: "int" for k in ("intValue", "int_value")},
    **{k: "double" for k in ("doubleValue", "double_value")},
    **{k: "array" for k in ("arrayValue", "array_value")},
    **{k: "kvlist" for k in ("kvlistValue", "kvlist_value")},
    **{k: "bytes" for k in ("bytesValue", "bytes_value")},
}


def _plain(value: Any, at: str) -> Any:
    """Accept a plain JSON value as an attribute value (numbers checked like AnyValue's)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return _int64(value, at)
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, list):
        return [_plain(v, f"{at}/{n}") for n, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{at}/{k}") for k, v in value.items()}
    raise _SpanError(at, "not a JSON value")


def _json_id(value: Any, size: int, at: str) -> str:
    if not isinstance(value, str) or not value:
        raise _SpanError(at, f"required, {size * 2} hex digits (or {size} bytes in base64)")
    if len(value) == size * 2:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
        if raw:
            if not any(raw):
                raise _SpanError(at, "must not be all zero")
            return raw.hex()
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise _SpanError(at, f"{value!r} is neither {size * 2} hex digits nor {size} bytes in base64")
    if not any(raw):
        raise _SpanError(at, "must not be all zero")
    return raw.hex()


def _int64(value: Any, at: str) -> int:
    if isinstance(value, bool):
        raise _SpanError(at, "must be an integer")
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise _SpanError(at, f"{value[:40]!r} is not an integer") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise _SpanError(at, "must be an integer")
    if not INT64[0] <= value <= INT64[1]:
        raise _SpanError(at, "does not fit in 64 bits")
    return value


def _double(value: Any, at: str) -> float | str:
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _SpanError(at, "must be a number")
    return _finite(float(value))


def _finite(value: float) -> float | str:
    """Keep non-finite doubles as their JSON mapping's names: stored properties are strict JSON."""
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _base64(value: Any, at: str) -> bytes:
    if not isinstance(value, str):
        raise _SpanError(at, "must be base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _SpanError(at, "is not base64") from None


def _enum(value: Any, names: dict[str, int], at: str) -> int:
    if isinstance(value, str):
        number = names.get(value) or names.get(value.upper()) or names.get(_prefixed(value, names))
        if number is None and value.isdigit():
            number = int(value)
        if number is None:
            raise _SpanError(at, f"{value!r} is not one of {', '.join(names)}")
        return number
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
        raise _SpanError(at, "must be an enum number or name")
    return value


def _prefixed(value: str, names: dict[str, int]) -> str:
    """Return ``SERVER`` as ``SPAN_KIND_SERVER`` (the short names some tools write)."""
    prefix = next(iter(names)).rsplit("_", 1)[0].removesuffix("_UNSPECIFIED").removesuffix("_UNSET") + "_"
    return prefix + value.upper()


def _get(doc: Json, camel: str, snake: str) -> Any:
    value = doc.get(camel)
    return doc.get(snake) if value is None else value


def _object(value: Any, at: str) -> Json:
    if not isinstance(value, dict):
        msg = f"{at}: must be an object"
        raise InvalidInput(msg, field=at)
    return value


def _array(value: Any, at: str) -> list[Any]:
    if not isinstance(value, list):
        msg = f"{at}: must be an array"
        raise InvalidInput(msg, field=at)
    return value


def _span_array(value: Any, at: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _SpanError(at, "must be an array")
    return value


def _text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return str(value)


# -- back to OTLP/JSON ----------------------------------------------------------------------------


def span_document(span: Span, encoded: dict[int, Any] | None = None) -> Json:
    """Return one span as a canonical OTLP/JSON request (``encoded`` caches shared resources)."""
    cache = {} if encoded is None else encoded
    resource = cache.get(id(span.resource))
    if resource is None:
        resource = cache[id(span.resource)] = encode_attributes(span.resource)
    body: Json = {
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "name": span.name,
        "kind": span.kind,
        "startTimeUnixNano": str(span.start_ns),
        "endTimeUnixNano": str(span.end_ns),
        "attributes": encode_attributes(span.attributes),
    }
    if span.parent_id:
        body["parentSpanId"] = span.parent_id
    if span.status_code or span.status_message:
        body["status"] = {"code": span.status_code, "message": span.status_message}
    if span.events:
        body["events"] = [
            {"name": e.name, "timeUnixNano": str(e.time_ns), "attributes": encode_attributes(e.attributes)}
            for e in span.events
        ]
    if span.links:
        body["links"] = [
            {"traceId": k.trace_id, "spanId": k.span_id, "attributes": encode_attributes(k.attributes)}
            for k in span.links
        ]
    scope: Json = {"name": span.scope.name, "version": span.scope.version}
    if span.scope.attributes:
        scope["attributes"] = encode_attributes(span.scope.attributes)
    return {
        "resourceSpans": [{"resource": {"attributes": resource}, "scopeSpans": [{"scope": scope, "spans": [body]}]}]
    }


def encode_attributes(attributes: Attributes) -> list[Json]:
    """Return attributes as OTLP/JSON key-value pairs."""
    return [{"key": k, "value": encode_value(v)} for k, v in attributes.items()]


def encode_value(value: Any) -> Json:
    """Return a value as an OTLP/JSON AnyValue."""
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": _finite(value)}  # NaN and infinities as the JSON mapping names them
    if isinstance(value, bytes):
        return {"bytesValue": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return {"arrayValue": {"values": [encode_value(v) for v in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": encode_attributes(value)}}
    return {}
