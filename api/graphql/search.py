"""Search results as a Relay connection."""

from __future__ import annotations

import strawberry

from api.graphql.node import Node, as_node
from api.graphql.paging import PageInfo, cursor, page_info
from graph.results import SearchResult

LISTING = "search"


@strawberry.type(description="A search hit and its cursor.")
class SearchEdge:
    cursor: str
    node: Node


@strawberry.type(description="Nodes whose name or namespace matched, best first.")
class SearchConnection:
    edges: list[SearchEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_result(cls, result: SearchResult, offset: int) -> SearchConnection:
        """Return one page of search hits, which starts at ``offset``."""
        return cls(
            edges=[
                SearchEdge(cursor=cursor(LISTING, offset + i), node=as_node(record))
                for i, record in enumerate(result.nodes)
            ],
            page_info=page_info(LISTING, offset, len(result.nodes), result.total),
            total_count=result.total,
        )
