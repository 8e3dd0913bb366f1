"""The GraphQL Node type: one node of the graph, by its URN."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from graph.records import NodeRecord
from graph.timestamps import from_epoch


@strawberry.type(description="A node of the lineage graph. `id` is its URN.")
class Node:
    id: strawberry.ID
    kind: str
    namespace: str
    name: str
    version: str | None
    properties: JSON
    first_seen: datetime
    last_seen: datetime

    @classmethod
    def from_record(cls, record: NodeRecord) -> Node:
        """Return the GraphQL view of a stored node."""
        key = record.key
        return cls(
            id=strawberry.ID(record.urn),
            kind=key.kind.value,
            namespace=key.namespace,
            name=key.name,
            version=key.version,
            properties=cast(JSON, record.properties),
            first_seen=from_epoch(record.first_seen),
            last_seen=from_epoch(record.last_seen),
        )
