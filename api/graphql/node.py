"""The Node interface every kind's type implements, and the registry that picks the type."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.context import LineageContext
from api.graphql.evidence import Evidence, evidence_ids, load_evidence
from api.restrict import is_placeholder
from graph.keys import Kind
from graph.records import NodeRecord
from graph.timestamps import from_epoch

#: the most evidence records one field returns
MAX_EVIDENCE = 100


@strawberry.interface(description="A node of the lineage graph. `id` is its URN; facets live under properties.facets.")
class Node:
    id: strawberry.ID
    kind: str
    namespace: str
    name: str
    version: str | None
    properties: JSON
    first_seen: datetime
    last_seen: datetime
    record: strawberry.Private[NodeRecord]

    @strawberry.field(description="The raw journal records behind the node: the earliest and the latest.")
    async def evidence(self, info: Info[LineageContext, None], first: int | None = 10) -> list[Evidence]:
        return await load_evidence(
            info.context.loaders, evidence_ids(self.record.evidence), min(10 if first is None else first, MAX_EVIDENCE)
        )


N = TypeVar("N", bound=type[Node])
_TYPES: dict[Kind, type[Node]] = {}
_OTHERS: list[type[Node]] = []  # Node types that stand for no kind (a restricted node)


def kind_type(kind: Kind) -> Callable[[N], N]:
    """Register a GraphQL type as the one for nodes of a kind."""

    def register(cls: N) -> N:
        _TYPES[kind] = cls
        return cls

    return register


def other_type(cls: N) -> N:
    """Register a Node type that stands for no kind, so `node` and the schema know it."""
    _OTHERS.append(cls)
    return cls


def node_types() -> list[type[Node]]:
    """Return every registered node type (the schema and the NodeResult union need them all)."""
    return [*_TYPES.values(), *_OTHERS]


def as_node(record: NodeRecord) -> Node:
    """Return the GraphQL view of a stored node, typed by its kind."""
    if is_placeholder(record.urn):
        from api.graphql.restricted import Restricted  # a Node subclass: imported here, not at the top

        return Restricted.of(record)
    key = record.key
    return _TYPES[key.kind](
        id=strawberry.ID(record.urn),
        kind=key.kind.value,
        namespace=key.namespace,
        name=key.name,
        version=key.version,
        properties=cast(JSON, record.properties),
        first_seen=from_epoch(record.first_seen),
        last_seen=from_epoch(record.last_seen),
        record=record,
    )


async def load_nodes(info: Info[LineageContext, None], urns: list[str]) -> list[Node]:
    """Return the nodes with these ids that exist, in order, through the request's loader."""
    found = await info.context.loaders.nodes.load_many(urns)
    return [as_node(r) for r in found if isinstance(r, NodeRecord)]
