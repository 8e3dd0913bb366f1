"""What one GraphQL request may ask: depth, aliases and size, checked before it runs."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from graphql import FieldNode, GraphQLError, ValidationContext, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from api.graphql.cost import CostLimit

#: deep enough for lineage { nodes { node { ... on Run { job { runs { evidence { raw } } } } } } }
MAX_DEPTH = 10
#: aliases let one request repeat an expensive field; a person asks a handful at a time
MAX_ALIASES = 15
#: the largest query text, in GraphQL tokens (GraphiQL's introspection query is ~250)
MAX_TOKENS = 2000
#: parsed and validated documents kept: clients send the same few queries with other variables
CACHED_DOCUMENTS = 256


#: traversals (lineage, traceBack, impact, path, search) one request may ask for
MAX_TRAVERSALS = 4
_TRAVERSALS = frozenset({"lineage", "traceBack", "impact", "path", "search"})


class TraversalLimit(ValidationRule):
    """Refuse a request asking for more than MAX_TRAVERSALS traversals: each may walk the whole graph."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.count = 0

    def enter_field(self, node: FieldNode, *_: object) -> None:
        """Count a traversal field of Query; report once past the limit."""
        parent = self.context.get_parent_type()
        if parent is not None and parent.name == "Query" and node.name.value in _TRAVERSALS:
            self.count += 1
            if self.count == MAX_TRAVERSALS + 1:
                msg = (
                    f"{self.count} traversals asked; at most {MAX_TRAVERSALS} "
                    "(lineage, traceBack, impact, path, search) per request"
                )
                self.report_error(GraphQLError(msg, node))


# The limiters' rules are built once: the validation cache is keyed by the rule classes, and a
# limiter made per request would make new classes (and miss the cache) every time.
_RULES = [
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    TraversalLimit,
]


def limits() -> list[Callable[[], SchemaExtension]]:
    """Return factories of the extensions every request passes (fresh ones per request)."""
    return [
        partial(AddValidationRules, _RULES),
        CostLimit,
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        # Validation costs more than executing a page: a known document skips parse and validate.
        partial(ParserCache, maxsize=CACHED_DOCUMENTS),
        partial(ValidationCache, maxsize=CACHED_DOCUMENTS),
    ]
