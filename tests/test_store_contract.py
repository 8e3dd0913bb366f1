"""The LineageStore contract: written once, run against every store backend."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.edges import EdgeType
from graph.errors import NodeNotFound, QueryDeadlineExceeded
from graph.keys import Kind, NodeKey, parse_key
from graph.query import Direction, LineageQuery, TimeWindow
from graph.store import LineageStore
from ingest.intake import intake
from tests.backends import open_backend
from tests.conftest import StoreFactory
from tests.graphs import at, doc, ds, edge, epoch, job, job_doc
from tests.neo4j_server import Neo4jTarget
from tests.snapshots import snapshot

# a -j1-> b -j3-> d -j4-> e, and a, x -j2-> c -j3-> d: a join (j2, j3) and a diamond (a..d).
DIAMOND = [
    job_doc("j1", ["a"], ["b"], 0),
    job_doc("j2", ["a", "x"], ["c"], 1),
    job_doc("j3", ["b", "c"], ["d"], 2),
    job_doc("j4", ["d"], ["e"], 3),
]


async def load(store: LineageStore, docs: list[str]) -> None:
    report = await intake(store, "native", docs)
    assert not report.rejected, report.rejected


async def walk(
    store: LineageStore, start: str, direction: Direction = Direction.UPSTREAM, **kw: object
) -> dict[str, int]:
    result = await store.lineage(LineageQuery(parse_key(start), direction, **kw))  # type: ignore[arg-type]
    return result.distances()


async def test_upstream_over_a_join_and_a_diamond_visits_each_node_once(store: LineageStore) -> None:
    await load(store, DIAMOND)
    assert await walk(store, ds("e")) == {
        ds("e"): 0, job("j4"): 1, ds("d"): 2, job("j3"): 3, ds("b"): 4, ds("c"): 4,
        job("j1"): 5, job("j2"): 5, ds("a"): 6, ds("x"): 6,
    }  # fmt: skip


async def test_downstream_follows_flow_forward(store: LineageStore) -> None:
    await load(store, DIAMOND)
    assert await walk(store, ds("a"), Direction.DOWNSTREAM) == {
        ds("a"): 0, job("j1"): 1, job("j2"): 1, ds("b"): 2, ds("c"): 2, job("j3"): 3, ds("d"): 4,
        job("j4"): 5, ds("e"): 6,
    }  # fmt: skip


async def test_both_directions_is_the_union_of_upstream_and_downstream(store: LineageStore) -> None:
    await load(store, DIAMOND)
    both = await walk(store, ds("c"), Direction.BOTH)
    up = await walk(store, ds("c"), Direction.UPSTREAM)
    down = await walk(store, ds("c"), Direction.DOWNSTREAM)
    assert both == {**up, **down}


async def test_edges_returned_are_those_among_returned_nodes(store: LineageStore) -> None:
    await load(store, DIAMOND)
    result = await store.lineage(LineageQuery(parse_key(ds("d")), Direction.UPSTREAM))
    edges = {(e.src, e.record.type.value, e.dst) for e in result.edges}
    assert edges == {
        (job("j3"), "PRODUCED", ds("d")),
        (ds("b"), "INPUT_OF", job("j3")), (ds("c"), "INPUT_OF", job("j3")),
        (job("j1"), "PRODUCED", ds("b")), (job("j2"), "PRODUCED", ds("c")),
        (ds("a"), "INPUT_OF", job("j1")), (ds("a"), "INPUT_OF", job("j2")), (ds("x"), "INPUT_OF", job("j2")),
    }  # fmt: skip


async def test_cycles_terminate(store: LineageStore) -> None:
    await load(store, [job_doc("ja", ["p"], ["q"]), job_doc("jb", ["q"], ["p"])])
    assert await walk(store, ds("p"), Direction.DOWNSTREAM) == {ds("p"): 0, job("ja"): 1, ds("q"): 2, job("jb"): 3}


async def test_hop_limit_stops_the_walk(store: LineageStore) -> None:
    await load(store, DIAMOND)
    assert await walk(store, ds("e"), max_hops=2) == {ds("e"): 0, job("j4"): 1, ds("d"): 2}
    assert await walk(store, ds("e"), max_hops=0) == {ds("e"): 0}


async def test_kind_filter_keeps_the_walk_but_returns_only_those_kinds(store: LineageStore) -> None:
    await load(store, DIAMOND)
    found = await walk(store, ds("e"), kinds=frozenset({Kind.DATASET}))
    assert found == {ds("e"): 0, ds("d"): 2, ds("b"): 4, ds("c"): 4, ds("a"): 6, ds("x"): 6}


async def test_limit_cuts_a_page_and_says_so(store: LineageStore) -> None:
    await load(store, DIAMOND)
    result = await store.lineage(LineageQuery(parse_key(ds("e")), limit=3))
    assert [n.record.urn for n in result.nodes] == [ds("e"), job("j4"), ds("d")]
    assert result.total == 10
    assert result.is_partial
    assert result.counts_by_kind == {"Dataset": 5, "Job": 4}


async def test_pages_cover_everything_once_in_a_stable_order(store: LineageStore) -> None:
    await load(store, DIAMOND)
    whole = await store.lineage(LineageQuery(parse_key(ds("e"))))
    pages = []
    for offset in range(0, whole.total, 3):
        page = await store.lineage(LineageQuery(parse_key(ds("e")), limit=3, offset=offset))
        pages.extend(n.record.urn for n in page.nodes)
    assert pages == [n.record.urn for n in whole.nodes]
    assert not whole.is_partial


async def test_deadline_gives_a_typed_error_with_the_partial_answer(store: LineageStore) -> None:
    await load(store, [job_doc(f"step{i}", [f"t{i}"], [f"t{i + 1}"], i) for i in range(30)])
    with pytest.raises(QueryDeadlineExceeded) as caught:
        await store.lineage(LineageQuery(parse_key(ds("t30")), max_hops=100, deadline=1e-9))
    partial = caught.value.partial
    assert partial is not None
    assert partial.is_partial and partial.deadline_exceeded
    assert ds("t30") in partial.urns()


async def test_unknown_start_is_not_found(store: LineageStore) -> None:
    with pytest.raises(NodeNotFound):
        await store.lineage(LineageQuery(parse_key(ds("nowhere"))))


async def test_as_of_sees_only_what_existed_then(store: LineageStore) -> None:
    await load(store, DIAMOND)
    # j3 first ran at minute 2, j4 at minute 3.
    assert await walk(store, ds("a"), Direction.DOWNSTREAM, window=TimeWindow(as_of=epoch(2.5))) == {
        ds("a"): 0, job("j1"): 1, job("j2"): 1, ds("b"): 2, ds("c"): 2, job("j3"): 3, ds("d"): 4,
    }  # fmt: skip


async def test_window_keeps_edges_active_within_it(store: LineageStore) -> None:
    await load(store, [job_doc("old", ["s"], ["t"], 0), job_doc("new", ["s"], ["u"], 100)])
    recent = await walk(store, ds("s"), Direction.DOWNSTREAM, window=TimeWindow(since=epoch(50), until=epoch(150)))
    assert recent == {ds("s"): 0, job("new"): 1, ds("u"): 2}


async def test_closed_edges_are_absent_as_of_after_the_close(store: LineageStore) -> None:
    closes = [{"edge": {"src": ds("a"), "type": "INPUT_OF", "dst": job("j1")}, "time": at(10), "reason": "dropped"}]
    await load(store, [job_doc("j1", ["a"], ["b"], 0), doc(closes=closes)])
    before = await walk(store, ds("b"), window=TimeWindow(as_of=epoch(5)))
    after = await walk(store, ds("b"), window=TimeWindow(as_of=epoch(15)))
    assert ds("a") in before
    assert ds("a") not in after
    assert ds("a") in await walk(store, ds("b"))  # without a time, history is complete


async def test_alias_validity_follows_moves_and_a_rollback(store: LineageStore) -> None:
    model = NodeKey(Kind.MODEL, "mlflow://m", "churn").urn
    v1 = NodeKey(Kind.MODEL_VERSION, "mlflow://m", "churn", "1").urn
    v2 = NodeKey(Kind.MODEL_VERSION, "mlflow://m", "churn", "2").urn

    def alias(version: str, minutes: int, closing: str | None) -> str:
        closes = [
            {"edge": {"src": model, "type": "ALIAS", "dst": closing, "qualifier": "champion"}, "time": at(minutes)}
        ]
        return doc(
            edge(model, "ALIAS", version, minutes, qualifier="champion", opens=True), closes=closes if closing else None
        )

    # The rollback arrives first: order must not matter.
    await load(store, [alias(v1, 20, v2), alias(v1, 0, None), alias(v2, 10, v1)])
    _, edges = await store.export()
    by_dst = {e.dst: e for e in edges if e.type.value == "ALIAS"}
    assert [by_dst[v1].valid_at(epoch(m)) for m in (5, 15, 25)] == [True, False, True]
    assert [by_dst[v2].valid_at(epoch(m)) for m in (5, 15, 25)] == [False, True, False]


async def test_edges_of_returns_structural_edges_of_many_nodes_in_full(store: LineageStore) -> None:
    model = NodeKey(Kind.MODEL, "mlflow://m", "churn").urn
    v1, v2 = (NodeKey(Kind.MODEL_VERSION, "mlflow://m", "churn", v).urn for v in ("1", "2"))
    await load(
        store,
        [
            doc(edge(v1, "VERSION_OF", model, 0), edge(v2, "VERSION_OF", model, 5)),
            doc(edge(model, "ALIAS", v2, 6, qualifier="champion", opens=True)),
            job_doc("train", ["features"], [], 1),
        ],
    )
    into = await store.edges_of(
        [model, ds("features"), "urn:lineage:model:x:absent"], [EdgeType.VERSION_OF], incoming=True
    )
    assert {(e.src, e.type, e.dst) for e in into} == {(v1, "VERSION_OF", model), (v2, "VERSION_OF", model)}
    out = await store.edges_of([model, v1], [EdgeType.ALIAS, EdgeType.VERSION_OF], incoming=False)
    assert {(e.src, e.type, e.dst, e.qualifier) for e in out} == {
        (model, "ALIAS", v2, "champion"),
        (v1, "VERSION_OF", model, ""),
    }
    alias = next(e for e in out if e.type is EdgeType.ALIAS)
    assert alias.evidence.count == 1 and alias.markers == [(epoch(6), 0)]
    assert await store.edges_of([], [EdgeType.ALIAS], incoming=True) == []
    newest = await store.edges_of([model, v1], [EdgeType.VERSION_OF], incoming=True, newest=1)
    assert [(e.src, e.dst) for e in newest] == [(v2, model)]  # v2 was seen last; v1 has no versions


async def test_resending_an_input_changes_nothing(store: LineageStore) -> None:
    await load(store, DIAMOND)
    before = await snapshot(store)
    report = await intake(store, "native", DIAMOND)
    assert report.count("duplicate") == len(DIAMOND)
    assert await snapshot(store) == before


async def test_a_refused_input_applies_nothing_and_is_kept_with_its_reason(store: LineageStore) -> None:
    bad = doc(edge(ds("a"), "INPUT_OF", job("j")), edge(ds("a"), "PRODUCED", ds("b")))
    report = await intake(store, "native", [bad])
    assert report.rejected[0].reason == "/edges/1/src: a PRODUCED edge cannot start at a Dataset"
    assert await store.export() == ([], [])
    letters = await store.dead_letters()
    assert letters[0].raw == bad and "PRODUCED" in letters[0].reason


async def test_reopening_keeps_everything(backend: str, target: Neo4jTarget | None, tmp_path: Path) -> None:
    folder = tmp_path / "reopen"
    first = await open_backend(backend, folder, target)
    await load(first, DIAMOND)
    before = await snapshot(first)
    head = await first.head()
    await first.close()
    second = await open_backend(backend, folder, target, fresh=False)
    try:
        assert await snapshot(second) == before
        assert await second.head() == head
        assert (await second.verify()).intact
    finally:
        await second.close()


async def test_path_explains_a_connection_either_way_round(store: LineageStore) -> None:
    await load(store, DIAMOND)
    forward = await store.path(parse_key(ds("a")), parse_key(ds("e")))
    backward = await store.path(parse_key(ds("e")), parse_key(ds("a")))
    assert forward is not None and backward is not None
    expected = [ds("a"), job("j1"), ds("b"), job("j3"), ds("d"), job("j4"), ds("e")]
    assert [n.urn for n in forward.nodes] == expected
    assert [n.urn for n in backward.nodes] == expected
    assert [(e.src, e.dst) for e in forward.edges] == list(itertools.pairwise(expected))
    assert all(e.record.evidence.count == 1 for e in forward.edges)
    assert await store.path(parse_key(ds("b")), parse_key(ds("x"))) is None


async def test_search_ranks_exact_names_first_and_filters_kinds(store: LineageStore) -> None:
    await load(store, [job_doc("load_orders", ["orders"], ["orders_clean"]), job_doc("x", ["customer_orders"], ["y"])])
    found = await store.search("orders")
    assert [n.urn for n in found.nodes][:2] == [ds("orders"), ds("orders_clean")]
    assert found.total == 4
    jobs = await store.search("orders", kinds=[Kind.JOB])
    assert [n.urn for n in jobs.nodes] == [job("load_orders")]


# -- run/version level ------------------------------------------------------------------------

INDEX = NodeKey(Kind.VECTOR_INDEX, "qdrant://q:6333", "kb").urn
SOURCE = ds("articles", "s3://kb")


def _version(kind: Kind, entity: str, version: str) -> str:
    key = parse_key(entity)
    return NodeKey(kind, key.namespace, key.name, version).urn


def _run(job_urn: str, run_id: str) -> str:
    key = parse_key(job_urn)
    return NodeKey(Kind.RUN, key.namespace, key.name, run_id).urn


def rag_docs() -> list[str]:
    """Two index builds (minutes 0 and 10) and two LLM calls that name only the index."""
    build_job, app = job("build_index"), job("answer", "otel://rag")
    docs = []
    for n, minute in ((1, 0), (2, 10)):
        source_v = _version(Kind.DATASET_VERSION, SOURCE, f"export-{n}")
        build = _version(Kind.DATASET_VERSION, INDEX, f"build-{n}")
        run = _run(build_job, f"build-run-{n}")
        docs.append(
            doc(
                edge(source_v, "VERSION_OF", SOURCE, minute),
                edge(build, "VERSION_OF", INDEX, minute),
                edge(run, "RUN_OF", build_job, minute),
                edge(source_v, "INPUT_OF", run, minute),
                edge(run, "PRODUCED", build, minute),
                edge(SOURCE, "INPUT_OF", build_job, minute),
                edge(build_job, "PRODUCED", INDEX, minute),
            )
        )
    for n, minute in ((1, 5), (2, 15)):
        call = _run(app, f"call-{n}")
        answer = NodeKey(Kind.OUTPUT, "rag", f"answer-{n}").urn
        docs.append(
            doc(
                edge(call, "RUN_OF", app, minute),
                edge(INDEX, "INPUT_OF", call, minute),
                edge(call, "PRODUCED", answer, minute),
            )
        )
    return docs


async def test_trace_back_from_an_answer_resolves_the_index_live_at_call_time(store: LineageStore) -> None:
    await load(store, rag_docs())
    for n in (1, 2):
        result = await store.lineage(LineageQuery(parse_key(NodeKey(Kind.OUTPUT, "rag", f"answer-{n}").urn)))
        build = _version(Kind.DATASET_VERSION, INDEX, f"build-{n}")
        assert result.distances() == {
            NodeKey(Kind.OUTPUT, "rag", f"answer-{n}").urn: 0,
            _run(job("answer", "otel://rag"), f"call-{n}"): 1,
            build: 2,
            _run(job("build_index"), f"build-run-{n}"): 3,
            _version(Kind.DATASET_VERSION, SOURCE, f"export-{n}"): 4,
        }
        resolved = next(x for x in result.nodes if x.record.urn == build).resolution
        assert resolved is not None and resolved.found and resolved.entity == INDEX
        assert "resolved" in resolved.note


async def test_trace_back_before_any_build_keeps_the_entity_and_says_so(store: LineageStore) -> None:
    call = _run(job("answer", "otel://rag"), "early")
    await load(store, [*rag_docs(), doc(edge(INDEX, "INPUT_OF", call, -5))])
    result = await store.lineage(LineageQuery(parse_key(call)))
    node = next(x for x in result.nodes if x.record.urn == INDEX)
    assert node.resolution is not None and not node.resolution.found


async def test_impact_from_an_entity_reaches_its_versions_and_what_they_fed(store: LineageStore) -> None:
    await load(store, rag_docs())
    found = await walk(store, SOURCE, Direction.DOWNSTREAM)
    assert _version(Kind.DATASET_VERSION, INDEX, "build-2") in found
    assert NodeKey(Kind.OUTPUT, "rag", "answer-1").urn in found
    assert NodeKey(Kind.OUTPUT, "rag", "answer-2").urn in found


# -- properties -------------------------------------------------------------------------------

DATASETS = [f"t{i}" for i in range(6)]
job_docs = st.lists(
    st.tuples(
        st.sampled_from(["ja", "jb", "jc", "jd"]),
        st.lists(st.sampled_from(DATASETS), min_size=1, max_size=3, unique=True),
        st.lists(st.sampled_from(DATASETS), min_size=1, max_size=2, unique=True),
        st.integers(0, 50),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=job_docs, seed=st.integers(0, 2**32 - 1))
async def test_any_order_of_the_same_inputs_gives_the_same_graph(
    new_store: StoreFactory, spec: list, seed: int
) -> None:
    docs = [job_doc(name, ins, outs, minute) for name, ins, outs, minute in spec]
    shuffled = docs[:]
    random.Random(seed).shuffle(shuffled)
    start = parse_key(ds(spec[0][2][0]))
    answers = []
    for inputs in (docs, shuffled + docs[: len(docs) // 2]):  # in order; shuffled, some sent twice
        s = await new_store()
        await load(s, inputs)
        answers.append((await snapshot(s), (await s.lineage(LineageQuery(start, Direction.BOTH))).distances()))
        await s.close()
    assert answers[0] == answers[1]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=job_docs)
async def test_every_node_in_a_downstream_walk_has_the_start_upstream_of_it(
    new_store: StoreFactory, spec: list
) -> None:
    s = await new_store()
    await load(s, [job_doc(name, ins, outs, minute) for name, ins, outs, minute in spec])
    start = ds(spec[0][1][0])
    downstream = await walk(s, start, Direction.DOWNSTREAM, max_hops=100)
    for urn, distance in downstream.items():
        upstream = await walk(s, urn, Direction.UPSTREAM, max_hops=100)
        assert upstream[start] == distance  # shortest distances agree both ways
    await s.close()
