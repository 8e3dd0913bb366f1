"""LLM traces (OTLP spans in the OpenInference, OTel GenAI, MLflow and Langfuse dialects) into graph changes.

The journal keeps one span a record (its resource and scope with it, as OTLP/JSON), so spans
exported one per request, in any order, make the same graph as one batch. Each span maps on
its own, with no need for its siblings:
- a trace is a Run (``otel`` / ``trace`` @ trace id); the root span names its Job
  (``otel://<service.name>`` / root span name) and says when the run started and ended;
- an LLM span: the Run PRODUCED an Output (``otel://<service>`` / ``<trace id>/<span id>``,
  with its answer fingerprint, model and usage) and used the LLM (provider namespace, response
  model); token usage and cost also stay on the run, one entry per call (``usage.<span id>``);
- a prompt named on any span (OpenInference ``llm.prompt_template.*``, GenAI
  ``gen_ai.prompt.name``, MLflow ``mlflow.linkedPrompts``, Langfuse
  ``langfuse.observation.prompt.*``) is a PromptVersion used by the run (a Prompt when only
  its name is known, which trace-back resolves to the version live at the call);
- a retriever span: the VectorIndex it queried is used by the run as the entity, so
  trace-back resolves it to the index build live at the call (graph/traversal.py) and says
  so; each retrieved Document is used (rank, score on the edge), is PART_OF the index, and
  DERIVES from the source Dataset its metadata names;
- an embedding span (or an ``embedding_model`` attribute): the EmbeddingModel is used;
- every span is summarised on the run (``spans.<span id>``: name, kind, times, status) with
  its attributes that no dialect here knows, so nothing a producer adds is dropped.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import orjson

from graph.delta import DeltaBuilder, GraphDelta
from graph.edges import EdgeType
from graph.errors import InvalidInput
from graph.keys import Kind, NodeKey
from graph.timestamps import iso
from ingest import mlflow_export, otlp
from ingest.openlineage import VECTOR_STORES
from ingest.otlp import Attributes, Span
from ingest.privacy import fingerprint, is_fingerprint

SOURCE = "traces"
RUN_NAMESPACE, RUN_NAME = "otel", "trace"
STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}
#: Attribute prefixes this module reads; attributes outside them are kept on the run as they are.
KNOWN_PREFIXES = (
    "openinference.",
    "llm.",
    "retrieval.",
    "embedding.",
    "reranker.",
    "gen_ai.",
    "mlflow.",
    "langfuse.",
    "input.",
    "output.",
    "prompt.",
    "db.",
    "server.",
    "session.id",
    "user.id",
    "vector_index",
    "embedding_model",
)
_LLM_KINDS = {"LLM", "CHAT_MODEL", "GENERATION", "CHAT", "TEXT_COMPLETION", "GENERATE_CONTENT", "COMPLETION"}
_GENAI_OPERATIONS = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "embeddings": "embedding",
    "retrieval": "retriever",
    "execute_tool": "tool",
    "invoke_agent": "agent",
}
_DOC_ATTRIBUTE = re.compile(r"^retrieval\.documents\.(\d+)\.document\.(id|score|content|metadata)$")
_READS = ("query", "search", "retrieve", "scroll", "get", "recommend", "discover", "similarity")
_SOURCE_KEYS = ("source", "source_uri", "doc_uri", "file_path", "uri", "url")
#: Providers of well-known hosted model families, for spans that name the model but not the provider.
_PROVIDER_PREFIXES = (
    (("gpt-", "o1", "o3", "o4", "text-embedding-", "chatgpt-", "davinci", "babbage"), "openai"),
    (("claude-",), "anthropic"),
    (("gemini-", "text-embedding-004", "gemma"), "google"),
    (("mistral-", "mixtral-", "codestral"), "mistral"),
    (("command-", "embed-"), "cohere"),
    (("sentence-transformers/", "all-minilm", "bge-", "baai/"), "huggingface"),
)

Json = dict[str, Any]


def to_delta(raw: str) -> GraphDelta:
    """Turn OTLP/JSON spans (or an MLflow trace export) into graph changes; errors name the JSON pointer."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        msg = f"/: not JSON: {e}"
        raise InvalidInput(msg, field="/") from e
    decoded = decode_document(doc)
    if decoded.problems:
        problem = decoded.problems[0]
        raise InvalidInput(str(problem), field=problem.pointer)
    builder = DeltaBuilder()
    for span in decoded.spans:
        add_span(builder, span)
    return builder.build()


