"""Imports the workflow modules that register membership's jobs, event handlers and /me field."""

from fissionmall.membership import growth, shop

__all__ = ["growth", "shop"]
