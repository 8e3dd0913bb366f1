"""Evidence: the raw journal records behind a node or an edge."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import orjson
import strawberry
from strawberry.scalars import JSON

from api.graphql.loaders import Loaders
from graph.journal import JournalRecord
from graph.records import Evidence as EvidenceSummary
from graph.timestamps import from_epoch


@strawberry.type(description="A journaled input that asserted something, as it was received.")
class Evidence:
    id: strawberry.ID
    seq: int
    source: str
    received_at: datetime
    raw: JSON = strawberry.field(description="The input, parsed when it is JSON, else its text.")

    @classmethod
    def from_record(cls, record: JournalRecord) -> Evidence:
        """Return the GraphQL view of a journal record."""
        try:
            raw = orjson.loads(record.raw)
        except orjson.JSONDecodeError:
            raw = record.raw
        return cls(
            id=strawberry.ID(record.id),
            seq=record.seq,
            source=record.source,
            received_at=from_epoch(record.received_at),
            raw=cast(JSON, raw),
        )


def evidence_ids(summary: EvidenceSummary | None) -> list[str]:
    """Return the ids of the inputs a store keeps for something: the earliest and the latest."""
    if summary is None:
        return []
    return list(dict.fromkeys([summary.first_id, summary.last_id]))


async def load_evidence(loaders: Loaders, ids: list[str], first: int) -> list[Evidence]:
    """Return the evidence records with these ids (the first ``first`` of them), batched."""
    found = await loaders.events.load_many(ids[: max(first, 0)])
    return [Evidence.from_record(r) for r in found if isinstance(r, JournalRecord)]