def decode_document(doc: Any) -> otlp.Decoded:
    """Decode a JSON trace document: OTLP/JSON, or MLflow's trace export."""
    if mlflow_export.is_mlflow_export(doc):
        doc = mlflow_export.to_otlp(doc)
    return otlp.decode_json(doc)


def add_span(builder: DeltaBuilder, span: Span) -> None:
    """Add what one span says to the delta."""
    attrs = span.attributes
    kind = span_kind(attrs)
    service = str(span.resource.get("service.name") or "unknown_service")
    run = NodeKey(Kind.RUN, RUN_NAMESPACE, RUN_NAME, span.trace_id)
    t = span.start
    summary: Json = {
        "name": span.name,
        "kind": kind,
        "parent": span.parent_id or None,
        "start": iso(t),
        "end": iso(span.end),
        "status": STATUS.get(span.status_code, str(span.status_code)),
    }
    unknown = {k: _prop(v) for k, v in attrs.items() if not k.startswith(KNOWN_PREFIXES)}
    if unknown:
        summary["attributes"] = unknown
    props: Json = {f"spans.{span.span_id}": summary}
    for key, name in (("session.id", "session"), ("user.id", "user")):
        if isinstance(attrs.get(key), str | int):
            props[name] = attrs[key]
    if not span.parent_id:
        failed = span.status_code == 2
        props.update(
            {
                "service": service,
                "route": span.name,
                "state": "FAIL" if failed else "COMPLETE",
                "started_at": iso(t),
                "ended_at": iso(span.end),
            }
        )
        job = builder.node(NodeKey(Kind.JOB, f"otel://{service}", span.name or "unnamed"), t, {"service": service})
        builder.edge(run, EdgeType.RUN_OF, job, t)
    builder.node(run, t, props, priority=1 if not span.parent_id else 0)
    _prompts(builder, run, span, t)
    if kind == "llm":
        _llm(builder, run, span, service)
    if kind == "retriever" or (kind not in ("llm", "embedding") and _vector_store_read(attrs)):
        _retrieval(builder, run, span)
    _embedding_model(builder, run, span, kind)


def span_kind(attrs: Attributes) -> str:
    """Return what a span does (llm, retriever, embedding, chain, tool, ...), whatever the dialect."""
    for key in ("openinference.span.kind", "mlflow.spanType", "langfuse.observation.type"):
        value = _loose(attrs.get(key))
        if isinstance(value, str) and value:
            upper = value.upper()
            return "llm" if upper in _LLM_KINDS else upper.lower()
    operation = attrs.get("gen_ai.operation.name")
    if isinstance(operation, str):
        return _GENAI_OPERATIONS.get(operation, operation)
    return "span"


# -- LLM calls ------------------------------------------------------------------------------------


def _llm(builder: DeltaBuilder, run: NodeKey, span: Span, service: str) -> None:
    attrs = span.attributes
    model = _first_text(
        attrs,
        "gen_ai.response.model",
        "llm.response.model_name",
        "llm.model_name",
        "gen_ai.request.model",
        "llm.request.model_name",
        "langfuse.observation.model.name",
        "mlflow.llm.model",
    )
    provider = _provider(attrs, model)
    usage = _usage(attrs)
    output = NodeKey(Kind.OUTPUT, f"otel://{service}", f"{span.trace_id}/{span.span_id}")
    props: Json = {"trace_id": span.trace_id, "span_id": span.span_id, "span": span.name, **usage}
    props["status"] = STATUS.get(span.status_code, str(span.status_code))
    if model:
        props["model"] = model
        llm = NodeKey(Kind.LLM, provider, model)
        builder.node(llm, span.start, {"provider": provider})
        request_model = _first_text(attrs, "gen_ai.request.model", "llm.request.model_name")
        builder.edge(llm, EdgeType.INPUT_OF, run, span.start, {"request_model": request_model} if request_model else {})
    answer = _answer(attrs)
    if answer is not None:
        props["answer"] = answer
    builder.node(output, span.end, props)
    builder.edge(run, EdgeType.PRODUCED, output, span.end)
    if usage or model:
        builder.node(run, span.start, {f"usage.{span.span_id}": {"model": model, **usage}})


