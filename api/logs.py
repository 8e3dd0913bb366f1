"""Structured JSON logs, one object a line, each with the request id; secrets are scrubbed.

Nothing logs headers or bodies on purpose; the scrubber is the second line of defence for
messages that quote a token, an Authorization header, a password or a URI with credentials.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: The id of the request being served, set by the observability middleware.
request_id: ContextVar[str | None] = ContextVar("lineage_request_id", default=None)

REDACTED = "[redacted]"
_SECRETS = [
    (re.compile(r"lgt_[A-Za-z0-9_\-]+"), REDACTED),  # our tokens
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"), r"\1 " + REDACTED),
    (re.compile(r"(?i)(authorization|password|passwd|secret|api[_-]?key|token)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
     r"\1\2" + REDACTED),
    (re.compile(r"(://)[^/\s:@]+:[^@\s/]+@"), r"\1" + REDACTED + "@"),  # bolt://user:password@host
]  # fmt: skip
# LogRecord attributes that are not extra fields; uvicorn's color_message is the message again, with ANSI codes.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def redact(text: str) -> str:
    """Return the text with anything that looks like a secret replaced."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        rid = request_id.get()
        if rid is not None:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send every logger (ours, uvicorn's, the Neo4j driver's) to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
