"""The merchant's data over HTTP: the shop's `POST /events`; the admin API's dashboard (admin_api.py)."""

from __future__ import annotations

from fastapi import APIRouter

from fissionmall.analytics.admin_api import admin_router

router = APIRouter(tags=["events"])

__all__ = ["admin_router", "router"]
