"""Nodes reached over structural edges (versions, runs, columns, parents), through the loaders."""

from __future__ import annotations

from collections.abc import Collection

from strawberry.types import Info

from api.graphql.context import LineageContext
from api.graphql.node import Node, load_nodes
from graph.edges import EdgeType
from graph.keys import Kind, parse_key
from graph.records import EdgeRecord

#: the most related nodes one field returns
MAX_RELATED = 1000


async def edges(
    info: Info[LineageContext, None],
    urn: str,
    types: Collection[EdgeType],
    *,
    incoming: bool,
    newest: int | None = None,
) -> list[EdgeRecord]:
    """Return the edges of these types into (incoming) or out of a node (only the ``newest`` if given)."""
    return await info.context.loaders.edges(types, incoming=incoming, newest=newest).load(urn)


async def related(
    info: Info[LineageContext, None],
    urn: str,
    edge_type: EdgeType,
    *,
    incoming: bool,
    kinds: Collection[Kind] | None = None,
    first: int | None = None,
    newest_first: bool = False,
) -> list[Node]:
    """Return the nodes at the other end of a node's edges of one type, of these kinds."""
    limit = MAX_RELATED if first is None else max(min(first, MAX_RELATED), 0)
    # Newest-first pages without a kind filter are cut by the store (a job's runs can be millions).
    cut = limit if newest_first and kinds is None else None
    found = await edges(info, urn, [edge_type], incoming=incoming, newest=cut)
    ends = [((e.src if incoming else e.dst), e.first_seen) for e in found]
    if kinds is not None:
        ends = [(u, t) for u, t in ends if parse_key(u).kind in kinds]
    ends.sort(key=(lambda p: (-p[1], p[0])) if newest_first else (lambda p: p[0]))
    return await load_nodes(info, list(dict.fromkeys(u for u, _ in ends))[:limit])


async def one(info: Info[LineageContext, None], urn: str, edge_type: EdgeType, kind: Kind) -> Node | None:
    """Return the node a node points at over an edge type (its job, entity, parent), if any."""
    found = await related(info, urn, edge_type, incoming=False, kinds={kind}, newest_first=True, first=1)
    return found[0] if found else None
