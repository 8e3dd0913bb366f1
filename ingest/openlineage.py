"""OpenLineage 2-0-2 events (RunEvent, DatasetEvent, JobEvent) into graph changes.

The event kind is decided by structure, never by ``schemaURL``: ``run`` + ``job`` is a
RunEvent, ``dataset`` a DatasetEvent, ``job`` alone a JobEvent. What real producers send is
accepted (runIds that are not UUIDs, times without a zone or with nanoseconds, no producer,
old schema URLs); what cannot be understood is refused with the JSON pointer of the problem.

Mapping (DESIGN.md, "The graph"):
- entity level: input dataset -INPUT_OF-> job -PRODUCED-> output dataset, aggregated over runs;
- run level: the run RUN_OF its job; an input is used at the version its ``version`` facet
  names (else the dataset itself, which trace-back resolves to the version live at the time);
  a COMPLETE run PRODUCED a new version of each output (its ``version`` facet, else the runId);
- the run's ``state`` is the event type; terminal events (COMPLETE, FAIL, ABORT) win over
  any START or RUNNING whatever their arrival order (priority 1 in the node merge);
- facets: ``schema`` -> columns PART_OF the dataset; ``columnLineage`` -> column DERIVES column
  with the transformation; ``lineage`` (explicit lineage) -> dataset/column DERIVES edges;
  ``symlinks`` -> SYMLINK; ``parent`` -> run CHILD_OF its parent run; ``lifecycleStateChange``
  DROP closes the dataset, RENAME closes the old name and links the new one to it (TRUNCATE and
  OVERWRITE are kept as the facet only); every facet, known or custom, is kept raw as
  ``facets.<name>`` (a ``_deleted`` facet too: the latest statement wins);
- a dataset in a vector store (qdrant://, milvus://, ...) or whose ``datasetType`` says so is a
  VectorIndex, and its versions are index builds;
- Feast's own events: the output of a job with a ``feast_featureView`` facet is a FeatureView
  (its schema fields are Features), a job with ``feast_featureService`` reads feature views and
  writes a FeatureService.
"""

from __future__ import annotations

import re
from typing import Any

from graph.delta import DeltaBuilder, GraphDelta
from graph.edges import EdgeType
from graph.errors import InvalidInput
from graph.keys import Kind, NodeKey, column_key, entity_key_of
from graph.timestamps import parse_time, to_epoch
from ingest.fields import array, json_object, required_object, required_text

SOURCE = "openlineage"
TERMINAL = frozenset({"COMPLETE", "FAIL", "ABORT"})
VECTOR_STORES = frozenset({"qdrant", "milvus", "chroma", "pinecone", "weaviate", "lancedb", "vespa", "pgvector"})
_FRACTION = re.compile(r"(\.\d{6})\d+")  # Python keeps microseconds; producers send nanoseconds
# What the per-column loops name, looked up once: EnumType has a __getattr__, so reading
# ``EdgeType.PART_OF`` costs ten times a global, and an event names these hundreds of times.
_PART_OF, _DERIVES, _DATASET = EdgeType.PART_OF, EdgeType.DERIVES, Kind.DATASET

Json = dict[str, Any]


def to_delta(raw: str) -> GraphDelta:
    """Turn one OpenLineage event into graph changes; errors name the JSON pointer."""
    event = json_object(raw, "an OpenLineage event")
    builder = DeltaBuilder()
    t = _time(event)
    if "run" in event and "job" in event:
        _run_event(builder, event, t)
    elif "dataset" in event:
        _dataset(builder, required_object(event, "dataset", "/dataset"), "/dataset", t)
    elif "job" in event:
        _job_event(builder, event, t)
    else:
        msg = "/: neither a RunEvent (run and job), a DatasetEvent (dataset) nor a JobEvent (job)"
        raise InvalidInput(msg, field="/")
    return builder.build()


# -- events -----------------------------------------------------------------------------------


def _feast_kinds(job_doc: Json) -> tuple[Kind | None, Kind | None]:
    """Feast's own events (feast >= 0.50): a ``feature_view_<name>`` job writes the feature view,
    a ``feature_service_<name>`` job reads feature views and writes the service; each says so with
    its ``feast_featureView`` / ``feast_featureService`` job facet. Return (input kind, output kind)."""
    facets = job_doc.get("facets") or {}
    if "feast_featureService" in facets:
        return Kind.FEATURE_VIEW, Kind.FEATURE_SERVICE
    if "feast_featureView" in facets:
        return None, Kind.FEATURE_VIEW
    return None, None


