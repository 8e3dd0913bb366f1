"""Datasets, their columns and versions, vector indexes and their documents."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.graphql.aliases import Alias, alias_history, aliases_at
from api.graphql.context import LineageContext
from api.graphql.node import Node, kind_type
from api.graphql.related import edges, one, related
from graph.edges import EdgeType
from graph.keys import Kind


@strawberry.type(description="A kind whose nodes have versions and aliases (a dataset, an index, a model, a prompt).")
class Versioned(Node):
    @strawberry.field(description="Its versions, newest first.")
    async def versions(self, info: Info[LineageContext, None], first: int | None = None) -> list[Node]:
        return await related(info, self.record.urn, EdgeType.VERSION_OF, incoming=True, first=first, newest_first=True)

    @strawberry.field(description="The aliases that held at `asOf` (now by default).")
    async def aliases(self, info: Info[LineageContext, None], as_of: datetime | None = None) -> list[Alias]:
        return aliases_at(await edges(info, self.record.urn, [EdgeType.ALIAS], incoming=False), as_of)

    @strawberry.field(description="Every span each alias held, oldest first.")
    async def alias_history(self, info: Info[LineageContext, None]) -> list[Alias]:
        return alias_history(await edges(info, self.record.urn, [EdgeType.ALIAS], incoming=False))


@strawberry.type(description="A kind whose nodes are versions of an entity (an alias may point at them).")
class Version(Node):
    @strawberry.field(description="The aliases pointing at this version at `asOf` (now by default).")
    async def aliases(self, info: Info[LineageContext, None], as_of: datetime | None = None) -> list[Alias]:
        return aliases_at(await edges(info, self.record.urn, [EdgeType.ALIAS], incoming=True), as_of)


@kind_type(Kind.DATASET)
@strawberry.type(description="A table, file or topic.")
class Dataset(Versioned):
    @strawberry.field(description="Its columns, by name.")
    async def columns(self, info: Info[LineageContext, None]) -> list[Column]:
        found = await related(info, self.record.urn, EdgeType.PART_OF, incoming=True, kinds={Kind.COLUMN})
        return [c for c in found if isinstance(c, Column)]


@kind_type(Kind.VECTOR_INDEX)
@strawberry.type(description="A vector index (a collection); its builds are its versions.")
class VectorIndex(Versioned):
    @strawberry.field(description="Its columns (payload fields), by name.")
    async def columns(self, info: Info[LineageContext, None]) -> list[Column]:
        found = await related(info, self.record.urn, EdgeType.PART_OF, incoming=True, kinds={Kind.COLUMN})
        return [c for c in found if isinstance(c, Column)]

    @strawberry.field(description="The documents it holds, by id.")
    async def documents(self, info: Info[LineageContext, None], first: int | None = 100) -> list[Node]:
        return await related(info, self.record.urn, EdgeType.PART_OF, incoming=True, kinds={Kind.DOCUMENT}, first=first)


@kind_type(Kind.COLUMN)
@strawberry.type(description="A column of a dataset (named <dataset>#<column>).")
class Column(Node):
    @strawberry.field(description="The dataset it belongs to.")
    async def dataset(self, info: Info[LineageContext, None]) -> Node | None:
        found = await related(info, self.record.urn, EdgeType.PART_OF, incoming=False, first=1)
        return found[0] if found else None


@kind_type(Kind.DATASET_VERSION)
@strawberry.type(description="One version of a dataset or an index (a snapshot, the output of a run, a build).")
class DatasetVersion(Version):
    @strawberry.field(description="The dataset or index it is a version of.")
    async def entity(self, info: Info[LineageContext, None]) -> Node | None:
        found = await related(info, self.record.urn, EdgeType.VERSION_OF, incoming=False, first=1)
        return found[0] if found else None


@kind_type(Kind.DOCUMENT)
@strawberry.type(description="A document (a chunk) in a vector index.")
class Document(Node):
    @strawberry.field(description="The index it is part of.")
    async def index(self, info: Info[LineageContext, None]) -> Node | None:
        return await one(info, self.record.urn, EdgeType.PART_OF, Kind.VECTOR_INDEX)
