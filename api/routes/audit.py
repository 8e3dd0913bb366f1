"""Audit trails over HTTP: GET /api/v1/audit/{id}?format=json|prov|md|html&asOf=...

The id is a URN, percent-encoded as a path segment (its ``%`` as ``%25``); 404 when no node
has it, 422 when it is malformed or names an entity instead of a version.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.audit_formats import get_format
from graph.audit import audit_trail
from graph.keys import parse_key
from graph.timestamps import parse_time, to_epoch

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit/{node_id:path}")
async def get_audit(
    request: Request,
    node_id: str,
    format: Annotated[str, Query(description="json, prov (W3C PROV-JSON), md or html.")] = "json",
    as_of: Annotated[str | None, Query(alias="asOf", description="What the graph said at this time.")] = None,
) -> Response:
    """Answer the audit trail of an answer, a prediction batch, a model or dataset version."""
    writer = get_format(format)
    key = parse_key(node_id)
    at = to_epoch(parse_time(as_of, field="asOf", assume_utc=True)) if as_of else None
    settings = request.app.state.settings
    trail = await audit_trail(
        request.app.state.store,
        key,
        as_of=at,
        max_hops=settings.audit_max_hops,
        deadline=settings.query_deadline_seconds,
    )
    filename = f"audit-{key.kind.slug}{writer.suffix}"
    return Response(
        writer.render(trail),
        media_type=writer.media_type,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
