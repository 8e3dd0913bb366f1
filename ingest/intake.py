"""Intake: turn raw inputs of any source into journaled graph changes, or into dead letters.

Every ingestor registers a pure ``raw text -> GraphDelta`` function here by source name; the
HTTP endpoints, the CLI backfill and ``lineage replay`` all go through this one table, so a
replay projects the journal exactly as the first ingest did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson

from graph.delta import GraphDelta
from graph.errors import InvalidInput
from graph.journal import JournalEntry, JournalRecord
from graph.records import canonical
from graph.store import Ingested, LineageStore
from ingest import feast, mlflow, native, openlineage, traces

Transform = Callable[[str], GraphDelta]

SOURCES: dict[str, Transform] = {
    native.SOURCE: native.to_delta,
    openlineage.SOURCE: openlineage.to_delta,
    traces.SOURCE: traces.to_delta,
    mlflow.SOURCE: mlflow.to_delta,
    mlflow.DELIVERY_SOURCE: mlflow.marker_to_delta,
    feast.SOURCE: openlineage.to_delta,  # Feast's registry, read as the OpenLineage events Feast itself would emit
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one input."""

    index: int
    status: str  # "accepted", "duplicate" or "rejected"
    id: str | None = None
    reason: str | None = None


@dataclass(slots=True)
class IntakeReport:
    """The outcome of each input of a batch, and the totals."""

    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        """Return how many inputs ended with this status."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def rejected(self) -> list[Outcome]:
        """Return the rejected inputs."""
        return [o for o in self.outcomes if o.status == "rejected"]


def canonical_json(raw: str | bytes) -> str:
    """Return the canonical text of a JSON input, so the same event re-sent has the same id."""
    try:
        return canonical(orjson.loads(raw))
    except (orjson.JSONDecodeError, orjson.JSONEncodeError) as e:  # JSONEncodeError: an integer over 64 bits
        msg = f"/: not JSON: {e}"
        raise InvalidInput(msg, field="/") from e


def project(record: JournalRecord) -> GraphDelta | None:
    """Re-derive the graph changes of a journal record (for replay)."""
    transform = SOURCES.get(record.source)
    return None if transform is None else transform(record.raw)


async def intake_together(store: LineageStore, inputs: Sequence[tuple[str, str]], received_at: float) -> list[str]:
    """Journal inputs of several sources in one transaction, all or none; return their ids.

    Raises InvalidInput (nothing kept) when any one is not understood: the caller dead-letters it.
    """
    items = []
    for source, raw in inputs:
        text = canonical_json(raw)
        items.append(Ingested(JournalEntry(source, text, received_at), SOURCES[source](text)))
    await store.apply(items)
    return [item.entry.id for item in items]


async def intake(
    store: LineageStore, source: str, raws: Sequence[str], received_at: float | None = None
) -> IntakeReport:
    """Journal and apply every understood input in one transaction; dead-letter the rest."""
    transform = SOURCES[source]
    now = time.time() if received_at is None else received_at
    report = IntakeReport()
    accepted: list[tuple[int, Ingested]] = []
    for index, raw in enumerate(raws):
        try:
            text = canonical_json(raw)
            delta = transform(text)
        except InvalidInput as e:
            await store.reject(source, raw, str(e), now)
            report.outcomes.append(Outcome(index, "rejected", reason=str(e)))
            continue
        accepted.append((index, Ingested(JournalEntry(source, text, now), delta)))
    if accepted:
        fresh = await store.apply([item for _, item in accepted])
        for (index, item), is_new in zip(accepted, fresh, strict=True):
            status = "accepted" if is_new else "duplicate"
            report.outcomes.append(Outcome(index, status, id=item.entry.id))
    report.outcomes.sort(key=lambda o: o.index)
    return report
