"""Event times: aware datetimes at the edges of the package, epoch seconds inside the stores."""

from __future__ import annotations

from datetime import UTC, datetime

from graph.errors import InvalidInput


def to_epoch(value: datetime, *, field: str = "time") -> float:
    """Return epoch seconds for an aware datetime; a naive one is refused, never guessed."""
    if value.tzinfo is None:
        msg = f"{field}: {value.isoformat()} has no time zone"
        raise InvalidInput(msg, field=field)
    return value.timestamp()


def from_epoch(seconds: float) -> datetime:
    """Return the aware UTC datetime for epoch seconds."""
    return datetime.fromtimestamp(seconds, UTC)


def parse_time(text: str, *, field: str = "time", assume_utc: bool = False) -> datetime:
    """Parse ISO 8601; without a zone it is an error unless ``assume_utc`` is set."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as e:
        msg = f"{field}: {text!r} is not an ISO 8601 time"
        raise InvalidInput(msg, field=field) from e
    if value.tzinfo is None:
        if not assume_utc:
            msg = f"{field}: {text!r} has no time zone"
            raise InvalidInput(msg, field=field)
        value = value.replace(tzinfo=UTC)
    return value


def iso(seconds: float | None) -> str | None:
    """Return the ISO 8601 text of epoch seconds (UTC, ``Z``), or None."""
    if seconds is None:
        return None
    return from_epoch(seconds).isoformat().replace("+00:00", "Z")
