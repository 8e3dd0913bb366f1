"""Lineage results in GraphQL: nodes with distances, the edges among them, totals."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import cast

import strawberry
from strawberry.scalars import JSON

from api.graphql.node import Node
from graph.query import Direction as QueryDirection
from graph.results import LineageEdge, LineageResult
from graph.timestamps import from_epoch


@strawberry.enum(description="Which way to walk from the start node.")
class Direction(Enum):
    UPSTREAM = QueryDirection.UPSTREAM.value
    DOWNSTREAM = QueryDirection.DOWNSTREAM.value
    BOTH = QueryDirection.BOTH.value


@strawberry.type(description="A node reached by the traversal.")
class LineageNode:
    node: Node
    distance: int
    resolution: str | None = strawberry.field(description="How a version was chosen for an entity, if it was.")


@strawberry.type(description="An edge between two returned nodes, with the evidence behind it.")
class Edge:
    source: strawberry.ID
    target: strawberry.ID
    type: str
    qualifier: str
    properties: JSON
    first_seen: datetime
    last_seen: datetime
    evidence_count: int
    evidence_ids: list[str]
    resolution: str | None

    @classmethod
    def from_lineage(cls, edge: LineageEdge) -> Edge:
        """Return the GraphQL view of a traversed edge."""
        record = edge.record
        ev = record.evidence
        return cls(
            source=strawberry.ID(edge.src),
            target=strawberry.ID(edge.dst),
            type=record.type.value,
            qualifier=record.qualifier,
            properties=cast(JSON, record.properties),
            first_seen=from_epoch(record.first_seen),
            last_seen=from_epoch(record.last_seen),
            evidence_count=ev.count,
            evidence_ids=sorted({ev.first_id, ev.last_id}),
            resolution=edge.via.note if edge.via else None,
        )


@strawberry.type(description="A count of returned nodes of one kind.")
class KindCount:
    kind: str
    count: int


@strawberry.type(description="One page of a lineage traversal.")
class Lineage:
    start: strawberry.ID
    nodes: list[LineageNode]
    edges: list[Edge]
    total: int
    is_partial: bool
    counts_by_kind: list[KindCount]

    @classmethod
    def from_result(cls, result: LineageResult) -> Lineage:
        """Return the GraphQL view of a lineage result."""
        return cls(
            start=strawberry.ID(result.start),
            nodes=[
                LineageNode(
                    node=Node.from_record(n.record),
                    distance=n.distance,
                    resolution=n.resolution.note if n.resolution else None,
                )
                for n in result.nodes
            ],
            edges=[Edge.from_lineage(e) for e in result.edges],
            total=result.total,
            is_partial=result.is_partial,
            counts_by_kind=[KindCount(kind=k, count=c) for k, c in result.counts_by_kind.items()],
        )
