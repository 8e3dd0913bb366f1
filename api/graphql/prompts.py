"""Prompts and their versions."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from api.graphql.context import LineageContext
from api.graphql.datasets import Version, Versioned
from api.graphql.node import Node, kind_type
from api.graphql.related import one
from graph.edges import EdgeType
from graph.keys import Kind


@kind_type(Kind.PROMPT)
@strawberry.type(description="A prompt in a registry; its versions carry aliases such as production.")
class Prompt(Versioned):
    pass


@kind_type(Kind.PROMPT_VERSION)
@strawberry.type(description="One version of a prompt template.")
class PromptVersion(Version):
    @strawberry.field(description="The hash of the template text (sha256:...), if the source gave one.")
    def template_hash(self) -> str | None:
        props = self.record.properties
        value = props.get("template_hash", props.get("templateHash"))
        return value if isinstance(value, str) else None

    @strawberry.field(description="The prompt it is a version of.")
    async def prompt(self, info: Info[LineageContext, None]) -> Node | None:
        return await one(info, self.record.urn, EdgeType.VERSION_OF, Kind.PROMPT)
