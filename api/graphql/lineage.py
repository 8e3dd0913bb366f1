"""Lineage results in GraphQL: nodes with distances, the edges among them, totals, the page."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.graphql.edges import Edge
from api.graphql.node import Node, as_node
from api.graphql.paging import PageInfo, page_info
from graph.query import Direction as QueryDirection
from graph.results import LineageResult

LISTING = "lineage"


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


@strawberry.type(description="How many nodes of one kind the whole traversal reached.")
class KindCount:
    kind: str
    count: int


@strawberry.type(description="One page of a lineage traversal; counts are over everything it reached.")
class Lineage:
    start: strawberry.ID
    total: int = strawberry.field(description="Nodes reached (of the asked kinds), the start included.")
    is_partial: bool = strawberry.field(description="More pages follow, or the deadline cut the walk.")
    counts_by_kind: list[KindCount] = strawberry.field(description="Over the whole reach, the start excluded.")
    nodes: list[LineageNode]
    edges: list[Edge] = strawberry.field(description="The edges between a node of this page and a returned node.")
    page_info: PageInfo

    @classmethod
    def from_result(cls, result: LineageResult, offset: int) -> Lineage:
        """Return the GraphQL view of one page of a lineage result, which starts at ``offset``."""
        return cls(
            start=strawberry.ID(result.start),
            total=result.total,
            is_partial=result.is_partial,
            counts_by_kind=[KindCount(kind=k, count=c) for k, c in result.counts_by_kind.items()],
            nodes=[
                LineageNode(
                    node=as_node(n.record),
                    distance=n.distance,
                    resolution=n.resolution.note if n.resolution else None,
                )
                for n in result.nodes
            ],
            edges=[Edge.from_lineage(e) for e in result.edges],
            page_info=page_info(LISTING, offset, len(result.nodes), result.total),
        )
