"""Merge a batch of deltas into the records they touch: the one merge loop every store runs.

A store reads the existing records of what ``touched`` names, then ``merge_batch`` brings them
up to date (graph/records.py has the per-record rules); the store writes what comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from graph.delta import EdgeUpsert, NodeUpsert
from graph.keys import NodeKey
from graph.records import (
    EdgeRecord,
    NodeRecord,
    apply_close,
    edge_ident,
    merge_edge,
    merge_node,
    new_edge,
    new_node,
)
from graph.store import Ingested

EdgeIdent = tuple[str, str, str, str]


def touched(
    items: Sequence[Ingested], skip: Callable[[NodeUpsert], bool] = lambda _: False
) -> tuple[set[str], set[EdgeIdent]]:
    """Return the nodes and edges a batch touches (nodes whose upserts ``skip`` drops are left out)."""
    nodes = {u.key.urn for item in items for u in item.delta.nodes if not skip(u)}
    edges = {edge_ident(e.ref) for item in items for e in item.delta.edges}
    for item in items:
        for close in item.delta.closes:
            target = close.target
            if isinstance(target, NodeKey):
                nodes.add(target.urn)
            else:
                edges.add(edge_ident(target))
                nodes.update((target.src.urn, target.dst.urn))
    return nodes, edges


def merge_batch(
    items: Sequence[Ingested],
    nodes: dict[str, NodeRecord],
    edges: dict[EdgeIdent, EdgeRecord],
    skip: Callable[[NodeUpsert], bool] = lambda _: False,
) -> None:
    """Merge every item into ``nodes`` and ``edges`` (the records read for ``touched``), in place."""
    for item in items:
        rid = item.entry.id
        for nu in item.delta.nodes:
            node = nodes.get(nu.key.urn)
            if node is not None:
                merge_node(node, nu, rid)
            elif not skip(nu):
                nodes[nu.key.urn] = new_node(nu, rid)
        for eu in item.delta.edges:
            ident = edge_ident(eu.ref)
            edge = edges.get(ident)
            if edge is None:
                edges[ident] = new_edge(eu, rid)
            else:
                merge_edge(edge, eu, rid)
        for close in item.delta.closes:
            target = close.target
            # A close that arrives before the sighting it ends is kept all the same.
            if isinstance(target, NodeKey):
                apply_close(nodes.setdefault(target.urn, new_node(NodeUpsert(target, close.time), rid)), close)
                continue
            for key in (target.src, target.dst):
                nodes.setdefault(key.urn, new_node(NodeUpsert(key, close.time), rid))
            apply_close(edges.setdefault(edge_ident(target), new_edge(EdgeUpsert(target, close.time), rid)), close)
