"""The merchant console (/admin, Jinja2 + htmx) and the H5 shop (/shop, a static client of /api/v1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from fissionmall.settings import Settings

HERE = Path(__file__).parent


class RevalidatedStatic(StaticFiles):
    """Static files that browsers revalidate (ETag) on each use, so a deploy never leaves old JS running."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def mount(app: FastAPI, settings: Settings) -> None:
    app.mount("/static", RevalidatedStatic(directory=HERE / "static"), name="static")
    from fissionmall.web import console, notfound, shop

    console.mount(app, settings)
    shop.mount(app, settings)
    notfound.install(app)  # unknown /admin and /shop pages: a Chinese page, not the API's JSON
