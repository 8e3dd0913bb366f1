"""MLflow snapshot records: any JSON is graph changes or a refusal naming a JSON pointer, never a crash."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.errors import InvalidInput
from ingest import mlflow
from ingest.intake import canonical_json
from tests import json_fuzz

# What the webhook journals for a model_version.created delivery (the shape the REST reader writes).
SNAPSHOT: dict[str, Any] = {
    "namespace": "mlflow://registry:5000",
    "feast_project": "churn_repo",
    "delivery": {
        "id": "51e86251-0489-4872-89c7-d46df5956dc9",
        "entity": "model_version",
        "action": "created",
        "timestamp": "2026-11-22T22:14:28.160910+00:00",
        "data": {"name": "churn_model", "version": "1", "source": "models:/m-40b9", "run_id": None},
    },
    "models": [
        {
            "name": "churn_model",
            "is_prompt": False,
            "creation_timestamp": 1795385668067,
            "last_updated_timestamp": 1795385668160,
            "description": "",
            "tags": {},
            "aliases": {"champion": "1"},
            "versions": [
                {
                    "version": "1",
                    "creation_timestamp": 1795385668160,
                    "last_updated_timestamp": 1795385668160,
                    "description": None,
                    "source": "models:/m-40b9",
                    "status": "READY",
                    "run_id": "8c68",
                    "tags": {"team": "risk", "feast.feature_service": "churn_features"},
                    "logged_model": {
                        "model_id": "m-40b9",
                        "tags": {"mlflow.linkedPrompts": '[{"name": "p", "version": "2"}]'},
                    },
                    "run": {
                        "info": {
                            "run_id": "8c68",
                            "experiment_id": "1",
                            "status": "FINISHED",
                            "start_time": 1795385660000,
                        },
                        "data": {"tags": {}},
                        "inputs": {
                            "dataset_inputs": [
                                {
                                    "tags": [{"key": "mlflow.data.context", "value": "training"}],
                                    "dataset": {
                                        "name": "churn_training",
                                        "digest": "ad126910",
                                        "source_type": "s3",
                                        "source": '{"uri": "s3://lake/features/churn_training.parquet"}',
                                    },
                                }
                            ]
                        },
                    },
                }
            ],
        }
    ],
}
json_values = json_fuzz.json_values()


def _parse(value: Any) -> None:
    try:
        mlflow.to_delta(canonical_json(json.dumps(value)))
    except InvalidInput as e:
        assert str(e).startswith("/"), e


def test_a_real_snapshot_maps_training_data_run_version_model_and_feature_service() -> None:
    delta = mlflow.to_delta(canonical_json(json.dumps(SNAPSHOT)))
    edges = {(e.ref.src.urn.split(":")[2], e.ref.type.value, e.ref.dst.urn.split(":")[2]) for e in delta.edges}
    assert {
        ("dataset", "INPUT_OF", "run"),
        ("run", "RUN_OF", "job"),
        ("run", "PRODUCED", "model_version"),
        ("model_version", "VERSION_OF", "model"),
        ("feature_service", "DERIVES", "model_version"),
        ("prompt_version", "DERIVES", "model_version"),
    } <= edges
    dataset = next(e.ref.src for e in delta.edges if e.ref.src.kind.value == "Dataset")
    assert (dataset.namespace, dataset.name) == ("s3://lake", "features/churn_training.parquet")


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_any_json_is_a_delta_or_a_pointed_refusal(value: Any) -> None:
    _parse(value)


@settings(max_examples=400, deadline=None)
@given(path=st.sampled_from(json_fuzz.paths(SNAPSHOT)[1:]), value=json_values)
def test_a_real_snapshot_with_any_part_replaced_is_a_delta_or_a_pointed_refusal(
    path: tuple[Any, ...], value: Any
) -> None:
    doc = orjson.loads(orjson.dumps(SNAPSHOT))
    target = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    _parse(doc)
