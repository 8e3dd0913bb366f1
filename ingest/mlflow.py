"""MLflow registry snapshots (models, prompts, their runs and datasets) into graph changes.

A journal record of this source is what the service read from MLflow's REST API, whole, so a
replay re-derives the same graph without calling MLflow (ingest/mlflow_rest.py reads it):

    {"namespace": "mlflow://host:5000", "feast_project": "...",
     "delivery": {"id", "entity", "action", "timestamp", "data"},   # a webhook delivery, if any
     "models": [{"name", "is_prompt", "creation_timestamp", "last_updated_timestamp", "description",
                 "tags": {}, "aliases": {alias: version},
                 "versions": [{"version", "creation_timestamp", "last_updated_timestamp",
                               "description", "source", "run_id", "status", "tags": {},
                               "logged_model": {...} | null, "run": {...} | null}]}],
     "alias_moves": [{"kind", "name", "aliases", "removed", "versions"}],  # a reconcile saw aliases
     "observed_at": ms,                                                     # move with no webhook
     "gone": [{"kind": "Model"|"ModelVersion"|"Prompt"|"PromptVersion", "name", "version"?}],
     "gone_at": ms}

Mapping (DESIGN.md, "The graph"): each run dataset input (its source as an OpenLineage
dataset name, so the table an OpenLineage job wrote is the same node) is INPUT_OF the training
``Run`` (RUN_OF the experiment's ``Job``); the run PRODUCED the ``ModelVersion`` (its logged
model ``models:/m-<id>`` is kept on the version), VERSION_OF its ``Model``. Aliases are ALIAS
edges opened at the alias event's time and closed when the alias moves or is deleted, so as-of
questions see where an alias pointed. Prompts are ``Prompt``/``PromptVersion`` (template, its
sha256, variables, commit message). ``mlflow.linkedPrompts`` tags on runs and logged models link
prompt versions in; ``feast.feature_service`` tags join Feast feature services to versions.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

import orjson

from graph.delta import DeltaBuilder, EdgeRef, GraphDelta
from graph.edges import EdgeType
from graph.errors import InvalidInput
from graph.keys import Kind, NodeKey
from graph.timestamps import iso, parse_time
from ingest.fields import array, json_object, required_text
from ingest.naming import dataset_name

SOURCE = "mlflow"
#: A marker journaled with each webhook delivery, so a retry of it is recognised by its id alone.
DELIVERY_SOURCE = "mlflow.delivery"
PROMPT_TAG = "mlflow.prompt.is_prompt"
PROMPT_TEXT_TAG = "mlflow.prompt.text"
LINKED_PROMPTS_TAG = "mlflow.linkedPrompts"
FEATURE_SERVICE_TAG = "feast.feature_service"
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")
_RUN_STATES = {"FINISHED": "COMPLETE", "FAILED": "FAIL", "KILLED": "ABORT", "RUNNING": "RUNNING"}
_YEAR_9999_MS = 253_402_300_799_000
_ALIAS_ENTITIES = {"model_version_alias": Kind.MODEL, "prompt_alias": Kind.PROMPT}

Json = dict[str, Any]


def namespace_of(tracking_uri: str) -> str:
    """Return the graph namespace of an MLflow tracking server: ``mlflow://<host[:port]>``."""
    parts = urlsplit(tracking_uri)
    host = parts.netloc or parts.path.strip("/") or "localhost"
    return f"mlflow://{host}"


def dataset_key(source_type: str, source: Any) -> NodeKey | None:
    """Return the OpenLineage-named dataset an MLflow dataset source points at, if it names one.

    A URI or path is named as ingest/naming.py says; a Delta or Unity Catalog table is
    (``<source type>``, its table name).
    """
    if isinstance(source, str):
        try:
            source = orjson.loads(source)
        except orjson.JSONDecodeError:
            source = {"uri": source}
    if not isinstance(source, dict):
        return None
    for field in ("uri", "url", "path", "location"):
        value = source.get(field)
        if isinstance(value, str) and value:
            return _uri_key(value)
    for field in ("delta_table_name", "table_name", "table"):
        value = source.get(field)
        if isinstance(value, str) and value:
            return NodeKey(Kind.DATASET, source_type or "table", value)
    return None


