"""Why two nodes are connected: the path, upstream end first, each hop with its evidence."""

from __future__ import annotations

import strawberry

from api.graphql.edges import Edge
from api.graphql.node import Node, as_node
from graph.results import PathResult


@strawberry.type(description="A shortest lineage path, from upstream to downstream.")
class Path:
    nodes: list[Node]
    edges: list[Edge]

    @classmethod
    def from_result(cls, result: PathResult) -> Path:
        """Return the GraphQL view of a path."""
        return cls(nodes=[as_node(n) for n in result.nodes], edges=[Edge.from_lineage(e) for e in result.edges])
