"""Domains plug in by convention, so adding a marketing tool never edits app.py.

A domain is a subpackage of `fissionmall` (except core, web, demo). Where it has
them, its `models` module holds its tables, its `service` (and `handlers`)
modules register job and event handlers, and its `router` module exposes
`router` (mounted at /api/v1) and/or `admin_router` (at /api/admin/v1).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import fissionmall

NOT_DOMAINS = frozenset({"core", "web", "demo"})


def domains() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(fissionmall.__path__) if m.ispkg and m.name not in NOT_DOMAINS)


def import_all(*submodules: str) -> list[ModuleType]:
    """Import `fissionmall.<domain>.<submodule>` for every domain that has one (domain by domain, each
    domain's submodules in the order given)."""
    found = []
    for d in domains():
        for submodule in submodules:
            name = f"fissionmall.{d}.{submodule}"
            try:
                found.append(importlib.import_module(name))
            except ModuleNotFoundError as exc:
                if exc.name != name:  # a real missing dependency inside the module: not ours to hide
                    raise
    return found
