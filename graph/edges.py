"""Edge types: the closed set lineage traversal follows, and the structural ones it does not.

Every flow edge points the way data flows, from upstream to downstream, so a traversal
upstream always walks edges backwards and downstream always forwards.
"""

from __future__ import annotations

from enum import StrEnum

from graph.errors import InvalidDelta
from graph.keys import VERSION_OF_ENTITY, Kind

ACTIVITIES = frozenset({Kind.JOB, Kind.RUN})
_NOT_ACTIVITIES = frozenset(Kind) - ACTIVITIES


class EdgeType(StrEnum):
    """How two nodes are related."""

    # Flow: traversal follows these.
    INPUT_OF = "INPUT_OF"  # data -> the job or run that read it
    PRODUCED = "PRODUCED"  # job or run -> the data it wrote or generated
    DERIVES = "DERIVES"  # upstream data -> data derived from it (column, feature, document level)
    # Structure: traversal does not follow these (except version expansion, see traversal).
    VERSION_OF = "VERSION_OF"  # version -> its entity
    RUN_OF = "RUN_OF"  # run -> its job
    PART_OF = "PART_OF"  # column -> dataset, feature -> feature view, document -> index
    CHILD_OF = "CHILD_OF"  # run -> its parent run
    ALIAS = "ALIAS"  # entity -> the version an alias (qualifier) points at, with validity
    SYMLINK = "SYMLINK"  # dataset -> another name for the same dataset

    @property
    def is_flow(self) -> bool:
        """Return whether lineage traversal follows this edge."""
        return self in FLOW_EDGES

    @classmethod
    def parse(cls, text: str, *, field: str = "type") -> EdgeType:
        """Accept an edge type by name, case-insensitively."""
        try:
            return cls(text.upper())
        except ValueError:
            msg = f"{field}: unknown edge type {text!r}; expected one of {', '.join(cls)}"
            raise InvalidDelta(msg, field=field) from None


FLOW_EDGES = frozenset({EdgeType.INPUT_OF, EdgeType.PRODUCED, EdgeType.DERIVES})
#: Structural edges that tie a version to its entity; downstream traversal expands an entity
#: into its versions through them ("an entity stands for its versions").
VERSION_EDGES = frozenset({EdgeType.VERSION_OF, EdgeType.RUN_OF})

_VERSION_KINDS = frozenset(VERSION_OF_ENTITY) - {Kind.RUN}
_ENTITIES_WITH_ALIASES = frozenset({Kind.MODEL, Kind.PROMPT, Kind.DATASET, Kind.VECTOR_INDEX})

#: Which kinds each edge type may connect: (allowed sources, allowed targets).
ALLOWED: dict[EdgeType, tuple[frozenset[Kind], frozenset[Kind]]] = {
    EdgeType.INPUT_OF: (_NOT_ACTIVITIES, ACTIVITIES),
    EdgeType.PRODUCED: (ACTIVITIES, _NOT_ACTIVITIES),
    EdgeType.DERIVES: (_NOT_ACTIVITIES, _NOT_ACTIVITIES),
    EdgeType.VERSION_OF: (
        _VERSION_KINDS,
        frozenset({Kind.DATASET, Kind.VECTOR_INDEX, Kind.MODEL, Kind.PROMPT}),
    ),
    EdgeType.RUN_OF: (frozenset({Kind.RUN}), frozenset({Kind.JOB})),
    EdgeType.PART_OF: (_NOT_ACTIVITIES, _NOT_ACTIVITIES),
    EdgeType.CHILD_OF: (frozenset({Kind.RUN}), frozenset({Kind.RUN})),
    EdgeType.ALIAS: (_ENTITIES_WITH_ALIASES, _VERSION_KINDS),
    EdgeType.SYMLINK: (
        frozenset({Kind.DATASET, Kind.VECTOR_INDEX}),
        frozenset({Kind.DATASET, Kind.VECTOR_INDEX}),
    ),
}


def kind_error(edge_type: EdgeType, src: Kind, dst: Kind) -> str | None:
    """Return why an edge of this type cannot join these kinds, or None when it can."""
    sources, targets = ALLOWED[edge_type]
    if src not in sources:
        return f"src: a {edge_type} edge cannot start at a {src.value}"
    if dst not in targets:
        return f"dst: a {edge_type} edge cannot end at a {dst.value}"
    if edge_type is EdgeType.VERSION_OF and dst not in VERSION_OF_ENTITY[src]:
        return f"dst: a {src.value} is not a version of a {dst.value}"
    return None