def _uri_key(uri: str) -> NodeKey | None:
    try:
        namespace, name = dataset_name(uri)
    except ValueError:  # not a URI after all (an unclosed IPv6 bracket, say)
        return None
    return NodeKey(Kind.DATASET, namespace, name) if namespace and name else None


def template_variables(template: str) -> list[str]:
    """Return the ``{{ variable }}`` names of a prompt template, in first-use order."""
    return list(dict.fromkeys(_VARIABLE.findall(template)))


def to_delta(raw: str) -> GraphDelta:
    """Turn one MLflow snapshot record into graph changes; errors name the JSON pointer."""
    try:
        return _to_delta(raw)
    except InvalidInput as e:
        if str(e).startswith("/"):
            raise
        msg = f"/: {e}"  # a key or an edge the values make impossible (an empty name, a loop)
        raise InvalidInput(msg, field="/") from e


def _to_delta(raw: str) -> GraphDelta:
    snapshot = json_object(raw, "an MLflow snapshot")
    at = ""
    ns = required_text(snapshot, "namespace", f"{at}/namespace")
    builder = DeltaBuilder()
    delivery = snapshot.get("delivery")
    for i, model in enumerate(array(snapshot, "models", f"{at}/models")):
        _model(builder, ns, snapshot, model, f"{at}/models/{i}")
    moves = array(snapshot, "alias_moves", f"{at}/alias_moves")
    if moves:
        observed = _ms(snapshot.get("observed_at"), f"{at}/observed_at")
        for i, move in enumerate(moves):
            _alias_moves(builder, ns, move, observed, f"{at}/alias_moves/{i}")
    if isinstance(delivery, dict):
        _alias_event(builder, ns, snapshot, delivery, f"{at}/delivery")
    gone_at = snapshot.get("gone_at")
    for i, gone in enumerate(array(snapshot, "gone", f"{at}/gone")):
        _gone(builder, ns, gone, _ms(gone_at, f"{at}/gone_at"), f"{at}/gone/{i}")
    return builder.build()


def delivery_marker(delivery_id: str) -> str:
    """Return the raw text of the marker that records a webhook delivery as handled."""
    return orjson.dumps({"delivery_id": delivery_id}).decode()


def marker_to_delta(raw: str) -> GraphDelta:
    """A delivery marker changes no graph: it only makes the delivery id known to the journal."""
    required_text(json_object(raw, "an MLflow snapshot"), "delivery_id", "/delivery_id")
    return GraphDelta()


# -- registry objects -------------------------------------------------------------------------


def _model(builder: DeltaBuilder, ns: str, snapshot: Json, doc: Any, at: str) -> None:
    if not isinstance(doc, dict):
        msg = f"{at}: a registered model is an object"
        raise InvalidInput(msg, field=at)
    name = required_text(doc, "name", f"{at}/name")
    is_prompt = bool(doc.get("is_prompt"))
    kind, version_kind = (Kind.PROMPT, Kind.PROMPT_VERSION) if is_prompt else (Kind.MODEL, Kind.MODEL_VERSION)
    entity = NodeKey(kind, ns, name)
    created = _ms(doc.get("creation_timestamp"), f"{at}/creation_timestamp")
    aliases = doc.get("aliases") or {}
    if not isinstance(aliases, dict):
        msg = f"{at}/aliases: must be an object of alias -> version"
        raise InvalidInput(msg, field=f"{at}/aliases")
    revision = _revision(doc, snapshot, at)
    props: Json = {
        "description": doc.get("description") or "",
        "tags": _public_tags(doc.get("tags"), f"{at}/tags"),
        "aliases": {str(k): str(v) for k, v in aliases.items()},
        "mlflow_created_at": created,
    }
    builder.node(entity, created, props, priority=revision)
    for j, version_doc in enumerate(array(doc, "versions", f"{at}/versions")):
        _version(builder, ns, snapshot, entity, version_kind, version_doc, f"{at}/versions/{j}")


