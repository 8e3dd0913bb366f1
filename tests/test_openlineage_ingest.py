"""OpenLineage events from real producers' test suites, and the Marquez food-delivery estate."""

from __future__ import annotations

import random
import re
import uuid
from pathlib import Path

import orjson
import pytest

from graph.keys import Kind, NodeKey, column_key
from graph.query import Direction, LineageQuery
from graph.store import LineageStore
from ingest.intake import canonical_json, intake
from ingest.openlineage import to_delta
from tests.corpus import CORPUS
from tests.snapshots import snapshot

ACCEPTED = "accepted"
# Every event file of the corpus, and what a lenient but exact consumer must make of it.
EXPECTED = {
    "marquez/api/src/test/resources/apples/1_pick_apples.json": ACCEPTED,
    "marquez/api/src/test/resources/apples/2_apple_filling.json": ACCEPTED,
    "marquez/api/src/test/resources/apples/3_apple_cider.json": ACCEPTED,
    "marquez/api/src/test/resources/apples/5_apple_vinegar.json": ACCEPTED,
    "marquez/api/src/test/resources/apples/6_apple_pie.json": ACCEPTED,
    "marquez/api/src/test/resources/apples/7_pick_different_apples.json": ACCEPTED,
    "marquez/api/src/test/resources/apples/8_apple_filling.json": ACCEPTED,
    "marquez/api/src/test/resources/apples/9_apple_pie.json": ACCEPTED,
    "marquez/api/src/test/resources/open_lineage/event_additional_facet.json": ACCEPTED,
    "marquez/api/src/test/resources/open_lineage/event_dataset_event.json": ACCEPTED,  # a DatasetEvent
    "marquez/api/src/test/resources/open_lineage/event_full.json": ACCEPTED,
    "marquez/api/src/test/resources/open_lineage/event_job_event.json": ACCEPTED,  # a JobEvent
    "marquez/api/src/test/resources/open_lineage/event_large.json": ACCEPTED,  # 220 KB
    "marquez/api/src/test/resources/open_lineage/event_namespace_naming.json": ACCEPTED,
    "marquez/api/src/test/resources/open_lineage/event_required_nanoseconds.json": ACCEPTED,
    "marquez/api/src/test/resources/open_lineage/event_required_no_timezone.json": ACCEPTED,  # taken as UTC
    "marquez/api/src/test/resources/open_lineage/event_required_only.json": ACCEPTED,
    "marquez/api/src/test/resources/open_lineage/event_simple.json": ACCEPTED,
    "marquez/api/src/test/resources/open_lineage/event_unicode.json": ACCEPTED,
    "marquez/api/src/test/resources/open_lineage/event_without_schema_url.json": ACCEPTED,
    "marquez/api/src/test/resources/open_lineage/listener/1.json": ACCEPTED,
    "marquez/api/src/test/resources/open_lineage/listener/2.json": ACCEPTED,
    "marquez/api/src/test/resources/open_lineage/null_nominal_end_time.json": ACCEPTED,
    "openlineage/client/python/tests/example_full_event.json": ACCEPTED,
    "openlineage/client/python/tests/serde_example_dataset_event.json": ACCEPTED,
    "openlineage/client/python/tests/serde_example_job_event.json": ACCEPTED,
    "openlineage/client/python/tests/serde_example_run_event.json": ACCEPTED,
    # a NominalTimeRunFacet on its own, not an event
    "openlineage/client/python/tests/nominal_time_without_end.json": "/eventTime: required, an ISO 8601 time",
    "openlineage/proxy/fluentd/events/event_full.json": ACCEPTED,
    "openlineage/proxy/fluentd/events/event_simple.json": ACCEPTED,
    # the proxy refuses these for facets missing _producer/_schemaURL: the lineage is still sound
    "openlineage/proxy/fluentd/events/event_invalid_dataset_facet.json": ACCEPTED,
    "openlineage/proxy/fluentd/events/event_invalid_input_dataset_facet.json": ACCEPTED,
    "openlineage/proxy/fluentd/events/event_invalid_job_facet.json": ACCEPTED,
    "openlineage/proxy/fluentd/events/event_invalid_output_dataset_facet.json": ACCEPTED,
    "openlineage/proxy/fluentd/events/event_invalid_run_facet.json": ACCEPTED,
    "openlineage/proxy/fluentd/events/event_no_run_id.json": "/run/runId: required, a non-empty string",
    "openlineage/spec/tests/example_full_event.json": ACCEPTED,
}


def _outcome(path: Path) -> str:
    try:
        to_delta(canonical_json(path.read_text()))
    except Exception as e:
        return str(e)
    return ACCEPTED


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_corpus_event_is_accepted_or_refused_for_its_reason(relative: str) -> None:
    assert _outcome(CORPUS / relative) == EXPECTED[relative]


