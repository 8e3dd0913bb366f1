"""The demo estate answers the two questions the service exists for."""

from __future__ import annotations

from datetime import timedelta

from graph.keys import Kind, parse_key
from graph.query import Direction, LineageQuery, TimeWindow
from graph.store import LineageStore
from ingest.estate import Estate


def moment(estate: Estate, day: float, hours: float = 0) -> float:
    """Return epoch seconds of a moment of the estate's days."""
    return (estate.start + timedelta(days=day, hours=hours)).timestamp()


async def test_trace_back_from_an_answer_reaches_source_tables_through_versions(
    demo_store: LineageStore, estate: Estate
) -> None:
    answer = parse_key(estate.landmarks["answer"])
    result = await demo_store.lineage(LineageQuery(answer, Direction.UPSTREAM, max_hops=10))
    by_kind: dict[Kind, set[str]] = {}
    for n in result.nodes:
        by_kind.setdefault(n.record.kind, set()).add(n.record.urn)
    # version level all the way: no entity stands in for a dataset, an index or a prompt
    assert not by_kind.keys() & {Kind.DATASET, Kind.VECTOR_INDEX, Kind.PROMPT, Kind.JOB}
    assert len(by_kind[Kind.PROMPT_VERSION]) == 1
    assert len(by_kind[Kind.DOCUMENT]) == 5
    assert by_kind[Kind.EMBEDDING_MODEL] == {estate.landmarks["embedding_model"]}
    builds = estate.landmarks["index_builds"].split(",")
    assert by_kind[Kind.DATASET_VERSION] & set(builds) == {builds[-1]}  # the build live at the time
    sources = {parse_key(u).name for u in by_kind[Kind.DATASET_VERSION]}
    assert {"shop.public.support_tickets", "raw/help-centre-articles"} <= sources
    build_node = next(n for n in result.nodes if n.record.urn == builds[-1])
    assert build_node.resolution is not None and build_node.resolution.entity == estate.landmarks["index"]


async def test_an_answer_from_the_first_day_traces_to_the_first_build(demo_store: LineageStore, estate: Estate) -> None:
    first = parse_key(estate.landmarks["first_answer"])
    result = await demo_store.lineage(LineageQuery(first, Direction.UPSTREAM, max_hops=3))
    builds = estate.landmarks["index_builds"].split(",")
    assert builds[0] in result.urns()
    assert not set(builds[1:]) & result.urns()


async def test_impact_from_a_source_table_reaches_model_versions_and_answers(
    demo_store: LineageStore, estate: Estate
) -> None:
    source = parse_key(estate.landmarks["source_table"])
    result = await demo_store.lineage(LineageQuery(source, Direction.DOWNSTREAM, max_hops=30, limit=10))
    versions = set(estate.landmarks["model_versions"].split(","))
    assert result.counts_by_kind["ModelVersion"] == len(versions)
    assert result.counts_by_kind["Output"] > 1000  # every answer and the prediction batches
    assert result.is_partial and len(result.nodes) == 10
    everything = await demo_store.lineage(
        LineageQuery(source, Direction.DOWNSTREAM, max_hops=30, kinds=frozenset({Kind.MODEL_VERSION}))
    )
    assert versions <= everything.urns()


async def test_the_champion_alias_moved_and_was_rolled_back(demo_store: LineageStore, estate: Estate) -> None:
    _, edges = await demo_store.export()
    aliases = {e.dst: e for e in edges if e.type.value == "ALIAS" and e.qualifier == "champion"}
    v1, v2, v3 = estate.landmarks["model_versions"].split(",")
    # v1 champion from day 1, v2 from day 3, v3 from day 5, rolled back to v2 on day 6
    expected = {2: [True, False, False], 4: [False, True, False], 5.9: [False, False, True], 6.9: [False, True, False]}
    for day, flags in expected.items():
        assert [aliases[v].valid_at(moment(estate, day)) for v in (v1, v2, v3)] == flags, day
    assert estate.landmarks["rolled_back_to"] == v2


async def test_as_of_before_the_answers_hides_them(demo_store: LineageStore, estate: Estate) -> None:
    index = parse_key(estate.landmarks["index"])
    early = await demo_store.lineage(
        LineageQuery(index, Direction.DOWNSTREAM, max_hops=3, window=TimeWindow(as_of=moment(estate, 0, 2)))
    )
    assert early.total == 1  # the first build is at 04:00 on day 0: nothing was built or answered yet
