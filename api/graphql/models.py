"""Models and their versions, embedding models, LLMs."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql.context import LineageContext
from api.graphql.datasets import Version, Versioned
from api.graphql.node import Node, kind_type
from api.graphql.related import one
from graph.edges import EdgeType
from graph.keys import Kind


@kind_type(Kind.MODEL)
@strawberry.type(description="A registered model; its versions carry aliases such as champion.")
class Model(Versioned):
    pass


@kind_type(Kind.MODEL_VERSION)
@strawberry.type(description="One version of a model.")
class ModelVersion(Version):
    @strawberry.field(description="The model it is a version of.")
    async def model(self, info: Info[LineageContext, None]) -> Node | None:
        return await one(info, self.record.urn, EdgeType.VERSION_OF, Kind.MODEL)


@kind_type(Kind.EMBEDDING_MODEL)
@strawberry.type(description="An embedding model.")
class EmbeddingModel(Node):
    pass


@kind_type(Kind.LLM)
@strawberry.type(description="A large language model, by provider and model id.")
class LLM(Node):
    pass
