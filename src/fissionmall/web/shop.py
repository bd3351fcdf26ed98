"""The H5 shop: one static page at /shop/, a client of /api/v1 (vanilla JS modules under /static/shop/)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse

from fissionmall.settings import Settings

INDEX = Path(__file__).parent / "static" / "shop" / "index.html"


def mount(app: FastAPI, settings: Settings) -> None:
    @app.get("/shop", include_in_schema=False)
    async def shop_redirect(request: Request) -> RedirectResponse:
        # Keep the query: a share link such as /shop?ref=CODE must still carry its distributor code.
        query = request.url.query
        return RedirectResponse("/shop/" + (f"?{query}" if query else ""), status_code=307)

    @app.get("/shop/", include_in_schema=False)
    async def shop_index() -> FileResponse:
        # A small shell that must pick up new releases at once: revalidate it on every load.
        return FileResponse(INDEX, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})
