"""Expected failures, returned as typed results instead of stack traces."""

from __future__ import annotations

import strawberry


@strawberry.type(description="No node has this id.")
class NotFound:
    id: strawberry.ID
    message: str


@strawberry.type(description="The id or an argument is malformed; `field` names which.")
class InvalidArgument:
    field: str | None
    message: str
