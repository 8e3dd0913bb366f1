"""What a request would cost, estimated before it runs: nested pages multiply.

A lineage page of 1,000 nodes asking each node's 1,000 runs, and each run's job's runs, is a
billion nodes in a query of a few lines: depth and token limits do not see it. The estimate
counts every field once per item it would be resolved for, taking each page's size from its
`first` argument (its variable, or the field's default, or its cap when unknown).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension

from api.graphql.node import MAX_EVIDENCE
from api.graphql.paging import DEFAULT_PAGE, MAX_PAGE
from api.graphql.related import MAX_RELATED
from api.graphql.runs import DEFAULT_RUNS

#: the most field resolutions a request may need (a page of 1,000 nodes with their evidence fits)
MAX_COST = 100_000
#: paged fields of Query: (size when `first` is not given, the largest size `first` may ask)
ROOT_PAGES: dict[str, tuple[int, int]] = {
    "lineage": (DEFAULT_PAGE, MAX_PAGE),
    "traceBack": (DEFAULT_PAGE, MAX_PAGE),
    "impact": (DEFAULT_PAGE, MAX_PAGE),
    "search": (20, MAX_PAGE),
    "nodes": (MAX_PAGE, MAX_PAGE),  # sized by its ids
}
#: paged fields of node types, the same way
PAGES: dict[str, tuple[int, int]] = {
    "runs": (DEFAULT_RUNS, MAX_RELATED),
    "versions": (MAX_RELATED, MAX_RELATED),
    "documents": (100, MAX_RELATED),
    "evidence": (10, MAX_EVIDENCE),
}


class CostLimit(SchemaExtension):
    """Refuse a request whose estimated cost is over MAX_COST, before any resolver runs."""

    def on_execute(self) -> Iterator[None]:
        """Estimate the operation's cost; answer an error instead of executing when it is too dear."""
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            chosen = [o for o in operations if context.operation_name in (None, o.name.value if o.name else None)]
            estimate = Estimate(fragments, context.variables or {})
            cost = max((estimate.selections(o.selection_set, 1, root=True) for o in chosen[:1]), default=0)
            if cost > MAX_COST:
                msg = (
                    f"the query would resolve ~{cost:,} fields, over the limit of {MAX_COST:,}; "
                    "ask smaller pages (first) or fewer nested lists"
                )
                context.result = ExecutionResult(data=None, errors=[GraphQLError(msg)])
        yield


class Estimate:
    """Estimate the field resolutions of selections, given the request's fragments and variables."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode], variables: Mapping[str, Any]) -> None:
        self.fragments = fragments
        self.variables = variables

    def selections(self, selection_set: SelectionSetNode | None, times: int, *, root: bool = False) -> int:
        """Return the cost of a selection set resolved ``times`` times (``root``: the Query's)."""
        if selection_set is None:
            return 0
        cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                size = self.size(selection, ROOT_PAGES if root else PAGES)
                cost += times + self.selections(selection.selection_set, times * size)
            elif isinstance(selection, InlineFragmentNode):
                cost += self.selections(selection.selection_set, times, root=root)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in self.fragments:
                cost += self.selections(self.fragments[selection.name.value].selection_set, times, root=root)
        return cost

    def size(self, field: FieldNode, pages: Mapping[str, tuple[int, int]]) -> int:
        """Return how many items a field resolves to per parent (1 unless it is a page)."""
        page = pages.get(field.name.value)
        if page is None:
            return 1
        default, cap = page
        arguments = {a.name.value: a.value for a in field.arguments or ()}
        if field.name.value == "nodes":
            ids = self.value(arguments.get("ids"))
            return len(ids) if isinstance(ids, list) else cap
        if "first" not in arguments:
            return default
        first = self.value(arguments["first"])
        if first is None:  # null, or a variable not sent: the default applies
            return default
        return max(min(first, cap), 0) if isinstance(first, int) else cap

    def value(self, node: ValueNode | None) -> Any:
        """Return the value of an argument: a literal, or a variable's value."""
        if isinstance(node, VariableNode):
            return self.variables.get(node.name.value)
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, ListValueNode):
            return list(node.values)
        return None
