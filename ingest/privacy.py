"""What of an LLM trace may be kept: prompt and answer text as fingerprints, never a secret.

Before a span is journaled:
- the text of prompts, answers, messages, retrieved documents and embedded inputs is replaced
  by ``{"sha256": ..., "length": ...}`` (so equal texts can still be matched), unless the
  service is told to keep it (``LINEAGE_KEEP_LLM_TEXT``); inside structured payloads (MLflow's
  span inputs and outputs, GenAI message lists) only identifiers, roles, scores and sources
  stay readable;
- known secret shapes (API keys, bearer tokens, AWS keys, private keys, JWTs, passwords in
  URLs, ``password=...``) are redacted everywhere, whatever the setting, and in dead letters.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any, TypeGuard

import orjson

from ingest.otlp import Attributes, Span

REDACTED = "[REDACTED]"

#: Attributes whose whole value is prompt, answer or document text (OpenInference, OTel GenAI,
#: MLflow, Langfuse).
TEXT_ATTRIBUTES = frozenset(
    {
        "input.value",
        "output.value",
        "llm.prompt_template.variables",
        "gen_ai.prompt",
        "gen_ai.completion",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "gen_ai.retrieval.query.text",
        "gen_ai.retrieval.documents",
        "gen_ai.event.content",
        "input",
        "output",
        "mlflow.spanInputs",
        "mlflow.spanOutputs",
        "mlflow.traceInputs",
        "mlflow.traceOutputs",
        "mlflow.requestPreview",
        "mlflow.responsePreview",
        "langfuse.observation.input",
        "langfuse.observation.output",
        "langfuse.trace.input",
        "langfuse.trace.output",
    }
)
_TEXT_PATTERN = re.compile(
    r"^(?:llm\.(?:input|output)_messages\.\d+\.message\.(?:content|contents\.\d+\.message_content\.text"
    r"|tool_calls\.\d+\.tool_call\.function\.arguments)"
    r"|retrieval\.documents\.\d+\.document\.content"
    r"|reranker\.(?:input|output)_documents\.\d+\.document\.content"
    r"|reranker\.query"
    r"|embedding\.embeddings\.\d+\.embedding\.text"
    r"|gen_ai\.(?:prompt|completion)\.\d+\.content"
    r"|tool\.parameters|message\.content)$"
)
#: Inside structured payloads, the keys whose values stay readable (ids, roles, scores, sources).
KEEP_KEYS = frozenset(
    {
        "id",
        "doc_id",
        "document_id",
        "chunk_id",
        "doc_uri",
        "uri",
        "url",
        "source",
        "source_uri",
        "file_path",
        "collection",
        "score",
        "rank",
        "role",
        "name",
        "version",
        "type",
        "model",
        "finish_reason",
        "tool_call_id",
        "index",
        "input_tokens",
        "output_tokens",
        "total_tokens",
    }
)
#: Attribute keys that name a credential: their value goes whatever it looks like.
_SECRET_KEY = re.compile(r"(?i)(authorization|api[_-]?key|password|passwd|secret|token|cookie)$")
_SECRETS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"), REDACTED),
    (re.compile(r"\b(?:sk|pk|rk)-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{16,}"), REDACTED),  # OpenAI, Anthropic, Stripe
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), REDACTED),  # AWS access key ids
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{30,}"), REDACTED),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), REDACTED),  # Slack
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), REDACTED),  # Google API keys
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),  # JWTs
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@"), r"\1" + REDACTED + "@"),  # user:pass@host
    (
        re.compile(
            r"(?i)\b(aws_secret_access_key|api[_-]?key|password|passwd|pwd|secret|access[_-]?token|token)"
            r"(\"?\s*[:=]\s*\"?)[^\s\"',;&}]+"
        ),
        r"\1\2" + REDACTED,
    ),
]
# One pass finds whether any pattern may match: most strings have no secret and pay only this.
# (Case-insensitive as a whole: a superset of the patterns, so it never misses one.)
_ANY_SECRET = re.compile("|".join(f"(?:{p.pattern.removeprefix('(?i)')})" for p, _ in _SECRETS), re.IGNORECASE)


def fingerprint(text: str) -> dict[str, Any]:
    """Return the sha256 and the length of a text, in place of the text."""
    return {"sha256": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), "length": len(text)}


def is_fingerprint(value: Any) -> TypeGuard[dict[str, Any]]:
    """Return whether a value is a fingerprint left in place of a text."""
    return isinstance(value, dict) and value.keys() == {"sha256", "length"}


def redact(text: str) -> str:
    """Return the text with every known secret shape replaced."""
    if not _ANY_SECRET.search(text):
        return text
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def redact_bytes(body: bytes) -> bytes:
    """Redact secrets in a binary body keeping its length (protobuf framing survives)."""
    text = body.decode("latin-1")
    if not _ANY_SECRET.search(text):
        return body
    for pattern, _ in _SECRETS:
        text = pattern.sub(lambda m: "*" * len(m.group(0)), text)
    return text.encode("latin-1")


def scrub_spans(spans: list[Span], keep_text: bool) -> None:
    """Fingerprint LLM text (unless kept) and redact secrets, in place, in every span."""
    seen: set[int] = set()
    for span in spans:
        span.name = redact(span.name)
        span.status_message = redact(span.status_message)
        span.attributes = scrub(span.attributes, keep_text)
        for event in span.events:
            event.attributes = scrub(event.attributes, keep_text)
        for link in span.links:
            link.attributes = scrub(link.attributes, keep_text)
        for shared in (span.resource, span.scope.attributes):
            if id(shared) not in seen:  # resources are shared by many spans: scrub each once
                seen.add(id(shared))
                cleaned = scrub(shared, keep_text)
                shared.clear()
                shared.update(cleaned)


def scrub(attributes: Attributes, keep_text: bool) -> Attributes:
    """Return attributes with LLM text fingerprinted (unless kept) and secrets redacted."""
    out: Attributes = {}
    for key, value in attributes.items():
        role = _role(key)
        if role == "secret" and value not in (None, ""):
            out[key] = REDACTED
        elif role == "text" and not keep_text:
            out[key] = _hide(value)
        elif type(value) is str:
            out[key] = redact(value)
        else:
            out[key] = _redacted(value)
    return out


@lru_cache(maxsize=1 << 14)  # attribute keys repeat span after span
def _role(key: str) -> str:
    """Return whether an attribute key names a secret, LLM text, or anything else."""
    if _SECRET_KEY.search(key):
        return "secret"
    if key in TEXT_ATTRIBUTES or _TEXT_PATTERN.match(key):
        return "text"
    return "other"


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(k) else _redacted(v) for k, v in value.items()}
    return value


def _hide(value: Any) -> Any:
    """Fingerprint the text in a value, keeping identifiers readable inside structures."""
    if isinstance(value, str):
        structure = _json_structure(value)
        if structure is None:
            return fingerprint(value)
        return orjson.dumps(_hide_inside(structure)).decode()
    if isinstance(value, list | dict):
        return _hide_inside(value)
    return value


def _hide_inside(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        if is_fingerprint(value):
            return value
        return {k: _hide_inside(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_inside(v, key) for v in value]
    if isinstance(value, str):
        if key in KEEP_KEYS or (key is not None and key.endswith(("_id", "_uri"))):
            return redact(value)
        structure = _json_structure(value)
        if structure is not None:  # JSON text inside JSON (metadata strings): look inside it too
            return orjson.dumps(_hide_inside(structure)).decode()
        return fingerprint(value)
    return value


def _json_structure(text: str) -> Any:
    """Return the object or array a text holds as JSON, or None when it is prose."""
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict | list) else None
