"""What one GraphQL request may ask: depth, aliases and size, checked before it runs."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter, SchemaExtension

#: deep enough for lineage { nodes { node { ... on Run { job { runs { evidence { raw } } } } } } }
MAX_DEPTH = 10
#: aliases let one request repeat an expensive field; a person asks a handful at a time
MAX_ALIASES = 15
#: the largest query text, in GraphQL tokens (GraphiQL's introspection query is ~250)
MAX_TOKENS = 2000


def limits() -> list[Callable[[], SchemaExtension]]:
    """Return factories of the validation extensions every request passes (fresh ones per request)."""
    return [
        partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
    ]