def _run_event(builder: DeltaBuilder, event: Json, t: float) -> None:
    job_doc = required_object(event, "job", "/job")
    job = _job(builder, job_doc, "/job", t)
    in_kind, out_kind = _feast_kinds(job_doc)
    run_doc = required_object(event, "run", "/run")
    run = NodeKey(Kind.RUN, job.namespace, job.name, required_text(run_doc, "runId", "/run/runId"))
    state = event.get("eventType") or "OTHER"
    if not isinstance(state, str):
        msg = "/eventType: must be a string"
        raise InvalidInput(msg, field="/eventType")
    props: Json = {"state": state, "producer": event.get("producer")}
    if state == "START":
        props["started_at"] = event["eventTime"]
    if state in TERMINAL:
        props["ended_at"] = event["eventTime"]
    props.update(_facets(run_doc, "/run/facets"))
    builder.node(run, t, props, priority=1 if state in TERMINAL else 0)
    builder.edge(run, EdgeType.RUN_OF, job, t)
    _parent(builder, run, run_doc, t)
    for i, doc in enumerate(array(event, "inputs", "/inputs")):
        dataset = _dataset(builder, doc, f"/inputs/{i}", t, in_kind)
        builder.edge(dataset, EdgeType.INPUT_OF, job, t)
        version = _version(doc, dataset)
        if version is None:
            builder.edge(dataset, EdgeType.INPUT_OF, run, t)
        else:
            builder.edge(version, EdgeType.VERSION_OF, dataset, t)
            builder.edge(version, EdgeType.INPUT_OF, run, t)
    for i, doc in enumerate(array(event, "outputs", "/outputs")):
        dataset = _dataset(builder, doc, f"/outputs/{i}", t, out_kind)
        builder.edge(job, EdgeType.PRODUCED, dataset, t)
        if dataset.kind not in (Kind.DATASET, Kind.VECTOR_INDEX):  # feature views have no versions
            if state == "COMPLETE":
                builder.edge(run, EdgeType.PRODUCED, dataset, t)
        elif state == "COMPLETE":  # a failed or running write made no version yet
            version = _version(doc, dataset) or NodeKey(
                Kind.DATASET_VERSION, dataset.namespace, dataset.name, run.version
            )
            builder.node(version, t, {"run": run.urn})
            builder.edge(version, EdgeType.VERSION_OF, dataset, t)
            builder.edge(run, EdgeType.PRODUCED, version, t)


def _job_event(builder: DeltaBuilder, event: Json, t: float) -> None:
    """A JobEvent declares design-time lineage: entity level only."""
    job_doc = required_object(event, "job", "/job")
    job = _job(builder, job_doc, "/job", t)
    in_kind, out_kind = _feast_kinds(job_doc)
    for i, doc in enumerate(array(event, "inputs", "/inputs")):
        builder.edge(_dataset(builder, doc, f"/inputs/{i}", t, in_kind), EdgeType.INPUT_OF, job, t)
    for i, doc in enumerate(array(event, "outputs", "/outputs")):
        builder.edge(job, EdgeType.PRODUCED, _dataset(builder, doc, f"/outputs/{i}", t, out_kind), t)


# -- entities ---------------------------------------------------------------------------------


def _job(builder: DeltaBuilder, doc: Json, at: str, t: float) -> NodeKey:
    key = entity_key_of(
        Kind.JOB, required_text(doc, "namespace", f"{at}/namespace"), required_text(doc, "name", f"{at}/name")
    )
    builder.node(key, t, _facets(doc, f"{at}/facets"))
    lineage = (doc.get("facets") or {}).get("lineage")
    if isinstance(lineage, dict):
        for entry in lineage.get("entries") or []:
            if isinstance(entry, dict) and entry.get("type", "DATASET") == "DATASET" and "name" in entry:
                target = _dataset_key(entry, f"{at}/facets/lineage/entries", {})
                _explicit_lineage(builder, target, entry, t)
    return key


