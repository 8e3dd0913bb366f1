"""Feature store nodes: feature views, their features, feature services."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql.context import LineageContext
from api.graphql.node import Node, kind_type
from api.graphql.related import one, related
from graph.edges import EdgeType
from graph.keys import Kind


@kind_type(Kind.FEATURE_VIEW)
@strawberry.type(description="A feature view (a group of features materialized together).")
class FeatureView(Node):
    @strawberry.field(description="Its features, by name.")
    async def features(self, info: Info[LineageContext, None]) -> list[Node]:
        return await related(info, self.record.urn, EdgeType.PART_OF, incoming=True, kinds={Kind.FEATURE})


@kind_type(Kind.FEATURE)
@strawberry.type(description="One feature of a feature view.")
class Feature(Node):
    @strawberry.field(description="The feature view it belongs to.")
    async def feature_view(self, info: Info[LineageContext, None]) -> Node | None:
        return await one(info, self.record.urn, EdgeType.PART_OF, Kind.FEATURE_VIEW)


@kind_type(Kind.FEATURE_SERVICE)
@strawberry.type(description="A feature service (the features a model is served with).")
class FeatureService(Node):
    pass
