"""The GraphQL endpoint, refusing bodies that are JSON but not a request object with 400.

Strawberry reads any JSON body and then calls ``.get`` on it, so ``null``, ``1`` or ``"x"`` were
a 500 (found by tests/test_fuzz_http.py). Kept beside the graphql branch's router until it
folds this in.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException  # what strawberry raises and answers as a status

from api.graphql.router import DeadlineRouter


class CheckedRouter(DeadlineRouter):
    """DeadlineRouter that answers 400 to a JSON body that is neither an object nor a batch."""

    def decode_json(self, data: str | bytes) -> object:
        """Parse the body; refuse scalars and null."""
        value: Any = super().decode_json(data)
        if not isinstance(value, dict | list):
            msg = "body: a GraphQL request is a JSON object with a query"
            raise HTTPException(400, msg)
        return value
