"""Run lineage and path queries for the schema: arguments checked, failures typed, deadline kept."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import datetime

import strawberry

from api.graphql.context import LineageContext
from api.graphql.errors import DeadlineExceeded, InvalidArgument, NoPath, NotFound, invalid
from api.graphql.lineage import LISTING, Direction, Lineage
from api.graphql.paging import DEFAULT_PAGE, offset_after, page_size
from api.graphql.paths import Path
from graph.errors import InvalidInput, NodeNotFound, QueryDeadlineExceeded
from graph.keys import Kind, parse_key
from graph.query import Direction as QueryDirection
from graph.query import LineageQuery, TimeWindow
from graph.timestamps import to_epoch


def window(as_of: datetime | None, since: datetime | None, until: datetime | None) -> TimeWindow:
    """Return the time window of a query's arguments."""
    return TimeWindow(as_of=_epoch(as_of, "asOf"), since=_epoch(since, "since"), until=_epoch(until, "until"))


def kind_set(kinds: Collection[str] | None) -> frozenset[Kind] | None:
    """Parse the ``kinds`` argument."""
    return frozenset(Kind.parse(k, field="kinds") for k in kinds) if kinds else None


async def lineage(
    context: LineageContext,
    id: strawberry.ID,
    direction: Direction,
    max_hops: int | None,
    default_hops: int,
    kinds: list[str] | None,
    span: tuple[datetime | None, datetime | None, datetime | None],
    first: int | None,
    after: str | None,
) -> Lineage | NotFound | InvalidArgument | DeadlineExceeded:
    """Answer one page of a lineage query."""
    try:
        offset = offset_after(LISTING, after)
        query = LineageQuery(
            start=parse_key(str(id)),
            direction=QueryDirection(direction.value),
            max_hops=default_hops if max_hops is None else max_hops,
            kinds=kind_set(kinds),
            window=window(*span),
            limit=page_size(DEFAULT_PAGE if first is None else first),
            offset=offset,
            deadline=context.time_left(),
        )
        result = await context.store.lineage(query)
    except NodeNotFound as e:
        return NotFound(id=id, message=str(e))
    except InvalidInput as e:
        return invalid(e.field, str(e))
    except QueryDeadlineExceeded as e:
        partial = Lineage.from_result(e.partial, offset) if e.partial is not None else None
        return DeadlineExceeded(message=str(e), partial=partial)
    return Lineage.from_result(result, offset)


async def path(
    context: LineageContext,
    source: strawberry.ID,
    target: strawberry.ID,
    span: tuple[datetime | None, datetime | None, datetime | None],
) -> Path | NoPath | NotFound | InvalidArgument | DeadlineExceeded:
    """Explain how two nodes are connected."""
    try:
        a, b = parse_key(str(source)), parse_key(str(target))
        hops = context.settings.audit_max_hops
        async with asyncio.timeout(context.time_left()):
            found = await context.store.path(a, b, window(*span), hops)
    except NodeNotFound as e:
        return NotFound(id=strawberry.ID(e.urn), message=str(e))
    except InvalidInput as e:
        return invalid(e.field, str(e))
    except (QueryDeadlineExceeded, TimeoutError):
        seconds = context.settings.query_deadline_seconds
        return DeadlineExceeded(message=f"path exceeded the request deadline of {seconds:.3f}s")
    if found is None:
        return NoPath(message=f"no lineage path within {hops} hops between {a.urn} and {b.urn}, either way")
    return Path.from_result(found)


def _epoch(value: datetime | None, field: str) -> float | None:
    return None if value is None else to_epoch(value, field=field)
