"""Read a request body within the configured size, gunzipping it when it says so."""

from __future__ import annotations

import gzip
import zlib

from fastapi import HTTPException, Request


async def read_body(request: Request) -> bytes:
    """Return the body, refusing (413) more than ``max_body_bytes`` before or after gunzip."""
    limit: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body: {declared} bytes is over the limit of {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body: over the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        try:
            decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
            body = decoder.decompress(body, limit + 1)
        except (zlib.error, gzip.BadGzipFile) as e:
            raise HTTPException(400, f"body: not valid gzip: {e}") from e
        if len(body) > limit:
            raise HTTPException(413, f"body: over the limit of {limit} bytes once decompressed")
    return body
