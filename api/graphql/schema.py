"""The GraphQL schema: queries resolve through the store; expected failures are union members."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Union

import strawberry
from strawberry.types import Info

from api.graphql import datasets, features, models, prompts, restricted, runs, traversals
from api.graphql.audit import AUDIT_TRAIL, AuditResult
from api.graphql.context import LineageContext
from api.graphql.errors import DeadlineExceeded, InvalidArgument, NoPath, NotFound, invalid
from api.graphql.limits import limits
from api.graphql.lineage import Direction, Lineage
from api.graphql.node import Node, as_node, load_nodes, node_types
from api.graphql.paging import offset_after, page_size
from api.graphql.paths import Path
from api.graphql.search import LISTING as SEARCH
from api.graphql.search import SearchConnection
from graph.errors import InvalidInput
from graph.keys import parse_key

_KIND_MODULES = (datasets, features, models, prompts, runs, restricted)  # importing them registers every type
# A union holds object types only: every kind's type stands for Node (a client spreads `... on Node`).
if TYPE_CHECKING:
    NodeResult = Node | NotFound | InvalidArgument
else:
    NodeResult = Annotated[
        Union[(*node_types(), NotFound, InvalidArgument)],
        strawberry.union("NodeResult", description="A node of any kind, or why there is none."),
    ]
LineageResult = Annotated[Lineage | NotFound | InvalidArgument | DeadlineExceeded, strawberry.union("LineageResult")]
PathResult = Annotated[Path | NoPath | NotFound | InvalidArgument | DeadlineExceeded, strawberry.union("PathResult")]


@strawberry.type
class Query:
    audit_trail: AuditResult = AUDIT_TRAIL

    @strawberry.field(description="One node by its id (a URN, or a Marquez-style id).")
    async def node(self, info: Info[LineageContext, None], id: strawberry.ID) -> NodeResult:
        try:
            key = parse_key(str(id))
        except InvalidInput as e:
            return invalid(e.field, str(e))
        record = await info.context.loaders.nodes.load(key.urn)
        if record is None:
            return NotFound(id=id, message=f"id: no node {key.urn}")
        return as_node(record)

    @strawberry.field(
        description="The nodes with these ids that exist, in the order asked (ids that are not valid ids are skipped)."
    )
    async def nodes(self, info: Info[LineageContext, None], ids: list[strawberry.ID]) -> list[Node]:
        page_size(len(ids))
        urns = []
        for text in ids:
            try:
                urns.append(parse_key(str(text)).urn)
            except InvalidInput:
                continue
        return await load_nodes(info, list(dict.fromkeys(urns)))

    @strawberry.field(description="Find nodes by name or namespace, best match first (a Relay connection).")
    async def search(
        self,
        info: Info[LineageContext, None],
        text: str,
        kinds: list[str] | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> SearchConnection:
        offset = offset_after(SEARCH, after)
        found = await info.context.store.search(
            text, traversals.kind_set(kinds), page_size(20 if first is None else first), offset
        )
        return SearchConnection.from_result(found, offset)

    @strawberry.field(
        description="Walk the graph from a node, breadth-first over flow edges; one page of what it reaches."
    )
    async def lineage(
        self,
        info: Info[LineageContext, None],
        id: strawberry.ID,
        direction: Direction | None = Direction.UPSTREAM,
        max_hops: int | None = None,
        kinds: list[str] | None = None,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> LineageResult:
        hops = info.context.settings.interactive_max_hops
        span = (as_of, since, until)
        return await traversals.lineage(
            info.context, id, direction or Direction.UPSTREAM, max_hops, hops, kinds, span, first, after
        )

    @strawberry.field(description="Where a node came from: upstream, at run/version level when it starts at a version.")
    async def trace_back(
        self,
        info: Info[LineageContext, None],
        id: strawberry.ID,
        max_hops: int | None = None,
        kinds: list[str] | None = None,
        as_of: datetime | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> LineageResult:
        hops = info.context.settings.audit_max_hops
        span = (as_of, None, None)
        return await traversals.lineage(info.context, id, Direction.UPSTREAM, max_hops, hops, kinds, span, first, after)

    @strawberry.field(description="What a node feeds: downstream, with counts by kind; `kinds` pages one kind.")
    async def impact(
        self,
        info: Info[LineageContext, None],
        id: strawberry.ID,
        max_hops: int | None = None,
        kinds: list[str] | None = None,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> LineageResult:
        hops = info.context.settings.audit_max_hops
        span = (as_of, since, until)
        return await traversals.lineage(
            info.context, id, Direction.DOWNSTREAM, max_hops, hops, kinds, span, first, after
        )

    @strawberry.field(description="Why two nodes are connected: a shortest path, upstream end first, with evidence.")
    async def path(
        self,
        info: Info[LineageContext, None],
        from_: Annotated[strawberry.ID, strawberry.argument(name="from")],
        to: strawberry.ID,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> PathResult:
        return await traversals.path(info.context, from_, to, (as_of, since, until))


schema = strawberry.Schema(query=Query, types=node_types(), extensions=limits())