def _dataset(builder: DeltaBuilder, doc: Any, at: str, t: float, kind: Kind | None = None) -> NodeKey:
    if not isinstance(doc, dict):
        msg = f"{at}: a dataset is an object with namespace and name"
        raise InvalidInput(msg, field=at)
    facets = doc.get("facets") or {}
    if not isinstance(facets, dict):
        msg = f"{at}/facets: must be an object"
        raise InvalidInput(msg, field=f"{at}/facets")
    key = _dataset_key(doc, at, facets)
    if kind is not None:
        key = NodeKey(kind, key.namespace, key.name)
    props = _facets(doc, f"{at}/facets")
    for extra in ("inputFacets", "outputFacets"):
        if isinstance(doc.get(extra), dict):
            props.update({f"{extra}.{k}": _clean(v) for k, v in doc[extra].items()})
    builder.node(key, t, props)
    if key.kind is Kind.FEATURE_VIEW:
        _features(builder, key, facets.get("schema"), t)
    elif key.kind is not Kind.FEATURE_SERVICE:
        _schema(builder, key, facets.get("schema"), t)
    _column_lineage(builder, key, facets.get("columnLineage"), t)
    if isinstance(facets.get("lineage"), dict):
        _explicit_lineage(builder, key, facets["lineage"], t)
    for link in (facets.get("symlinks") or {}).get("identifiers") or []:
        if isinstance(link, dict) and link.get("namespace") and link.get("name"):
            other = NodeKey(key.kind, str(link["namespace"]), str(link["name"]))
            if other != key:
                builder.edge(key, EdgeType.SYMLINK, other, t, {"type": link.get("type")})
    _lifecycle(builder, key, facets.get("lifecycleStateChange"), t)
    return key


def _lifecycle(builder: DeltaBuilder, key: NodeKey, facet: Any, t: float) -> None:
    """DROP ends the dataset; RENAME ends the old name and links the new one to it (kept, never deleted)."""
    if not isinstance(facet, dict):
        return
    change = facet.get("lifecycleStateChange")
    if change == "DROP":
        builder.close(key, t, "dropped (lifecycleStateChange DROP)")
    previous = facet.get("previousIdentifier")
    if change == "RENAME" and isinstance(previous, dict) and previous.get("namespace") and previous.get("name"):
        old = NodeKey(key.kind, str(previous["namespace"]), str(previous["name"]))
        if old != key:
            builder.edge(key, EdgeType.SYMLINK, old, t, {"type": "RENAMED_FROM"})
            builder.close(old, t, f"renamed to {key.namespace}/{key.name}")


def _dataset_key(doc: Json, at: str, facets: Json) -> NodeKey:
    namespace = required_text(doc, "namespace", f"{at}/namespace")
    name = required_text(doc, "name", f"{at}/name")
    scheme = namespace.split("://", 1)[0].lower() if "://" in namespace else ""
    declared = str((facets.get("datasetType") or {}).get("datasetType") or "").lower()
    kind = Kind.VECTOR_INDEX if scheme in VECTOR_STORES or "vector" in declared else Kind.DATASET
    return entity_key_of(kind, namespace, name)


def _version(doc: Json, dataset: NodeKey) -> NodeKey | None:
    version = ((doc.get("facets") or {}).get("version") or {}).get("datasetVersion")
    if version in (None, ""):
        return None
    return NodeKey(Kind.DATASET_VERSION, dataset.namespace, dataset.name, str(version))


def _parent(builder: DeltaBuilder, run: NodeKey, run_doc: Json, t: float) -> None:
    parent = (run_doc.get("facets") or {}).get("parent")
    if not isinstance(parent, dict):
        return
    job, prun = parent.get("job") or {}, parent.get("run") or {}
    if job.get("namespace") and job.get("name") and prun.get("runId"):
        parent_job = NodeKey(Kind.JOB, str(job["namespace"]), str(job["name"]))
        parent_run = NodeKey(Kind.RUN, parent_job.namespace, parent_job.name, str(prun["runId"]))
        if parent_run != run:
            builder.edge(run, EdgeType.CHILD_OF, parent_run, t)
            builder.edge(parent_run, EdgeType.RUN_OF, parent_job, t)


# -- dataset facets ---------------------------------------------------------------------------


def _schema(builder: DeltaBuilder, dataset: NodeKey, facet: Any, t: float) -> None:
    if not isinstance(facet, dict):
        return
    for field in facet.get("fields") or []:
        if isinstance(field, dict) and field.get("name"):
            column = builder.node(column_key(dataset, str(field["name"])), t, _field_props(field))
            builder.edge(column, _PART_OF, dataset, t)


