"""The Edge type: a relation between two nodes, when it was seen and held, the evidence behind it."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.aliases import intervals
from api.graphql.context import LineageContext
from api.graphql.evidence import Evidence, evidence_ids, load_evidence
from api.graphql.node import MAX_EVIDENCE
from graph.records import EdgeRecord
from graph.results import LineageEdge
from graph.timestamps import from_epoch


@strawberry.type(description="An edge between two nodes, with the evidence behind it.")
class Edge:
    source: strawberry.ID
    target: strawberry.ID
    type: str
    qualifier: str
    properties: JSON
    first_seen: datetime
    last_seen: datetime
    valid_from: datetime | None = strawberry.field(description="For edges with a validity (aliases): when it began.")
    valid_to: datetime | None = strawberry.field(description="When that validity ended; null while it holds.")
    evidence_count: int
    evidence_ids: list[str]
    resolution: str | None = strawberry.field(description="How an end was resolved to a version, if it was.")
    record: strawberry.Private[EdgeRecord]

    @strawberry.field(description="The raw journal records behind the edge: the earliest and the latest.")
    async def evidence(self, info: Info[LineageContext, None], first: int | None = 10) -> list[Evidence]:
        return await load_evidence(
            info.context.loaders, self.evidence_ids, min(10 if first is None else first, MAX_EVIDENCE)
        )

    @classmethod
    def from_lineage(cls, edge: LineageEdge) -> Edge:
        """Return the GraphQL view of a traversed edge (its ends as the traversal returned them)."""
        return cls.from_record(edge.record, edge.src, edge.dst, edge.via.note if edge.via else None)

    @classmethod
    def from_record(cls, record: EdgeRecord, src: str, dst: str, resolution: str | None = None) -> Edge:
        """Return the GraphQL view of a stored edge."""
        spans = intervals(record) if record.markers else []
        last = spans[-1] if spans else None
        return cls(
            source=strawberry.ID(src),
            target=strawberry.ID(dst),
            type=record.type.value,
            qualifier=record.qualifier,
            properties=cast(JSON, record.properties),
            first_seen=from_epoch(record.first_seen),
            last_seen=from_epoch(record.last_seen),
            valid_from=from_epoch(last[0]) if last else None,
            valid_to=from_epoch(last[1]) if last and last[1] is not None else None,
            evidence_count=record.evidence.count,
            evidence_ids=evidence_ids(record.evidence),
            resolution=resolution,
            record=record,
        )