def _version(builder: DeltaBuilder, ns: str, snapshot: Json, entity: NodeKey, kind: Kind, doc: Any, at: str) -> str:
    if not isinstance(doc, dict):
        msg = f"{at}: a version is an object"
        raise InvalidInput(msg, field=at)
    number = str(doc.get("version") or "")
    if not number:
        msg = f"{at}/version: required"
        raise InvalidInput(msg, field=f"{at}/version")
    key = NodeKey(kind, ns, entity.name, number)
    created = _ms(doc.get("creation_timestamp"), f"{at}/creation_timestamp")
    tags = _tags(doc.get("tags"), f"{at}/tags")
    props: Json = {
        "description": doc.get("description") or "",
        "status": doc.get("status"),
        "tags": _public(tags),
        "mlflow_created_at": created,
    }
    if kind is Kind.PROMPT_VERSION:
        template = tags.get(PROMPT_TEXT_TAG, "")
        props.update(
            template=template,
            template_hash="sha256:" + hashlib.sha256(template.encode()).hexdigest(),
            variables=template_variables(template),
            commit_message=doc.get("description") or "",
        )
    else:
        props["source"] = doc.get("source")
    logged = doc.get("logged_model")
    if isinstance(logged, dict):
        props["logged_model"] = {k: logged.get(k) for k in ("model_id", "name", "status", "model_type", "artifact_uri")}
    builder.node(key, created, props, priority=_revision(doc, snapshot, at))
    builder.edge(key, EdgeType.VERSION_OF, entity, created)
    run = doc.get("run")
    if isinstance(run, dict):
        run_key = _run(builder, ns, snapshot, run, f"{at}/run")
        builder.edge(run_key, EdgeType.PRODUCED, key, created)
        builder.edge(NodeKey(Kind.JOB, run_key.namespace, run_key.name), EdgeType.PRODUCED, entity, created)
    if isinstance(logged, dict):
        logged_tags = _tags(logged.get("tags"), f"{at}/logged_model/tags")
        _linked_prompts(builder, ns, logged_tags, key, created, f"{at}/logged_model/tags")
    feature_service = _feature_service(tags.get(FEATURE_SERVICE_TAG, ""), snapshot)
    if feature_service is not None:
        builder.edge(feature_service, EdgeType.DERIVES, key, created, {"tag": FEATURE_SERVICE_TAG})
    return number


def _run(builder: DeltaBuilder, ns: str, snapshot: Json, doc: Json, at: str) -> NodeKey:
    info = _obj(doc.get("info"))
    run_id = required_text(info, "run_id", f"{at}/info/run_id")
    experiment = str(info.get("experiment_id") or "0")
    job = NodeKey(Kind.JOB, ns, f"experiments/{experiment}")
    run = NodeKey(Kind.RUN, ns, job.name, run_id)
    started = _ms(info.get("start_time"), f"{at}/info/start_time")
    status = str(info.get("status") or "")
    props: Json = {
        "run_name": info.get("run_name"),
        "status": status,
        "state": _RUN_STATES.get(status, status or "OTHER"),
        "started_at": iso(started),
        "tags": _public_tags(_obj(doc.get("data")).get("tags"), f"{at}/data/tags"),
    }
    ended = info.get("end_time")
    if ended:
        props["ended_at"] = iso(_ms(ended, f"{at}/info/end_time"))
    builder.node(run, started, props, priority=1 if status in ("FINISHED", "FAILED", "KILLED") else 0)
    builder.node(job, started, {"experiment_id": experiment})
    builder.edge(run, EdgeType.RUN_OF, job, started)
    for i, item in enumerate(_seq(_obj(doc.get("inputs")).get("dataset_inputs"))):
        item = _obj(item)
        dataset = _obj(item.get("dataset"))
        key = dataset_key(str(dataset.get("source_type") or ""), dataset.get("source"))
        if key is None:
            continue
        context = _tags(item.get("tags"), f"{at}/inputs/dataset_inputs/{i}/tags").get("mlflow.data.context")
        edge_props = {"digest": dataset.get("digest"), "mlflow_dataset": dataset.get("name"), "context": context}
        builder.edge(key, EdgeType.INPUT_OF, run, started, edge_props)
        builder.edge(key, EdgeType.INPUT_OF, job, started)
    run_tags = _tags(_obj(doc.get("data")).get("tags"), f"{at}/data/tags")
    _linked_prompts(builder, ns, run_tags, run, started, f"{at}/data/tags")
    return run


