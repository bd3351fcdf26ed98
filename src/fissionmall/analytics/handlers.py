"""Registers the package's job and event handlers (models.load_handlers imports every handlers.py)."""

from __future__ import annotations

from fissionmall.analytics import rollups as rollups
