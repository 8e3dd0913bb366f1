"""The GraphQL endpoint with the request's deadline over the whole execution, resolvers included."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from cross_web import HTTPException  # what strawberry raises and answers as a status
from graphql import GraphQLError
from strawberry.fastapi import GraphQLRouter
from strawberry.types import ExecutionResult

from api.graphql.context import LineageContext

#: time a traversal cut by the deadline gets to return its partial answer before the request is cut
GRACE_SECONDS = 1.0


class DeadlineRouter(GraphQLRouter[LineageContext, None]):
    """A GraphQLRouter that stops a request at its deadline (a traversal stops first, with its partial answer)."""

    def decode_json(self, data: str | bytes) -> object:
        """Parse the body; refuse null and scalars with 400 (strawberry would call ``.get`` on them: a 500)."""
        value: Any = super().decode_json(data)
        if not isinstance(value, dict | list):
            msg = "body: a GraphQL request is a JSON object with a query"
            raise HTTPException(400, msg)
        return value

    def encode_json(self, data: object) -> bytes:
        """Encode a response with orjson (several times faster than json for a page of nodes)."""
        return orjson.dumps(data)

    async def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        """Execute within the deadline; past it, answer a GraphQL error instead of working on."""
        context: LineageContext = kwargs["context"]  # strawberry passes every argument by name
        seconds = context.settings.query_deadline_seconds
        try:
            async with asyncio.timeout(context.time_left() + GRACE_SECONDS):
                return await super().execute_operation(*args, **kwargs)
        except TimeoutError:
            msg = f"the request exceeded its deadline of {seconds:.3f}s; ask for less (fewer nodes, smaller pages)"
            return ExecutionResult(data=None, errors=[GraphQLError(msg)])
