"""Node kinds and keys, and the one text form (URN) the API and the UI use as ids.

A key is ``(kind, namespace, name)`` plus ``version`` for version nodes. Its URN
``urn:lineage:<kind>:<namespace>:<name>[:<version>]`` percent-encodes ``%`` and ``:`` in each
part, so ``postgres://host:5432`` survives and the text round-trips exactly. Marquez-style
ids (``dataset:<ns>:<name>``, ``job:<ns>:<name>``, ``datasetField:<ns>:<name>:<field>``) are
accepted as input, see https://openlineage.io/docs/spec/naming.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from urllib.parse import quote, unquote

from graph.errors import InvalidKey

URN_PREFIX = "urn:lineage:"
# Everything printable except ":" and "%" stays readable; those two are what the form splits on.
URN_SAFE = "/@.-_~+,=!$&'()*;[] "


class Kind(StrEnum):
    """What a node is. Closed on purpose: extend it when a source needs a new kind."""

    DATASET = "Dataset"
    COLUMN = "Column"
    DATASET_VERSION = "DatasetVersion"
    FEATURE_VIEW = "FeatureView"
    FEATURE = "Feature"
    FEATURE_SERVICE = "FeatureService"
    VECTOR_INDEX = "VectorIndex"
    DOCUMENT = "Document"
    MODEL = "Model"
    MODEL_VERSION = "ModelVersion"
    EMBEDDING_MODEL = "EmbeddingModel"
    LLM = "LLM"
    PROMPT = "Prompt"
    PROMPT_VERSION = "PromptVersion"
    JOB = "Job"
    RUN = "Run"
    OUTPUT = "Output"

    @property
    def slug(self) -> str:
        """Return the lower snake-case name used inside URNs."""
        return _SLUGS[self]

    @property
    def is_versioned(self) -> bool:
        """Return whether keys of this kind carry a version."""
        return self in VERSION_OF_ENTITY

    @classmethod
    def parse(cls, text: str, *, field: str = "kind") -> Kind:
        """Accept a kind by its name (``ModelVersion``) or slug (``model_version``)."""
        kind = _BY_TEXT.get(text.lower())
        if kind is None:
            msg = f"{field}: unknown kind {text!r}; expected one of {', '.join(k.value for k in cls)}"
            raise InvalidKey(msg, field=field)
        return kind


_SLUGS = {k: re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", k.value).lower() for k in Kind}
_SLUGS[Kind.LLM] = "llm"
_BY_TEXT = {**{k.value.lower(): k for k in Kind}, **{s: k for k, s in _SLUGS.items()}}

#: Version kinds and the entity kinds they are versions of (a Run is a version of its Job).
VERSION_OF_ENTITY: dict[Kind, frozenset[Kind]] = {
    Kind.DATASET_VERSION: frozenset({Kind.DATASET, Kind.VECTOR_INDEX}),
    Kind.MODEL_VERSION: frozenset({Kind.MODEL}),
    Kind.PROMPT_VERSION: frozenset({Kind.PROMPT}),
    Kind.RUN: frozenset({Kind.JOB}),
}
#: Entity kinds that have versions: trace-back from a version resolves these to a version.
VERSIONED_ENTITIES: frozenset[Kind] = frozenset().union(*VERSION_OF_ENTITY.values())
#: Kinds that are run/version level: a traversal starting at one stays at that level.
RUN_LEVEL: frozenset[Kind] = frozenset({*VERSION_OF_ENTITY, Kind.OUTPUT})


@dataclass(frozen=True, slots=True, order=True)
class NodeKey:
    """The identity of a node."""

    kind: Kind
    namespace: str
    name: str
    version: str | None = None
    urn: str = field(init=False, repr=False, compare=False)  # the canonical text, computed once

    def __post_init__(self) -> None:
        if not isinstance(self.kind, Kind):
            object.__setattr__(self, "kind", Kind.parse(str(self.kind)))
        if not self.namespace:
            msg = "namespace: must not be empty"
            raise InvalidKey(msg, field="namespace")
        if not self.name:
            msg = "name: must not be empty"
            raise InvalidKey(msg, field="name")
        if self.kind.is_versioned and not self.version:
            msg = f"version: a {self.kind.value} key needs a version"
            raise InvalidKey(msg, field="version")
        if not self.kind.is_versioned and self.version is not None:
            msg = f"version: a {self.kind.value} key has no version"
            raise InvalidKey(msg, field="version")
        parts = [self.kind.slug, _enc(self.namespace), _enc(self.name)]
        if self.version is not None:
            parts.append(_enc(self.version))
        object.__setattr__(self, "urn", URN_PREFIX + ":".join(parts))

    # Identity is the URN (it encodes every field): hashing and comparing one interned-size
    # string is several times cheaper than the generated tuple of fields, and ingest does both
    # for every element it builds.
    def __hash__(self) -> int:
        return hash(self.urn)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NodeKey):
            return NotImplemented
        return self.urn == other.urn

    def __str__(self) -> str:
        return self.urn


@lru_cache(maxsize=1 << 16)  # namespaces and names repeat across keys; quote() is the cost of a key
def _enc(part: str) -> str:
    return quote(part, safe=URN_SAFE)


@lru_cache(maxsize=1 << 16)  # ingest sees the same ids over and over; keys are immutable
def parse_key(text: str) -> NodeKey:
    """Parse a URN, or a Marquez-style node id, into a key."""
    if text.startswith(URN_PREFIX):
        return _parse_urn(text)
    return _parse_marquez(text)


def _parse_urn(text: str) -> NodeKey:
    parts = text[len(URN_PREFIX) :].split(":")
    if len(parts) not in (3, 4):
        msg = f"id: {text!r} is not urn:lineage:<kind>:<namespace>:<name>[:<version>]"
        raise InvalidKey(msg, field="id")
    kind = Kind.parse(parts[0], field="id")
    values = [unquote(p) for p in parts[1:]]
    return NodeKey(kind, *values)


# A namespace that is a URI keeps its scheme's "://" and an optional ":port".
_URI_NAMESPACE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/:]*(?::\d+)?")
_MARQUEZ_KINDS = {"dataset": Kind.DATASET, "job": Kind.JOB, "datasetfield": Kind.COLUMN}


def _parse_marquez(text: str) -> NodeKey:
    prefix, _, rest = text.partition(":")
    kind = _MARQUEZ_KINDS.get(prefix.lower())
    if kind is None or not rest:
        msg = (
            f"id: {text!r} is neither a urn:lineage: id nor a Marquez node id "
            "(dataset:<namespace>:<name>, job:<namespace>:<name>)"
        )
        raise InvalidKey(msg, field="id")
    match = _URI_NAMESPACE.match(rest)
    if match and rest[match.end() : match.end() + 1] == ":":
        namespace, name = match.group(0), rest[match.end() + 1 :]
    else:
        namespace, _, name = rest.partition(":")
    if kind is Kind.COLUMN:
        # datasetField:<ns>:<dataset>:<field>: the column is named <dataset>.<field> here.
        dataset, sep, field = name.rpartition(":")
        if not sep:
            msg = f"id: {text!r} is a datasetField id without a field"
            raise InvalidKey(msg, field="id")
        return column_key(NodeKey(Kind.DATASET, namespace, dataset), field)
    return NodeKey(kind, namespace, name)


@lru_cache(maxsize=1 << 16)  # tables and jobs are named again by every event about them
def entity_key_of(kind: Kind, namespace: str, name: str) -> NodeKey:
    """Return the key of an unversioned node (one object per recurring name)."""
    return NodeKey(kind, namespace, name)


def column_key(dataset: NodeKey, column: str) -> NodeKey:
    """Return the key of a column of a dataset (its name is ``<dataset>#<column>``)."""
    return _column_key(dataset.namespace, dataset.name, column)


# A schema's columns are named again by every event that carries it. Cached by text, not by
# the dataset's key: a key's hash is a Python call, a string's is cached in the string.
@lru_cache(maxsize=1 << 16)
def _column_key(namespace: str, dataset: str, column: str) -> NodeKey:
    return NodeKey(Kind.COLUMN, namespace, f"{dataset}#{column}")


def entity_key(version: NodeKey, entity_kind: Kind | None = None) -> NodeKey:
    """Return the entity a version key belongs to (the namespace and name it shares)."""
    kinds = VERSION_OF_ENTITY.get(version.kind)
    if kinds is None:
        msg = f"kind: {version.kind.value} is not a version kind"
        raise InvalidKey(msg, field="kind")
    kind = entity_kind or min(kinds)
    if kind not in kinds:
        msg = f"kind: a {version.kind.value} is not a version of a {kind.value}"
        raise InvalidKey(msg, field="kind")
    return NodeKey(kind, version.namespace, version.name)
