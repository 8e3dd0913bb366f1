"""The GraphQL schema: queries resolve through the store; expected failures are union members."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from api.graphql.context import LineageContext
from api.graphql.errors import InvalidArgument, NotFound
from api.graphql.lineage import Direction, Lineage
from api.graphql.node import Node
from graph.errors import InvalidInput, NodeNotFound
from graph.keys import Kind, parse_key
from graph.query import Direction as QueryDirection
from graph.query import LineageQuery, TimeWindow
from graph.timestamps import to_epoch

NodeResult = Annotated[Node | NotFound | InvalidArgument, strawberry.union("NodeResult")]
LineageResult = Annotated[Lineage | NotFound | InvalidArgument, strawberry.union("LineageResult")]


@strawberry.type
class Query:
    @strawberry.field(description="One node by its id (a URN, or a Marquez-style id).")
    async def node(self, info: Info[LineageContext, None], id: strawberry.ID) -> NodeResult:
        try:
            key = parse_key(str(id))
        except InvalidInput as e:
            return InvalidArgument(field="id", message=str(e))
        found = await info.context.store.get([key.urn])
        if key.urn not in found:
            return NotFound(id=id, message=f"no node {key.urn}")
        return Node.from_record(found[key.urn])

    @strawberry.field(description="Walk the graph from a node, breadth-first over flow edges.")
    async def lineage(
        self,
        info: Info[LineageContext, None],
        id: strawberry.ID,
        direction: Direction = Direction.UPSTREAM,
        max_hops: int | None = None,
        kinds: list[str] | None = None,
        as_of: datetime | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int = 100,
        offset: int = 0,
    ) -> LineageResult:
        settings = info.context.settings
        try:
            query = LineageQuery(
                start=parse_key(str(id)),
                direction=QueryDirection(direction.value),
                max_hops=settings.interactive_max_hops if max_hops is None else max_hops,
                kinds=frozenset(Kind.parse(k, field="kinds") for k in kinds) if kinds else None,
                window=TimeWindow(
                    as_of=_epoch(as_of, "asOf"), since=_epoch(since, "since"), until=_epoch(until, "until")
                ),
                limit=first,
                offset=offset,
                deadline=settings.query_deadline_seconds,
            )
            result = await info.context.store.lineage(query)
        except NodeNotFound as e:
            return NotFound(id=id, message=str(e))
        except InvalidInput as e:
            return InvalidArgument(field=e.field, message=str(e))
        return Lineage.from_result(result)


def _epoch(value: datetime | None, field: str) -> float | None:
    return None if value is None else to_epoch(value, field=field)


schema = strawberry.Schema(query=Query)
