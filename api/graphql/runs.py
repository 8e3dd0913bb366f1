"""Jobs, their runs (a batch run, a training run, a traced LLM call) and outputs."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from api.graphql.context import LineageContext
from api.graphql.node import Node, kind_type
from api.graphql.related import one, related
from graph.edges import EdgeType
from graph.errors import InvalidInput
from graph.keys import Kind
from graph.timestamps import parse_time

#: how many runs ``runs`` returns when not told
DEFAULT_RUNS = 100


@kind_type(Kind.JOB)
@strawberry.type(description="A job (a DAG task, a dbt model, a service endpoint); each execution is a run.")
class Job(Node):
    @strawberry.field(description="Its runs, newest first.")
    async def runs(self, info: Info[LineageContext, None], first: int | None = None) -> list[Run]:
        limit = DEFAULT_RUNS if first is None else first
        found = await related(info, self.record.urn, EdgeType.RUN_OF, incoming=True, first=limit, newest_first=True)
        return [r for r in found if isinstance(r, Run)]


@kind_type(Kind.RUN)
@strawberry.type(description="One execution of a job; an LLM call is a run too.")
class Run(Node):
    @strawberry.field(description="START, RUNNING, COMPLETE, FAIL, ABORT or OTHER, as last reported.")
    def state(self) -> str | None:
        value = self.record.properties.get("state")
        return value if isinstance(value, str) else None

    @strawberry.field(description="When the run started, if reported.")
    def started_at(self) -> datetime | None:
        return _time(self.record.properties.get("started_at"))

    @strawberry.field(description="When the run ended, if reported.")
    def ended_at(self) -> datetime | None:
        return _time(self.record.properties.get("ended_at"))

    @strawberry.field(description="The job it is a run of.")
    async def job(self, info: Info[LineageContext, None]) -> Job | None:
        found = await one(info, self.record.urn, EdgeType.RUN_OF, Kind.JOB)
        return found if isinstance(found, Job) else None

    @strawberry.field(description="The run that started it (an Airflow DAG run for a task run), if any.")
    async def parent(self, info: Info[LineageContext, None]) -> Run | None:
        found = await one(info, self.record.urn, EdgeType.CHILD_OF, Kind.RUN)
        return found if isinstance(found, Run) else None


@kind_type(Kind.OUTPUT)
@strawberry.type(description="What a run produced that is not a dataset: an LLM answer, a prediction batch.")
class Output(Node):
    @strawberry.field(description="The run (the call) that produced it.")
    async def call(self, info: Info[LineageContext, None]) -> Run | None:
        found = await related(info, self.record.urn, EdgeType.PRODUCED, incoming=True, kinds={Kind.RUN}, first=1)
        return found[0] if found and isinstance(found[0], Run) else None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value, assume_utc=True)
    except InvalidInput:
        return None
