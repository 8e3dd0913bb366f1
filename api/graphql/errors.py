"""Expected failures, returned as typed results instead of stack traces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

if TYPE_CHECKING:
    from api.graphql.lineage import Lineage


@strawberry.type(description="No node has this id.")
class NotFound:
    id: strawberry.ID
    message: str


@strawberry.type(description="The id or an argument is malformed; `field` names which.")
class InvalidArgument:
    field: str
    message: str


@strawberry.type(description="The two nodes are not connected by lineage (within the hop limit and time window).")
class NoPath:
    message: str


@strawberry.type(description="The request's deadline cut the query; `partial` holds what was found until then.")
class DeadlineExceeded:
    message: str
    partial: Annotated[Lineage, strawberry.lazy("api.graphql.lineage")] | None = None


def invalid(field: str | None, message: str) -> InvalidArgument:
    """Return an InvalidArgument, naming the field the message starts with when none is given."""
    return InvalidArgument(field=field or message.split(":", 1)[0], message=message)
