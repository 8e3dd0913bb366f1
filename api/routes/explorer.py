"""The explorer: the built web page (web/ → api/static) served at `/`, or a page saying how to build it."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lineage explorer: not built</title>
<style>body{font:15px system-ui,sans-serif;max-width:40rem;margin:4rem auto;color:#1d2633;line-height:1.5}
code{background:#f0f3f7;padding:2px 6px;border-radius:4px}</style></head>
<body><h1>The explorer is not built</h1>
<p>This service answers GraphQL at <a href="/graphql">/graphql</a>, but the web page at <code>/</code>
is built from <code>web/</code> into <code>api/static/</code>, and that has not happened here.</p>
<p>Build it with <code>make setup</code> (it runs <code>npm ci</code> and <code>npm run build</code> in
<code>web/</code>; Node.js 20 or newer is needed), then reload this page.</p></body></html>
"""


def mount_explorer(app: FastAPI, static_dir: Path = STATIC_DIR) -> None:
    """Serve the built explorer at `/` (mount it last: it answers every path no route took)."""
    if (static_dir / "index.html").is_file():
        app.mount("/", StaticFiles(directory=static_dir, html=True), name="explorer")
        return

    @app.get("/", include_in_schema=False)
    async def explorer_not_built() -> HTMLResponse:
        """Say how to build the explorer."""
        return HTMLResponse(NOT_BUILT)
