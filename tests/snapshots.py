"""Whole-graph snapshots as sets of tuples, so comparisons never depend on order."""

from __future__ import annotations

from typing import Any

from graph.records import canonical
from graph.store import LineageStore


async def snapshot(store: LineageStore) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """Return every node and edge with everything a merge decides."""
    nodes, edges = await store.export()
    node_rows = {
        (
            n.urn,
            n.first_seen,
            n.last_seen,
            canonical(n.properties),
            tuple(n.markers),
            (n.evidence.first_id, n.evidence.last_id, n.evidence.count) if n.evidence else None,
        )
        for n in nodes
    }
    edge_rows = {
        (
            *e.ident,
            e.first_seen,
            e.last_seen,
            canonical(e.properties),
            tuple(e.markers),
            e.evidence.first_id,
            e.evidence.last_id,
            e.evidence.count,
        )
        for e in edges
    }
    return node_rows, edge_rows
