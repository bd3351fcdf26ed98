"""Imports the workflow modules that register jobs, the order source and order hooks (models.load_handlers)."""

from fissionmall.pointsmall import items, redeem, source

__all__ = ["items", "redeem", "source"]
