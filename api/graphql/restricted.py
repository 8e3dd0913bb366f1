"""Restricted: a node outside the caller's namespaces, shown by kind only (see api/restrict.py)."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from api.graphql.node import Node, other_type
from graph.records import NodeRecord
from graph.timestamps import from_epoch


@other_type
@strawberry.type(
    description="A node the caller's token may not see: its kind and its place in the result, under an opaque id; "
    "namespace and name are empty, properties and evidence too."
)
class Restricted(Node):
    @classmethod
    def of(cls, record: NodeRecord) -> Restricted:
        """Return the GraphQL view of a placeholder record."""
        return cls(
            id=strawberry.ID(record.urn),
            kind=record.key.kind.value,
            namespace="",
            name="",
            version=None,
            properties=cast(JSON, {}),
            first_seen=from_epoch(0.0),
            last_seen=from_epoch(0.0),
            record=record,
        )
