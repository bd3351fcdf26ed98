"""The H5 shop: one static page at /shop/, a client of /api/v1 (vanilla JS modules under /static/shop/)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from fissionmall.settings import Settings

INDEX = Path(__file__).parent / "static" / "shop" / "index.html"
FEATURES = INDEX.parent / "features"


def features_module() -> str:
    """An ES module listing every shop feature (static/shop/features/*.js), so a marketing tool adds its
    screens by adding a file. Each feature may export `routes` ([regex, screen, {auth, tab}]),
    `homeSections(ctx)`, `productSections(product, ctx)`, `productActions(product, ctx, pick)` (buttons in
    the product page's action bar; `pick()` gives the chosen `{sku, qty}`) and `meEntries(ctx)`."""
    names = sorted(p.name for p in FEATURES.glob("*.js"))
    lines = [f"import * as f{i} from '/static/shop/features/{n}';" for i, n in enumerate(names)]
    lines.append("export default [" + ", ".join(f"f{i}" for i in range(len(names))) + "];")
    return "\n".join(lines) + "\n"


def mount(app: FastAPI, settings: Settings) -> None:
    @app.get("/shop", include_in_schema=False)
    async def shop_redirect(request: Request) -> RedirectResponse:
        # Keep the query: a share link such as /shop?ref=CODE must still carry its distributor code.
        query = request.url.query
        return RedirectResponse("/shop/" + (f"?{query}" if query else ""), status_code=307)

    @app.get("/shop/features.js", include_in_schema=False)
    async def shop_features() -> Response:
        return Response(features_module(), media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.get("/shop/", include_in_schema=False)
    async def shop_index() -> FileResponse:
        # A small shell that must pick up new releases at once: revalidate it on every load.
        return FileResponse(INDEX, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})
