"""The API documentation, served without the internet: /docs (Swagger UI) and /redoc (Redoc) load their
scripts from web/static/vendor/ (see its README for the versions), never from a CDN, and /favicon.ico.

FastAPI's own docs pages point at jsDelivr and Google Fonts, so `create_app` turns them off
(`docs_url=None, redoc_url=None`) and mounts these instead; /openapi.json stays FastAPI's.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from fissionmall.core.http import docs_csp
from fissionmall.web import HERE

VENDOR = "/static/vendor"
FAVICON = HERE / "static" / "favicon.ico"


def _with_policy(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = docs_csp(bytes(page.body).decode())
    page.headers["Cache-Control"] = "no-cache"
    return page


def mount(app: FastAPI) -> None:
    """Add /docs, /redoc and /favicon.ico to `app` (none of them in the schema)."""
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} API"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/favicon.ico",
            # No online validator badge: it would ask validator.swagger.io about the schema.
            swagger_ui_parameters={"validatorUrl": None},
        )
        return _with_policy(page)

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=title,
            redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
            redoc_favicon_url="/favicon.ico",
            with_google_fonts=False,
        )
        return _with_policy(page)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(FAVICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"})