def _usage(attrs: Attributes) -> Json:
    mlflow = _loose(attrs.get("mlflow.chat.tokenUsage"))
    langfuse = _loose(attrs.get("langfuse.observation.usage_details"))
    cost = _loose(attrs.get("langfuse.observation.cost_details"))
    found = {
        "input_tokens": _number(
            attrs.get("llm.token_count.prompt"),
            attrs.get("gen_ai.usage.input_tokens"),
            attrs.get("gen_ai.usage.prompt_tokens"),
            _field(mlflow, "input_tokens"),
            _field(langfuse, "input"),
        ),
        "output_tokens": _number(
            attrs.get("llm.token_count.completion"),
            attrs.get("gen_ai.usage.output_tokens"),
            attrs.get("gen_ai.usage.completion_tokens"),
            _field(mlflow, "output_tokens"),
            _field(langfuse, "output"),
        ),
        "total_tokens": _number(
            attrs.get("llm.token_count.total"), _field(mlflow, "total_tokens"), _field(langfuse, "total")
        ),
        "cost": _number(attrs.get("llm.cost.total"), attrs.get("gen_ai.usage.cost"), _field(cost, "total")),
    }
    if found["total_tokens"] is None and found["input_tokens"] is not None and found["output_tokens"] is not None:
        found["total_tokens"] = found["input_tokens"] + found["output_tokens"]
    return {k: v for k, v in found.items() if v is not None}


def _answer(attrs: Attributes) -> Json | None:
    """Return the answer's fingerprint (and its text when the service keeps text)."""
    for key in (
        "llm.output_messages.0.message.content",
        "llm.output_messages.0.message.contents.0.message_content.text",
        "gen_ai.output.messages",
        "gen_ai.completion",
        "output.value",
        "langfuse.observation.output",
        "mlflow.spanOutputs",
    ):
        value = _loose(attrs.get(key))  # JSON text (messages, {"text": ...}) is looked into
        if value is None:
            continue
        if isinstance(value, str):
            return {**fingerprint(value), "text": value}
        found = _first_content(value)
        if found is not None:
            return found
    return None


def _first_content(value: Any) -> Json | None:
    """Find the first message content inside a structured output (choices, messages, parts)."""
    if is_fingerprint(value):
        return dict(value)
    if isinstance(value, dict):
        for key in ("content", "text"):
            inner = value.get(key)
            if isinstance(inner, str):
                return {**fingerprint(inner), "text": inner}
            if is_fingerprint(inner):
                return dict(inner)
        children = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = _first_content(child)
        if found is not None:
            return found
    return None


# -- prompts ----------------------------------------------------------------------------------------


def _prompts(builder: DeltaBuilder, run: NodeKey, span: Span, t: float) -> None:
    attrs = span.attributes
    found: list[tuple[str, str, str | None, Json]] = []  # (namespace, name, version, properties)
    template = attrs.get("llm.prompt_template.template")
    oi_version = _text(attrs.get("llm.prompt_template.version"))
    oi_name = _first_text(attrs, "llm.prompt_template.name", "prompt.name", "prompt.id")
    if oi_version or oi_name:
        name, version = oi_name, oi_version
        if not name and version and "@" in version:
            name, version = version.rsplit("@", 1)
        if not name and isinstance(template, str):
            name = "template-" + hashlib.sha256(template.encode()).hexdigest()[:12]
        if name:
            props: Json = {}
            if isinstance(template, str):
                props["template_sha256"] = hashlib.sha256(template.encode()).hexdigest()
            variables = _loose(attrs.get("llm.prompt_template.variables"))
            if isinstance(variables, dict) and not is_fingerprint(variables):
                props["variables"] = sorted(variables)
            vendor = _text(attrs.get("prompt.vendor"))
            found.append((vendor or "prompts", name, version, props))
    genai = _first_text(attrs, "gen_ai.prompt.name")
    if genai:
        found.append(("prompts", genai, _first_text(attrs, "gen_ai.prompt.version"), {}))
    langfuse = _first_text(attrs, "langfuse.observation.prompt.name")
    if langfuse:
        version = _text(attrs.get("langfuse.observation.prompt.version"))
        found.append(("langfuse", langfuse, version, {}))
    for source in (attrs, span.resource):
        linked = _loose(source.get("mlflow.linkedPrompts"))
        for item in linked if isinstance(linked, list) else []:
            item = _loose(item)
            if isinstance(item, dict) and _text(item.get("name")):
                found.append(("mlflow", str(item["name"]), _text(item.get("version")), {}))
    for namespace, name, version, props in found:
        prompt = NodeKey(Kind.PROMPT, namespace, name)
        if version:
            used = builder.node(NodeKey(Kind.PROMPT_VERSION, namespace, name, version), t, props)
            builder.edge(used, EdgeType.VERSION_OF, prompt, t)
        else:
            used = builder.node(prompt, t, props)
        builder.edge(used, EdgeType.INPUT_OF, run, t)


