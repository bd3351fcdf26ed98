"""The admin authorization matrix, shared by every domain's tests.

A test module lists its admin routes in a module-level `ADMIN_ROUTES` (rows of
method, path template, body, permission, a role lacking it) and calls
`check_admin_matrix` with ids for the path parameters. The guard test in
tests/platform/test_authorization.py fails if any admin route in
/openapi.json appears in no module's ADMIN_ROUTES.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import httpx

import tests
from fissionmall.core.db import Database
from tests.helpers import admin

Row = tuple[str, str, "dict[str, Any] | None", str, str]


async def call(client: httpx.AsyncClient, row: Row, headers: dict[str, str], ids: dict[str, Any]) -> httpx.Response:
    method, path, body, *_ = row
    return await client.request(method, path.format(**ids), json=body, headers=headers)


async def check_admin_matrix(
    client: httpx.AsyncClient, db: Database, rows: list[Row], ids: dict[str, Any], shopper_headers: dict[str, str]
) -> None:
    """Anonymous → 401 AUTH_REQUIRED; a shopper's token → 401 TOKEN_INVALID; a role without the
    permission → 403 PERMISSION_DENIED. (Callers check that nothing changed, and that the owner gets in.)"""
    roles = {r for *_, perm, r in rows if perm and r != "nobody"}
    tokens = {role: await admin(client, db, role, username=f"matrix-{role}") for role in roles}
    for row in rows:
        method, path, _, permission, lacking = row
        r = await call(client, row, {}, ids)
        assert r.status_code == 401 and r.json()["error"]["code"] == "AUTH_REQUIRED", (method, path, r.text)
        r = await call(client, row, shopper_headers, ids)
        assert r.status_code == 401 and r.json()["error"]["code"] == "TOKEN_INVALID", (method, path, r.text)
        if permission and lacking != "nobody":
            r = await call(client, row, tokens[lacking], ids)
            assert r.status_code == 403 and r.json()["error"]["code"] == "PERMISSION_DENIED", (method, path, lacking)


def all_listed_routes() -> set[tuple[str, str]]:
    """Every (method, path) named in some test module's ADMIN_ROUTES."""
    listed: set[tuple[str, str]] = set()
    for info in pkgutil.walk_packages(tests.__path__, "tests."):
        if not info.name.rsplit(".", 1)[-1].startswith("test_") or ".browser." in info.name:
            continue
        module = importlib.import_module(info.name)
        for method, path, *_ in getattr(module, "ADMIN_ROUTES", []):
            listed.add((method, path))
    return listed