def test_every_event_file_of_the_corpus_is_covered() -> None:
    found = {
        str(p.relative_to(CORPUS))
        for folder in ("marquez/api", "openlineage/client", "openlineage/proxy")
        for p in (CORPUS / folder).rglob("*.json")
    }
    assert found | {"openlineage/spec/tests/example_full_event.json"} == set(EXPECTED)


def food_delivery() -> list[str]:
    """Marquez's 26 seed events, with their time templates filled in (minutes after a start)."""
    text = (CORPUS / "marquez/docker/metadata.template.json").read_text()
    text = text.replace("{{RUN_START_TIME}}", "2026-11-20T10:00:00Z")
    text = re.sub(
        r"\{\{RUN_END_TIME_AFTER_(\d+)_MINUTES\}\}", lambda m: f"2026-11-20T10:{int(m.group(1)):02d}:00Z", text
    )
    return [orjson.dumps(e).decode() for e in orjson.loads(text)]


def fd(kind: Kind, name: str) -> str:
    return NodeKey(kind, "food_delivery", name).urn


async def test_food_delivery_upstream_downstream_and_columns(store: LineageStore) -> None:
    report = await intake(store, "openlineage", food_delivery())
    assert report.count("accepted") == 26
    entities = frozenset({Kind.DATASET, Kind.JOB})
    up = await store.lineage(
        LineageQuery(NodeKey(Kind.DATASET, "food_delivery", "public.delivery_7_days"), kinds=entities)
    )
    assert up.urns() == {
        fd(Kind.DATASET, f"public.{name}")
        for name in ("delivery_7_days", "orders_7_days", "customers", "order_status", "drivers", "restaurants",
                     "menus", "menu_items", "orders", "categories")
    } | {
        fd(Kind.JOB, name)
        for name in ("etl_delivery_7_days", "etl_orders_7_days", "etl_customers", "etl_order_status", "etl_drivers",
                     "etl_restaurants", "etl_menus", "etl_menu_items", "etl_orders", "etl_categories")
    }  # fmt: skip
    down = await store.lineage(
        LineageQuery(NodeKey(Kind.DATASET, "food_delivery", "public.customers"), Direction.DOWNSTREAM, kinds=entities)
    )
    assert down.urns() == {
        fd(Kind.DATASET, "public.customers"),
        fd(Kind.JOB, "etl_delivery_7_days"), fd(Kind.DATASET, "public.delivery_7_days"),
        fd(Kind.JOB, "delivery_times_7_days"), fd(Kind.DATASET, "public.top_delivery_times"),
        fd(Kind.DATASET, "public.discounts"), fd(Kind.JOB, "orders_popular_day_of_week"),
        fd(Kind.DATASET, "public.popular_orders_day_of_week"), fd(Kind.JOB, "email_discounts"),
    }  # fmt: skip
    orders_7_days = NodeKey(Kind.DATASET, "food_delivery", "public.orders_7_days")
    menu_id = column_key(orders_7_days, "menu_id")
    columns = await store.lineage(LineageQuery(menu_id, kinds=frozenset({Kind.COLUMN})))
    assert columns.urns() == {
        menu_id.urn,
        column_key(NodeKey(Kind.DATASET, "food_delivery", "public.menus"), "id").urn,
        column_key(NodeKey(Kind.DATASET, "food_delivery", "public.categories"), "menu_id").urn,
    }


async def test_a_late_start_does_not_reopen_a_completed_run(store: LineageStore) -> None:
    def event(kind: str, minute: int) -> str:
        body = {
            "eventType": kind, "eventTime": f"2026-11-20T10:{minute:02d}:00Z", "producer": "test",
            "run": {"runId": "not-a-uuid-42"}, "job": {"namespace": "spark://cluster", "name": "nightly"},
        }  # fmt: skip
        return orjson.dumps(body).decode()

    await intake(store, "openlineage", [event("COMPLETE", 30)])
    await intake(store, "openlineage", [event("START", 0)])
    run = NodeKey(Kind.RUN, "spark://cluster", "nightly", "not-a-uuid-42").urn
    record = (await store.get([run]))[run]
    assert record.properties["state"] == "COMPLETE"
    assert record.properties["started_at"] == "2026-11-20T10:00:00Z"
    assert record.properties["ended_at"] == "2026-11-20T10:30:00Z"


