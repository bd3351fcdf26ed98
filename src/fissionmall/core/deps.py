"""The generic request dependencies every router shares: the database, the settings, paging, retry keys.

Who is calling (`CurrentCustomer`, `require(permission)`) stays in `accounts.deps`; everything here is
about the request itself, so any router (and the console kit) can take it without touching accounts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query

from fissionmall.core.db import Database, get_db
from fissionmall.settings import Settings, get_settings


# async: a plain `def` dependency is run in the threadpool on every request (measured ~10% of a checkout).
async def settings_dep() -> Settings:
    return get_settings()


async def db_dep() -> Database:
    return get_db()


SettingsDep = Annotated[Settings, Depends(settings_dep)]
DbDep = Annotated[Database, Depends(db_dep)]

# Page size and cursor of a keyset-paged list (`core.schemas.page_limit`, `parse_cursor` check them).
Limit = Annotated[int | None, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=32)]
# The client's retry key (core/idempotency.py): the same key and body answer the first response again.
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]
