"""The admin API's dashboard: per-tool figures, funnels, distributors, attribution (`?from=&to=&format=csv`)."""

from __future__ import annotations

from fastapi import APIRouter

admin_router = APIRouter(tags=["admin: data"])
