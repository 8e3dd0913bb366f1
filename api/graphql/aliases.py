"""Aliases (champion, production): named pointers from an entity to a version, valid over time."""

from __future__ import annotations

import time
from datetime import datetime

import strawberry

from graph.records import EdgeRecord
from graph.timestamps import from_epoch, to_epoch

Interval = tuple[float, float | None]


@strawberry.type(description="An alias of an entity pointing at a version, with when it held.")
class Alias:
    name: str
    target: strawberry.ID
    valid_from: datetime | None
    valid_to: datetime | None


def intervals(edge: EdgeRecord) -> list[Interval]:
    """Return the spans an edge held, from its sightings and its open and close markers."""
    points = sorted({edge.first_seen, edge.last_seen, *(t for t, _ in edge.markers)})
    spans: list[Interval] = []
    opened: float | None = None
    for t in points:
        held = edge.valid_at(t)
        if held and opened is None:
            opened = t
        elif not held and opened is not None:
            spans.append((opened, t))
            opened = None
    if opened is not None:
        spans.append((opened, None))
    return spans


def span_at(edge: EdgeRecord, t: float) -> Interval | None:
    """Return the span of an edge that holds at ``t``, if one does."""
    return next((s for s in intervals(edge) if s[0] <= t and (s[1] is None or t < s[1])), None)


def moment(as_of: datetime | None) -> float:
    """Return epoch seconds of ``asOf``, now when it is not given."""
    return time.time() if as_of is None else to_epoch(as_of, field="asOf")


def alias(edge: EdgeRecord, span: Interval) -> Alias:
    """Return an alias edge's view over one span."""
    return Alias(
        name=edge.qualifier,
        target=strawberry.ID(edge.dst),
        valid_from=from_epoch(span[0]),
        valid_to=None if span[1] is None else from_epoch(span[1]),
    )


def aliases_at(edges: list[EdgeRecord], as_of: datetime | None) -> list[Alias]:
    """Return the aliases among these edges that hold at ``asOf`` (now by default)."""
    t = moment(as_of)
    held = [(e, span_at(e, t)) for e in edges]
    return sorted((alias(e, s) for e, s in held if s is not None), key=lambda a: (a.name, a.target))


def alias_history(edges: list[EdgeRecord]) -> list[Alias]:
    """Return every span of every alias among these edges, oldest first."""
    spans = [(s, e) for e in edges for s in intervals(e)]
    spans.sort(key=lambda p: (p[0][0], p[1].qualifier, p[1].dst))
    return [alias(e, s) for s, e in spans]