# -- retrieval -------------------------------------------------------------------------------------


def _retrieval(builder: DeltaBuilder, run: NodeKey, span: Span) -> None:
    attrs, t = span.attributes, span.start
    documents = _documents(attrs)
    index = _index(attrs, documents)
    if index is not None:
        system = _system(attrs)
        builder.node(index, t, {"system": system} if system else {})
        named = _text(attrs.get("vector_index"))
        version = named.rsplit("@", 1)[1] if named and "@" in named else None
        if version:  # the span names the build itself: no resolution needed
            build = NodeKey(Kind.DATASET_VERSION, index.namespace, index.name, version)
            builder.edge(build, EdgeType.VERSION_OF, index, t)
            builder.edge(build, EdgeType.INPUT_OF, run, t, {"span": span.span_id})
        else:
            builder.edge(index, EdgeType.INPUT_OF, run, t, {"span": span.span_id})
    for rank, doc in enumerate(documents, start=1):
        doc_id = doc["id"]
        if index is not None:
            key = NodeKey(Kind.DOCUMENT, index.namespace, f"{index.name}/{doc_id}")
        else:
            key = NodeKey(Kind.DOCUMENT, "otel://documents", doc_id)
        props: Json = {"document_id": doc_id}
        if doc.get("metadata"):
            props["metadata"] = doc["metadata"]
        if doc.get("content") is not None:
            props["content"] = doc["content"]
        builder.node(key, t, props)
        if index is not None:
            builder.edge(key, EdgeType.PART_OF, index, t)
        edge_props: Json = {"rank": rank, "span": span.span_id}
        if doc.get("score") is not None:
            edge_props["score"] = doc["score"]
        builder.edge(key, EdgeType.INPUT_OF, run, t, edge_props)
        source = _source_dataset(doc.get("metadata") or {})
        if source is not None:
            builder.edge(source, EdgeType.DERIVES, key, t)


def _documents(attrs: Attributes) -> list[Json]:
    """Return the retrieved documents, in rank order: id, score, content, metadata."""
    by_position: dict[int, Json] = {}
    for key, value in attrs.items():
        match = _DOC_ATTRIBUTE.match(key) if key.startswith("retrieval.documents.") else None
        if match:
            by_position.setdefault(int(match.group(1)), {})[match.group(2)] = value
    raw: list[Any] = [by_position[i] for i in sorted(by_position)]
    for key in ("gen_ai.retrieval.documents", "mlflow.spanOutputs"):
        value = _loose(attrs.get(key))
        if isinstance(value, list) and (key != "mlflow.spanOutputs" or not raw):
            raw.extend(value)
    out = []
    for item in raw:
        item = _loose(item)
        if not isinstance(item, dict):
            continue
        metadata = _loose(item.get("metadata"))
        metadata = metadata if isinstance(metadata, dict) and not is_fingerprint(metadata) else {}
        doc_id = _text(item.get("id")) or _text(metadata.get("chunk_id")) or _text(metadata.get("doc_uri"))
        content = item.get("content", item.get("page_content"))
        if not doc_id and isinstance(content, dict) and is_fingerprint(content):
            doc_id = "sha256:" + str(content["sha256"])
        if not doc_id and isinstance(content, str):
            doc_id = "sha256:" + fingerprint(content)["sha256"]
        if not doc_id:
            continue
        score = _number(item.get("score"), metadata.get("score"))
        if isinstance(content, str):
            content = {**fingerprint(content), "text": content}
        out.append({"id": doc_id, "score": score, "content": content, "metadata": _props(metadata)})
    return out


