"""Trace bodies (OTLP protobuf or JSON, MLflow exports) into the journal, one span a record.

Shared by ``POST /v1/traces`` and ``lineage ingest traces``: decode the body, fingerprint LLM
text and redact secrets (ingest/privacy.py) *before* anything is journaled, write each span
as canonical OTLP/JSON through the one intake, and dead-letter (redacted) what cannot be read.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field

import orjson

from graph.errors import InvalidInput
from graph.store import LineageStore
from ingest import otlp, privacy, traces
from ingest.intake import intake

SOURCE = traces.SOURCE


@dataclass(slots=True)
class TraceReport:
    """What became of the spans of one body."""

    accepted: int = 0
    duplicate: int = 0
    rejected: list[str] = field(default_factory=list)  # one reason (JSON pointer first) per refused span

    @property
    def received(self) -> int:
        """Return how many spans the body held."""
        return self.accepted + self.duplicate + len(self.rejected)


def decode(body: bytes, protobuf: bool) -> otlp.Decoded:
    """Decode a body as OTLP protobuf, or as JSON (OTLP/JSON or an MLflow trace export)."""
    if protobuf:
        return otlp.decode_protobuf(body)
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        msg = f"/: not JSON: {e}"
        raise InvalidInput(msg, field="/") from e
    return traces.decode_document(doc)


async def refuse(
    store: LineageStore, body: bytes, protobuf: bool, reason: str, received_at: float | None = None
) -> None:
    """Keep a body that could not be read in the dead-letter table, secrets redacted."""
    if protobuf:
        kept = "protobuf, base64: " + base64.b64encode(privacy.redact_bytes(body)).decode()
    else:
        kept = privacy.redact(body.decode("utf-8", "replace"))
    await store.reject(SOURCE, kept, privacy.redact(reason), time.time() if received_at is None else received_at)


async def intake_spans(
    store: LineageStore, decoded: otlp.Decoded, keep_text: bool, received_at: float | None = None
) -> TraceReport:
    """Scrub, journal and apply the readable spans; dead-letter the refused ones."""
    now = time.time() if received_at is None else received_at
    privacy.scrub_spans(decoded.spans, keep_text)
    encoded: dict[int, object] = {}
    raws = [orjson.dumps(otlp.span_document(span, encoded)).decode() for span in decoded.spans]
    report = TraceReport()
    for problem in decoded.problems:
        reason = privacy.redact(str(problem))
        await store.reject(SOURCE, privacy.redact(problem.raw), reason, now)
        report.rejected.append(reason)
    if raws:
        outcome = await intake(store, SOURCE, raws, now)
        report.accepted += outcome.count("accepted")
        report.duplicate += outcome.count("duplicate")
        report.rejected.extend(f"{decoded.spans[o.index].at}: {o.reason}" for o in outcome.rejected)
    return report