def _features(builder: DeltaBuilder, view: NodeKey, facet: Any, t: float) -> None:
    """A feature view's schema lists its features: ``<view>:<feature>``, as the Feast registry reader names them."""
    if not isinstance(facet, dict):
        return
    for field in facet.get("fields") or []:
        if isinstance(field, dict) and field.get("name"):
            key = NodeKey(Kind.FEATURE, view.namespace, f"{view.name}:{field['name']}")
            feature = builder.node(key, t, _field_props(field))
            builder.edge(feature, _PART_OF, view, t)


def _field_props(field: Json) -> Json:
    """Return the type and description of a schema field, those it has."""
    props = {}
    if (kind := field.get("type")) is not None:
        props["type"] = kind
    if (text := field.get("description")) is not None:
        props["description"] = text
    return props


def _column_lineage(builder: DeltaBuilder, dataset: NodeKey, facet: Any, t: float) -> None:
    if not isinstance(facet, dict):
        return
    for out_name, spec in (facet.get("fields") or {}).items():
        if not isinstance(spec, dict):
            continue
        target = column_key(dataset, out_name)
        builder.edge(target, _PART_OF, dataset, t)
        legacy = {"type": spec.get("transformationType"), "description": spec.get("transformationDescription")}
        for source in spec.get("inputFields") or []:
            _field_edge(builder, source, target, t, legacy)
    for source in facet.get("dataset") or []:  # indirect: the field affects the whole dataset
        _field_edge(builder, source, dataset, t, {})


def _explicit_lineage(builder: DeltaBuilder, target: NodeKey, facet: Json, t: float) -> None:
    """The LineageFacet names which sources feed a dataset: edges from those, not every input to every output."""
    for source in facet.get("inputs") or []:
        if isinstance(source, dict) and source.get("type", "DATASET") == "DATASET" and source.get("name"):
            if source.get("field"):
                _field_edge(builder, source, target, t, {})
            else:
                other = NodeKey(Kind.DATASET, str(source.get("namespace", "")), str(source["name"]))
                if other != target:
                    builder.edge(other, _DERIVES, target, t, {"explicit": True})
    for out_name, spec in (facet.get("fields") or {}).items():
        column = column_key(target, out_name)
        builder.edge(column, _PART_OF, target, t)
        for source in (spec or {}).get("inputs") or []:
            if isinstance(source, dict) and source.get("field"):
                _field_edge(builder, source, column, t, {})


def _field_edge(builder: DeltaBuilder, source: Any, target: NodeKey, t: float, legacy: Json) -> None:
    if not isinstance(source, dict) or not source.get("namespace") or not source.get("name") or not source.get("field"):
        return
    dataset = entity_key_of(_DATASET, str(source["namespace"]), str(source["name"]))
    column = column_key(dataset, str(source["field"]))
    if column.urn == target.urn:
        return
    builder.edge(column, _PART_OF, dataset, t)
    given = source.get("transformations")
    transformations = [_clean(x) for x in given if isinstance(x, dict)] if given else []
    props: Json = {"transformations": transformations} if transformations else {}
    if transformations:
        first = transformations[0]
        props["transformation"] = "/".join(str(first[k]) for k in ("type", "subtype") if first.get(k))
    elif legacy.get("type"):
        props["transformation"] = legacy["type"]
    if legacy.get("description"):
        props["description"] = legacy["description"]
    builder.edge(column, _DERIVES, target, t, props)


# -- values -----------------------------------------------------------------------------------


def _facets(doc: Json, at: str) -> Json:
    """Keep every facet raw, as ``facets.<name>`` (without the _producer/_schemaURL noise)."""
    facets = doc.get("facets")
    if facets is None:
        return {}
    if not isinstance(facets, dict):
        msg = f"{at}: must be an object"
        raise InvalidInput(msg, field=at)
    return {f"facets.{name}": _clean(value) for name, value in facets.items()}


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in ("_producer", "_schemaURL")}
    return value


def _time(event: Json) -> float:
    """Return the event time as epoch seconds: converted once, used by every element of the event."""
    text = event.get("eventTime")
    if not isinstance(text, str) or not text:
        msg = "/eventTime: required, an ISO 8601 time"
        raise InvalidInput(msg, field="/eventTime")
    return to_epoch(parse_time(_FRACTION.sub(r"\1", text), field="/eventTime", assume_utc=True), field="/eventTime")
