"""Keys: the URN round-trips exactly; Marquez ids are accepted; bad ids name what is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.delta import DeltaBuilder
from graph.edges import EdgeType
from graph.errors import InvalidDelta, InvalidKey, InvalidQuery
from graph.keys import Kind, NodeKey, parse_key
from graph.query import LineageQuery, TimeWindow
from tests.graphs import T0

text = st.text(min_size=1, max_size=40)


@given(kind=st.sampled_from([k for k in Kind if not k.is_versioned]), namespace=text, name=text)
def test_urn_round_trips_any_namespace_and_name(kind: Kind, namespace: str, name: str) -> None:
    key = NodeKey(kind, namespace, name)
    assert parse_key(key.urn) == key


@given(namespace=text, name=text, version=text)
def test_urn_round_trips_versions(namespace: str, name: str, version: str) -> None:
    key = NodeKey(Kind.MODEL_VERSION, namespace, name, version)
    assert parse_key(key.urn) == key


def test_urn_keeps_uri_namespaces_readable() -> None:
    key = NodeKey(Kind.DATASET, "postgres://db.internal:5432", "shop.public.orders")
    assert key.urn == "urn:lineage:dataset:postgres%3A//db.internal%3A5432:shop.public.orders"


@pytest.mark.parametrize(
    ("marquez", "expected"),
    [
        ("dataset:food_delivery:public.categories", NodeKey(Kind.DATASET, "food_delivery", "public.categories")),
        ("dataset:postgres://db:5432:shop.orders", NodeKey(Kind.DATASET, "postgres://db:5432", "shop.orders")),
        ("dataset:s3://bucket:path/to/data", NodeKey(Kind.DATASET, "s3://bucket", "path/to/data")),
        ("job:food_delivery:etl_orders.load", NodeKey(Kind.JOB, "food_delivery", "etl_orders.load")),
        ("datasetField:food_delivery:public.orders:id", NodeKey(Kind.COLUMN, "food_delivery", "public.orders#id")),
    ],
)
def test_marquez_ids_are_accepted(marquez: str, expected: NodeKey) -> None:
    assert parse_key(marquez) == expected


@pytest.mark.parametrize(
    ("text_id", "field", "message"),
    [
        ("urn:lineage:gizmo:ns:name", "id", "unknown kind 'gizmo'"),
        ("urn:lineage:dataset:only-namespace", "id", "is not urn:lineage:"),
        ("urn:lineage:model_version:ns:name", "version", "needs a version"),
        ("urn:lineage:dataset:ns:name:v1", "version", "has no version"),
        ("urn:lineage:dataset::name", "namespace", "must not be empty"),
        ("table:ns:name", "id", "neither a urn:lineage: id nor a Marquez node id"),
    ],
)
def test_malformed_ids_name_the_field(text_id: str, field: str, message: str) -> None:
    with pytest.raises(InvalidKey) as caught:
        parse_key(text_id)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_an_edge_between_wrong_kinds_is_refused() -> None:
    builder = DeltaBuilder()
    dataset = NodeKey(Kind.DATASET, "ns", "a")
    with pytest.raises(InvalidDelta, match="a PRODUCED edge cannot start at a Dataset") as caught:
        builder.edge(dataset, EdgeType.PRODUCED, NodeKey(Kind.DATASET, "ns", "b"), T0)
    assert caught.value.field == "src"
    version = NodeKey(Kind.MODEL_VERSION, "ns", "m", "1")
    with pytest.raises(InvalidDelta, match="a ModelVersion is not a version of a Prompt"):
        builder.edge(version, EdgeType.VERSION_OF, NodeKey(Kind.PROMPT, "ns", "m"), T0)


def test_query_arguments_out_of_range_are_refused() -> None:
    start = NodeKey(Kind.DATASET, "ns", "a")
    with pytest.raises(InvalidQuery, match="maxHops: -1 is outside"):
        LineageQuery(start, max_hops=-1)
    with pytest.raises(InvalidQuery, match="limit"):
        LineageQuery(start, limit=-5)
    with pytest.raises(InvalidQuery, match="starts after it ends"):
        TimeWindow(since=10, until=5)
    with pytest.raises(InvalidQuery, match="either asOf or a since/until"):
        TimeWindow(as_of=1, since=0)
