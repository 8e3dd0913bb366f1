"""Logs as JSON lines with the request id (or plain lines at a terminal); secrets are scrubbed.

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


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """Return a record's request id and extra fields, secrets scrubbed."""
    fields: dict[str, Any] = {}
    rid = request_id.get()
    if rid is not None:
        fields["request_id"] = rid
    for key, value in record.__dict__.items():
        if key not in _STANDARD and not key.startswith("_"):
            fields[key] = redact(value) if isinstance(value, str) else value
    return fields


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: time, level, logger, message, request id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Format a record as one line for a person at a terminal: time, level, message, then key=value."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the line (and the traceback, if any)."""
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        message = redact(record.getMessage())
        # What the message already says (an access line's method, route, status) is not said twice.
        extras = " ".join(f"{k}={v}" for k, v in _fields(record).items() if str(v) not in message)
        line = f"{when} {record.levelname:<7} {message}" + (f"  {extras}" if extras else "")
        if record.exc_info:
            line += "\n" + redact(self.formatException(record.exc_info))
        return line


def configure_logging(level: str = "INFO", style: str = "auto") -> None:
    """Send every logger (ours, uvicorn's, the Neo4j driver's) to stderr.

    ``style`` is ``json`` (one object a line, for collectors), ``text`` (for a person), or ``auto``:
    text when stderr is a terminal, JSON otherwise.
    """
    if style == "auto":
        style = "text" if sys.stderr.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if style == "text" else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
