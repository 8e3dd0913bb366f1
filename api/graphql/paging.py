"""Opaque cursors and page sizes: a cursor names a position in one kind of listing."""

from __future__ import annotations

import base64
import binascii

import strawberry

from graph.errors import InvalidInput

#: the most items one page may hold
MAX_PAGE = 1000
#: the page size of a lineage query when not told
DEFAULT_PAGE = 100


@strawberry.type(description="Where a page ends and whether more follow.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def cursor(listing: str, index: int) -> str:
    """Return the cursor of the item at ``index`` of a listing."""
    return base64.urlsafe_b64encode(f"{listing}:{index}".encode()).decode()


def offset_after(listing: str, after: str | None) -> int:
    """Return where the page after a cursor starts; refuse a cursor of another listing."""
    if after is None:
        return 0
    try:
        name, _, index = base64.urlsafe_b64decode(after.encode()).decode().partition(":")
        position = int(index)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        position, name = -1, ""
    if name != listing or position < 0:
        msg = f"after: {after!r} is not a cursor of this {listing} listing"
        raise InvalidInput(msg, field="after")
    return position + 1


def page_size(first: int) -> int:
    """Check a page size against the cap."""
    if not 0 <= first <= MAX_PAGE:
        msg = f"first: {first} is outside 0..{MAX_PAGE}"
        raise InvalidInput(msg, field="first")
    return first


def page_info(listing: str, start: int, count: int, total: int) -> PageInfo:
    """Return the page info of ``count`` items from ``start`` of ``total``."""
    end = start + count
    return PageInfo(has_next_page=end < total, end_cursor=cursor(listing, end - 1) if count else None)
