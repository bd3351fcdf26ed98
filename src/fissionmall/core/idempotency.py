"""`Idempotency-Key`: a repeat of a create returns the first result.

The key row is inserted first, in the same transaction as the work. A second
request with the same key waits on the unique index (PostgreSQL) or the write
lock (SQLite) until the first commits, then replays the stored response. A
request that fails stores nothing, so the client may retry it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core import clock
from fissionmall.core.db import Base, BigId, Database
from fissionmall.core.errors import AppError, Conflict, CoreError


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "owner", "key"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(128))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


Work = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


async def run_once(db: Database, *, scope: str, owner: str, key: str | None, body: Any, work: Work) -> dict[str, Any]:
    """Run `work` in a transaction, at most once per (scope, owner, key)."""
    if not key:
        async with db.tx() as s:
            return await work(s)
    if len(key) > 128:
        raise AppError(CoreError.IDEMPOTENCY_KEY_INVALID)
    fp = fingerprint(body)
    try:
        async with db.tx() as s:
            rec = IdempotencyKey(scope=scope, owner=owner, key=key, fingerprint=fp, created_at=clock.now())
            s.add(rec)
            await s.flush()
            result = await work(s)
            rec.response = result
            return result
    except IntegrityError:
        async with db.read() as s:
            found = await s.scalar(
                select(IdempotencyKey).where(
                    IdempotencyKey.scope == scope, IdempotencyKey.owner == owner, IdempotencyKey.key == key
                )
            )
        if found is None or found.response is None:
            raise
        if found.fingerprint != fp:
            raise Conflict(CoreError.IDEMPOTENCY_KEY_REUSED) from None
        return found.response