def _index(attrs: Attributes, documents: list[Json]) -> NodeKey | None:
    """Return the index (collection) a retrieval queried, named as OpenLineage names vector stores."""
    named = _text(attrs.get("vector_index"))
    collection = _first_text(attrs, "db.collection.name", "gen_ai.data_source.id") or (
        named.rsplit("@", 1)[0] if named else None
    )
    if not collection:
        collection = next(
            (str(d["metadata"]["collection"]) for d in documents if d["metadata"].get("collection")), None
        )
    if not collection:
        return None
    system = _system(attrs) or "vector"
    host = _text(attrs.get("server.address"))
    port = attrs.get("server.port")
    authority = (f"{host}:{port}" if port else host) if host else "default"
    return NodeKey(Kind.VECTOR_INDEX, f"{system}://{authority}", collection)


def _vector_store_read(attrs: Attributes) -> bool:
    """Return whether a plain database span (no LLM dialect) queried a vector store."""
    if _system(attrs) not in VECTOR_STORES:
        return False
    operation = (_first_text(attrs, "db.operation.name", "db.operation") or "query").lower()
    return any(verb in operation for verb in _READS)


def _system(attrs: Attributes) -> str:
    return (_first_text(attrs, "db.system.name", "db.system", "gen_ai.system") or "").lower()


def _source_dataset(metadata: Json) -> NodeKey | None:
    """Return the dataset a document came from when its metadata names it (a URI or a path)."""
    for key in _SOURCE_KEYS:
        uri = metadata.get(key)
        if isinstance(uri, str) and uri and " " not in uri:
            found = _dataset_at(uri)
            if found is not None:
                return found
    return None


@lru_cache(maxsize=1 << 14)  # documents of one source repeat: parse each URI once
def _dataset_at(uri: str) -> NodeKey | None:
    """Return the dataset a URI names, as OpenLineage names it (``s3://bucket`` + key, ``file`` + path)."""
    if "://" in uri:
        parts = urlsplit(uri)
        if parts.scheme == "file":
            return NodeKey(Kind.DATASET, "file", parts.path) if parts.path else None
        name = parts.path.lstrip("/")
        if parts.netloc and name:
            return NodeKey(Kind.DATASET, f"{parts.scheme}://{parts.netloc}", name)
    elif uri.startswith("/"):
        return NodeKey(Kind.DATASET, "file", uri)
    return None


# -- embedding models -------------------------------------------------------------------------------


def _embedding_model(builder: DeltaBuilder, run: NodeKey, span: Span, kind: str) -> None:
    attrs = span.attributes
    model = _first_text(attrs, "embedding.model_name", "embedding_model")
    if not model and kind == "embedding":
        model = _first_text(attrs, "gen_ai.response.model", "gen_ai.request.model", "llm.model_name")
    if not model:
        return
    key = NodeKey(Kind.EMBEDDING_MODEL, _provider(attrs, model), model)
    builder.node(key, span.start)
    builder.edge(key, EdgeType.INPUT_OF, run, span.start)


def _provider(attrs: Attributes, model: str | None) -> str:
    named = _first_text(attrs, "gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
    if named:
        return named.lower()
    lower = (model or "").lower()
    for prefixes, provider in _PROVIDER_PREFIXES:
        if lower.startswith(prefixes):
            return provider
    return "unknown"


# -- values ------------------------------------------------------------------------------------------


def _loose(value: Any) -> Any:
    """Return a value MLflow stored as JSON text (``"\\"RETRIEVER\\""``, ``"[...]"``) decoded."""
    if isinstance(value, str) and value[:1] in ('"', "[", "{"):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _text(value: Any) -> str | None:
    value = _loose(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        text = str(value).strip()
        return text or None
    return None


def _first_text(attrs: Attributes, *keys: str) -> str | None:
    for key in keys:
        text = _text(attrs.get(key))
        if text:
            return text
    return None


def _number(*values: Any) -> int | float | None:
    for value in values:
        value = _loose(value)
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                continue
            if number == number and abs(number) != float("inf"):
                return int(number) if number.is_integer() else number
    return None


def _field(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _prop(value: Any) -> Any:
    """Return an attribute value as a JSON property (bytes as base64 text)."""
    if isinstance(value, bytes):
        return otlp.encode_value(value)["bytesValue"]
    if isinstance(value, list):
        return [_prop(v) for v in value]
    if isinstance(value, dict):
        return {k: _prop(v) for k, v in value.items()}
    return value


def _props(value: Json) -> Json:
    return {str(k): _prop(v) for k, v in value.items()}
