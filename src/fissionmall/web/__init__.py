"""The merchant console (/admin, Jinja2 + htmx) and the H5 shop (/shop, a static client of /api/v1)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from fissionmall.settings import Settings

HERE = Path(__file__).parent


def mount(app: FastAPI, settings: Settings) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    try:
        from fissionmall.web import admin, shop
    except ImportError:  # pages not written yet
        return
    admin.mount(app, settings)
    shop.mount(app, settings)
