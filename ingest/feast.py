"""A Feast registry into graph changes, through Feast's own OpenLineage mappers (``feast.openlineage``).

Feast maps its registry to OpenLineage itself: a ``feature_view_<name>`` job reads the view's data
sources and entities and writes the view (a ``feast_featureView`` facet), a ``feature_service_<name>``
job reads feature views and writes the service. Reading a repo here collects exactly those events
(with an in-process transport instead of HTTP) and ingests them through the OpenLineage path, so
a feature view has one key whether Feast emitted it live or it was read from the registry.

Feast emits registry definitions as COMPLETE runs with a fresh runId and the current time; here they
become JobEvents (design-time lineage, no run) at the object's ``last_updated_timestamp``, so an
unchanged registry reads back to the same text and journals nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ingest.naming import dataset_name

SOURCE = "feast"

Json = dict[str, Any]


def registry_events(repo: Path, namespace: str | None = None) -> list[str]:
    """Return the OpenLineage JobEvents of a Feast repo's registry (feature_store.yaml in ``repo``)."""
    from feast import FeatureStore  # feast is heavy (pandas, pyarrow): import it only when a repo is read
    from feast.openlineage import FeastOpenLineageClient, FeastOpenLineageEmitter, OpenLineageConfig
    from openlineage.client.serde import Serde

    store = FeatureStore(repo_path=str(repo))
    project = store.project
    collected: list[Any] = []

    class Collecting(FeastOpenLineageClient):
        def emit(self, event: Any) -> bool:
            collected.append(event)
            return True

    config = OpenLineageConfig(enabled=True, transport_type="console", namespace=namespace or "feast")
    emitter = FeastOpenLineageEmitter(config, client=Collecting(config))
    emitter.emit_registry_lineage(store.registry, project, allow_cache=False)
    updated = _updated_times(store, project)
    fallback = max(updated.values(), default=datetime.fromtimestamp(0, UTC))
    events = []
    for event in collected:
        doc: Json = orjson.loads(Serde.to_json(event))
        if "run" in doc and "job" in doc:  # a definition, not a run: keep job, inputs and outputs
            doc.pop("run")
            doc.pop("eventType", None)
        doc["eventTime"] = updated.get(_object_name(doc), fallback).isoformat()
        for dataset in doc.get("inputs") or []:
            _link_physical(dataset)
        events.append(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode())
    return events


def _updated_times(store: Any, project: str) -> dict[str, datetime]:
    """Return when each feature view and service was last applied (the registry keeps it)."""
    times: dict[str, datetime] = {}
    objects = [
        *store.registry.list_all_feature_views(project=project, allow_cache=False),
        *store.registry.list_feature_services(project=project, allow_cache=False),
    ]
    for obj in objects:
        stamp = getattr(obj, "last_updated_timestamp", None) or getattr(obj, "created_timestamp", None)
        if isinstance(stamp, datetime):
            times[obj.name] = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return times


def _object_name(doc: Json) -> str:
    """Return the name of the registry object an event describes (from Feast's own facets)."""
    facets = (doc.get("job") or {}).get("facets") or {}
    for facet in ("feast_featureView", "feast_featureService"):
        if isinstance(facets.get(facet), dict) and facets[facet].get("name"):
            return str(facets[facet]["name"])
    for output in doc.get("outputs") or []:
        view = ((output or {}).get("facets") or {}).get("feast_featureView") or {}
        if view.get("name"):
            return str(view["name"])
    return ""


def _link_physical(dataset: Json) -> None:
    """Name a data source's table or file as OpenLineage does (a symlink), so lineage from its producers joins."""
    facets = dataset.setdefault("facets", {})
    uri = str((facets.get("dataSource") or {}).get("uri") or "")
    if not uri or uri.split("://", 1)[0] in ("table", "query", "feast"):
        return
    namespace, name = dataset_name(uri)
    link = {"namespace": namespace, "name": name, "type": "TABLE"}
    facets["symlinks"] = {"identifiers": [*((facets.get("symlinks") or {}).get("identifiers") or []), link]}