def _linked_prompts(builder: DeltaBuilder, ns: str, tags: dict[str, str], target: NodeKey, t: float, at: str) -> None:
    """``mlflow.linkedPrompts``: a JSON list of {name, version} prompt versions used by a run or model."""
    text = tags.get(LINKED_PROMPTS_TAG)
    if not text:
        return
    try:
        linked = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        msg = f"{at}/{LINKED_PROMPTS_TAG}: not JSON: {e}"
        raise InvalidInput(msg, field=f"{at}/{LINKED_PROMPTS_TAG}") from e
    for entry in linked if isinstance(linked, list) else []:
        if isinstance(entry, dict) and entry.get("name") and entry.get("version") not in (None, ""):
            prompt = NodeKey(Kind.PROMPT_VERSION, ns, str(entry["name"]), str(entry["version"]))
            builder.edge(prompt, EdgeType.VERSION_OF, NodeKey(Kind.PROMPT, ns, prompt.name), t)
            edge_type = EdgeType.INPUT_OF if target.kind is Kind.RUN else EdgeType.DERIVES
            builder.edge(prompt, edge_type, target, t, {"tag": LINKED_PROMPTS_TAG})


def _feature_service(value: str, snapshot: Json) -> NodeKey | None:
    """``<feast project>/<service>`` or ``<service>`` (the configured project): the key Feast's OpenLineage uses."""
    project, sep, name = value.strip().rpartition("/")
    if not sep:
        project = str(snapshot.get("feast_project") or "feast")
    return NodeKey(Kind.FEATURE_SERVICE, project, name) if project and name else None


# -- aliases and deletes ----------------------------------------------------------------------


def _move_alias(
    builder: DeltaBuilder, entity: NodeKey, kind: Kind, alias: str, target: str, versions: list[str], t: float
) -> None:
    """Open the alias on ``target`` at ``t`` and close it on every other version then (order-free)."""
    builder.edge(
        entity, EdgeType.ALIAS, NodeKey(kind, entity.namespace, entity.name, target), t, qualifier=alias, opens=True
    )
    for other in versions:
        if other != target:
            ref = EdgeRef(entity, EdgeType.ALIAS, NodeKey(kind, entity.namespace, entity.name, other), alias)
            builder.close(ref, t, f"alias {alias} moved to version {target}")


def _alias_moves(builder: DeltaBuilder, ns: str, doc: Any, t: float, at: str) -> None:
    """A reconcile saw aliases differ from the graph with no webhook for it: they moved when it looked."""
    if not isinstance(doc, dict):
        msg = f"{at}: must be an object"
        raise InvalidInput(msg, field=at)
    kind = Kind.parse(required_text(doc, "kind", f"{at}/kind"), field=f"{at}/kind")
    if kind not in (Kind.MODEL, Kind.PROMPT):
        msg = f"{at}/kind: aliases belong to a Model or a Prompt"
        raise InvalidInput(msg, field=f"{at}/kind")
    entity = NodeKey(kind, ns, required_text(doc, "name", f"{at}/name"))
    version_kind = Kind.PROMPT_VERSION if kind is Kind.PROMPT else Kind.MODEL_VERSION
    aliases = _obj(doc.get("aliases"))
    versions = [str(v) for v in array(doc, "versions", f"{at}/versions")]
    builder.node(entity, t, {"aliases": aliases}, priority=int(t * 1000))
    for alias, target in aliases.items():
        _move_alias(builder, entity, version_kind, str(alias), str(target), versions, t)
    for alias in array(doc, "removed", f"{at}/removed"):
        for number in versions:
            ref = EdgeRef(entity, EdgeType.ALIAS, NodeKey(version_kind, ns, entity.name, number), str(alias))
            builder.close(ref, t, f"alias {alias} deleted")


