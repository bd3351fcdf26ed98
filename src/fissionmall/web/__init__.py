"""The merchant console (/admin, Jinja2 + htmx) and the H5 shop (/shop, a static client of /api/v1)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from fissionmall.settings import Settings

HERE = Path(__file__).parent


def mount(app: FastAPI, settings: Settings) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    import importlib

    for name in ("admin", "shop"):
        try:
            module = importlib.import_module(f"fissionmall.web.{name}")
        except ModuleNotFoundError:  # TEMPORARY while the pages are being written
            continue
        module.mount(app, settings)