async def test_the_same_events_twice_or_shuffled_give_the_same_graph(new_store: object) -> None:
    events = food_delivery()
    shuffled = events[:]
    random.Random(3).shuffle(shuffled)
    snaps = []
    for inputs in (events, shuffled + events[:10]):
        store = await new_store()  # type: ignore[operator]
        await intake(store, "openlineage", inputs)
        snaps.append(await snapshot(store))
        await store.close()
    assert snaps[0] == snaps[1]


def feast_apply_events() -> list[str]:
    """What `feast apply` emits (feast's OpenLineage mappers): one job per feature view and service."""

    def event(job: str, facet: str, inputs: list[dict[str, object]], outputs: list[dict[str, object]]) -> str:
        body = {
            "eventType": "COMPLETE", "eventTime": "2026-11-20T09:00:00Z", "producer": "feast",
            "run": {"runId": str(uuid.uuid5(uuid.NAMESPACE_URL, job))},
            "job": {"namespace": "feast", "name": job, "facets": {facet: {"name": job}}},
            "inputs": inputs, "outputs": outputs,
        }  # fmt: skip
        return orjson.dumps(body).decode()

    schema = {"schema": {"fields": [{"name": "conv_rate", "type": "Float32"}, {"name": "trips", "type": "Int64"}]}}
    view = event(
        "feature_view_driver_hourly_stats",
        "feast_featureView",
        [{"namespace": "feast", "name": "driver_stats_source"}, {"namespace": "feast", "name": "driver"}],
        [{"namespace": "feast", "name": "driver_hourly_stats", "facets": schema}],
    )
    service = event(
        "feature_service_driver_activity",
        "feast_featureService",
        [{"namespace": "feast", "name": "driver_hourly_stats", "facets": schema}],
        [{"namespace": "feast", "name": "driver_activity"}],
    )
    return [view, service]


async def test_feast_events_make_feature_views_features_and_services(store: LineageStore) -> None:
    report = await intake(store, "openlineage", feast_apply_events())
    assert report.count("accepted") == 2
    source = NodeKey(Kind.DATASET, "feast", "driver_stats_source")
    down = await store.lineage(LineageQuery(source, Direction.DOWNSTREAM))
    assert {n.record.key for n in down.nodes if n.record.kind in (Kind.FEATURE_VIEW, Kind.FEATURE_SERVICE)} == {
        NodeKey(Kind.FEATURE_VIEW, "feast", "driver_hourly_stats"),
        NodeKey(Kind.FEATURE_SERVICE, "feast", "driver_activity"),
    }
    nodes, edges = await store.export()
    features = {n.key.name for n in nodes if n.kind is Kind.FEATURE}
    assert features == {"driver_hourly_stats:conv_rate", "driver_hourly_stats:trips"}
    view = NodeKey(Kind.FEATURE_VIEW, "feast", "driver_hourly_stats").urn
    assert {e.src for e in edges if e.type.value == "PART_OF" and e.dst == view} == {
        NodeKey(Kind.FEATURE, "feast", f"driver_hourly_stats:{f}").urn for f in ("conv_rate", "trips")
    }


async def test_drop_and_rename_close_validity_and_keep_history(store: LineageStore) -> None:
    def dataset_event(name: str, minute: int, change: dict[str, object] | None) -> str:
        facets = {"lifecycleStateChange": change} if change else {}
        body = {
            "eventTime": f"2026-11-20T10:{minute:02d}:00Z", "producer": "test",
            "dataset": {"namespace": "postgres://db:5432", "name": name, "facets": facets},
        }  # fmt: skip
        return orjson.dumps(body).decode()

    previous = {"namespace": "postgres://db:5432", "name": "shop.orders_old"}
    events = [
        dataset_event("shop.orders_old", 0, None),
        dataset_event("shop.orders", 10, {"lifecycleStateChange": "RENAME", "previousIdentifier": previous}),
        dataset_event("shop.temp", 0, None),
        dataset_event("shop.temp", 20, {"lifecycleStateChange": "DROP"}),
    ]
    assert (await intake(store, "openlineage", events)).count("accepted") == 4
    urn = {n: NodeKey(Kind.DATASET, "postgres://db:5432", f"shop.{n}").urn for n in ("orders_old", "orders", "temp")}
    nodes = {n.urn: n for n in (await store.export())[0]}
    minute = 60.0
    t0 = nodes[urn["temp"]].first_seen
    assert nodes[urn["temp"]].valid_at(t0 + 5 * minute) and not nodes[urn["temp"]].valid_at(t0 + 25 * minute)
    assert nodes[urn["orders_old"]].valid_at(t0 + 5 * minute) and not nodes[urn["orders_old"]].valid_at(
        t0 + 15 * minute
    )
    _, edges = await store.export()
    assert {(e.src, e.dst) for e in edges if e.type.value == "SYMLINK"} == {(urn["orders"], urn["orders_old"])}