def _alias_event(builder: DeltaBuilder, ns: str, snapshot: Json, delivery: Json, at: str) -> None:
    entity_kind = _ALIAS_ENTITIES.get(str(delivery.get("entity")))
    if entity_kind is None:
        return
    data = delivery.get("data")
    if not isinstance(data, dict):
        msg = f"{at}/data: required, an object"
        raise InvalidInput(msg, field=f"{at}/data")
    name, alias = required_text(data, "name", f"{at}/data/name"), required_text(data, "alias", f"{at}/data/alias")
    version = str(data.get("version") or "")
    t = _event_time(delivery, at)
    entity = NodeKey(entity_kind, ns, name)
    kind = Kind.PROMPT_VERSION if entity_kind is Kind.PROMPT else Kind.MODEL_VERSION
    versions = [
        str(v.get("version"))
        for m in _seq(snapshot.get("models"))
        if isinstance(m, dict) and m.get("name") == name
        for v in _seq(m.get("versions"))
        if isinstance(v, dict)
    ]
    if delivery.get("action") == "created" and version:
        _move_alias(builder, entity, kind, alias, version, versions, t)
    elif delivery.get("action") == "deleted":
        targets = [version] if version else versions
        for target in targets:
            ref = EdgeRef(entity, EdgeType.ALIAS, NodeKey(kind, ns, name, target), alias)
            builder.close(ref, t, f"alias {alias} deleted")


def _gone(builder: DeltaBuilder, ns: str, doc: Any, t: float, at: str) -> None:
    if not isinstance(doc, dict):
        msg = f"{at}: must be an object"
        raise InvalidInput(msg, field=at)
    kind = Kind.parse(required_text(doc, "kind", f"{at}/kind"), field=f"{at}/kind")
    version = doc.get("version")
    key = NodeKey(kind, ns, required_text(doc, "name", f"{at}/name"), None if version is None else str(version))
    builder.close(key, t, "deleted from MLflow (seen gone by a reconcile)")


# -- values -----------------------------------------------------------------------------------


def _revision(doc: Json, snapshot: Json, at: str) -> int:
    """The merge priority of what a read says: its last update in ms, or the webhook's time if later.

    MLflow bumps ``last_updated_timestamp`` on most changes (not on tag deletes), so the newest
    statement wins whatever order records arrive or replay in.
    """
    revision = int(_ms(doc.get("last_updated_timestamp") or doc.get("creation_timestamp"), f"{at}") * 1000)
    delivery = snapshot.get("delivery")
    if isinstance(delivery, dict):
        revision = max(revision, int(_event_time(delivery, "/delivery") * 1000))
    return revision


def _event_time(delivery: Json, at: str) -> float:
    text = delivery.get("timestamp")
    if not isinstance(text, str):
        msg = f"{at}/timestamp: required, an ISO 8601 time"
        raise InvalidInput(msg, field=f"{at}/timestamp")
    return parse_time(text, field=f"{at}/timestamp", assume_utc=True).timestamp()


def _tags(value: Any, at: str) -> dict[str, str]:
    """Tags as MLflow's REST API sends them (a list of {key, value}) or already as a mapping."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(t["key"]): str(t.get("value", "")) for t in value if isinstance(t, dict) and "key" in t}
    msg = f"{at}: tags are a list of {{key, value}} or an object"
    raise InvalidInput(msg, field=at)


def _public(tags: dict[str, str]) -> dict[str, str]:
    """Drop MLflow's bookkeeping tags (``_mlflow_*``, the prompt text kept separately)."""
    return {k: v for k, v in tags.items() if not k.startswith("_mlflow") and k != PROMPT_TEXT_TAG}


def _public_tags(value: Any, at: str) -> dict[str, str]:
    return _public(_tags(value, at))


def _ms(value: Any, at: str) -> float:
    """Epoch milliseconds (as MLflow sends them) to epoch seconds."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < _YEAR_9999_MS:
        msg = f"{at}: required, epoch milliseconds"
        raise InvalidInput(msg, field=at)
    return float(value) / 1000.0


def _obj(value: Any) -> Json:
    """An optional nested object: what is not one counts as absent."""
    return value if isinstance(value, dict) else {}


def _seq(value: Any) -> list[Any]:
    """An optional nested array: what is not one counts as absent."""
    return value if isinstance(value, list) else []


def _load(raw: str) -> Json:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        msg = f"/: not JSON: {e}"
        raise InvalidInput(msg, field="/") from e
    if not isinstance(doc, dict):
        msg = "/: must be a JSON object"
        raise InvalidInput(msg, field="/")
    return doc
