"""What queries return: nodes with distances, the edges among them, totals and notes."""

from __future__ import annotations

from dataclasses import dataclass, field

from graph.records import EdgeRecord, NodeRecord
from graph.timestamps import iso


@dataclass(frozen=True, slots=True)
class Resolution:
    """How a version was chosen when the source named only its entity."""

    entity: str  # urn of the entity the source named
    at: float  # the moment whose live version was taken
    found: bool  # False: no version was live then, the entity itself stands in

    @property
    def note(self) -> str:
        """Return the sentence a person reads."""
        if self.found:
            return f"resolved {self.entity} to the version live at {iso(self.at)}"
        return f"no version of {self.entity} was known at {iso(self.at)}; the entity stands in"


@dataclass(frozen=True, slots=True)
class LineageNode:
    """A node reached by a traversal."""

    record: NodeRecord
    distance: int
    resolution: Resolution | None = None


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """An edge between two reached nodes; ``via`` is set when an end was resolved."""

    record: EdgeRecord
    src: str
    dst: str
    via: Resolution | None = None


@dataclass(frozen=True, slots=True)
class LineageResult:
    """One page of a traversal, plus what the whole traversal found."""

    start: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    total: int
    counts_by_kind: dict[str, int]
    is_partial: bool
    deadline_exceeded: bool = False

    def urns(self) -> set[str]:
        """Return the ids of the nodes on this page."""
        return {n.record.urn for n in self.nodes}

    def distances(self) -> dict[str, int]:
        """Return the distance of each node on this page."""
        return {n.record.urn: n.distance for n in self.nodes}


@dataclass(frozen=True, slots=True)
class PathResult:
    """Why two nodes are connected: the nodes from upstream to downstream and each hop."""

    nodes: list[NodeRecord]
    edges: list[LineageEdge] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Nodes whose name or namespace matched, best first."""

    nodes: list[NodeRecord]
    total: int
