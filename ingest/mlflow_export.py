"""MLflow's trace export (``GET /api/3.0/mlflow/traces/batchGet``) as OTLP/JSON resource spans.

MLflow 3 keeps spans in OTLP's shape (snake_case, base64 ids); what a trace says as a whole
(``trace_info``: its experiment, tags such as ``mlflow.linkedPrompts`` and ``mlflow.traceName``,
metadata) becomes the resource of its spans, so every span carries it on its own.
"""

from __future__ import annotations

from typing import Any

from graph.errors import InvalidInput
from ingest.otlp import encode_attributes

Json = dict[str, Any]


def is_mlflow_export(doc: Any) -> bool:
    """Return whether a JSON document is an MLflow batchGet answer or one MLflow trace."""
    return isinstance(doc, dict) and ("traces" in doc or ("trace_info" in doc and "spans" in doc))


def to_otlp(doc: Json) -> Json:
    """Return the traces of an MLflow export as one OTLP/JSON ExportTraceServiceRequest."""
    traces = doc.get("traces", [doc])
    if not isinstance(traces, list):
        msg = "/traces: must be an array of traces"
        raise InvalidInput(msg, field="/traces")
    resource_spans = []
    for n, trace in enumerate(traces):
        at = f"/traces/{n}"
        if not isinstance(trace, dict) or not isinstance(trace.get("trace_info"), dict):
            msg = f"{at}/trace_info: required, an object"
            raise InvalidInput(msg, field=f"{at}/trace_info")
        spans = trace.get("spans")
        if not isinstance(spans, list):
            msg = f"{at}/spans: required, an array of spans"
            raise InvalidInput(msg, field=f"{at}/spans")
        resource_spans.append(
            {
                "resource": {"attributes": encode_attributes(_resource(trace["trace_info"]))},
                "scopeSpans": [{"scope": {"name": "mlflow"}, "spans": spans}],
            }
        )
    return {"resourceSpans": resource_spans}


def _resource(info: Json) -> dict[str, Any]:
    # The experiment only names the service: a location of another shape is not a reason to refuse.
    location = info.get("trace_location")
    holder = location.get("mlflow_experiment") if isinstance(location, dict) else None
    found = holder.get("experiment_id") if isinstance(holder, dict) else None
    experiment = found if isinstance(found, str | int) and not isinstance(found, bool) else None
    attributes: dict[str, Any] = {"service.name": f"mlflow-experiment-{experiment}" if experiment else "mlflow"}
    if experiment:
        attributes["mlflow.experimentId"] = str(experiment)
    for key in ("trace_id", "request_time", "state"):
        if isinstance(info.get(key), str):
            attributes[f"mlflow.trace.{key}"] = info[key]
    for key in ("request_preview", "response_preview"):
        if isinstance(info.get(key), str):
            attributes["mlflow.requestPreview" if key == "request_preview" else "mlflow.responsePreview"] = info[key]
    for group in ("tags", "trace_metadata"):
        values = info.get(group)
        if isinstance(values, dict):
            attributes.update({str(k): v for k, v in values.items() if isinstance(v, str)})
    return attributes
