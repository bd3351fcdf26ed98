"""Whether a token's shopper may call: they exist and are not blocked, answered without a query per call.

Every shopper request asks this, the flash-sale attempt included, so it must not cost a transaction each
time. An earlier version cached each shopper's row for 5 s: with a crowd, every cached state expired at
once and each process read hundreds of rows in a burst, which was the tail of the flash-sale benchmark.
Now:
- existence is checked once per process per shopper and remembered for an hour (shoppers are never
  deleted; a token for an id this database does not know is refused);
- the blocked shoppers are one small set of ids per process, read again only when its version in the KV
  changes (checked at most once a second). Blocking bumps the version after its transaction commits, so
  a block takes effect everywhere within about a second, and at once in the process that made it.
"""

from __future__ import annotations

import secrets
import time

from sqlalchemy import select

from fissionmall.accounts.models import Customer
from fissionmall.core.db import Database
from fissionmall.core.kv import get_kv

EXISTS_TTL = 3600.0
BLOCK_CHECK_SECONDS = 1.0
VERSION_KEY = "acct:blocked:v"

_known: dict[int, float] = {}  # customer id -> when this process last saw the row


class _Blocked:
    ids: frozenset[int] = frozenset()
    version: str | None = None  # None: not loaded yet
    checked_at = float("-inf")


_blocked = _Blocked()


async def _version() -> str:
    try:
        return await get_kv().get(VERSION_KEY) or "0"
    except RuntimeError:  # no KV initialised (a script using services directly): one process, no others
        return "0"


async def blocked_ids(db: Database) -> frozenset[int]:
    """The ids of blocked customers, read again at most every BLOCK_CHECK_SECONDS per process."""
    now = time.monotonic()
    if now - _blocked.checked_at < BLOCK_CHECK_SECONDS:
        return _blocked.ids
    if _blocked.version is not None:
        _blocked.checked_at = now  # callers meanwhile use the set they have (before the first load: none does)
    version = await _version()
    if version != _blocked.version:
        async with db.read() as s:
            ids = frozenset((await s.scalars(select(Customer.id).where(Customer.is_blocked.is_(True)))).all())
        _blocked.ids, _blocked.version = ids, version
    _blocked.checked_at = max(_blocked.checked_at, now)
    return _blocked.ids


async def customer_state(db: Database, *, customer_id: int) -> bool | None:
    """None if the customer does not exist, else whether they are blocked."""
    if customer_id in await blocked_ids(db):
        return True
    now = time.monotonic()
    seen = _known.get(customer_id)
    if seen is None or now - seen > EXISTS_TTL:
        async with db.read() as s:
            found = await s.scalar(select(Customer.id).where(Customer.id == customer_id))
        if found is None:
            _known.pop(customer_id, None)
            return None
        if len(_known) > 500_000:
            _known.clear()
        _known[customer_id] = now
    return False


async def blocked_changed() -> None:
    """Call after a transaction that blocked or unblocked someone has committed."""
    # Any new value will do (readers compare, never order): MemoryKV has no INCR.
    await get_kv().set(VERSION_KEY, f"{time.time_ns()}-{secrets.token_hex(4)}")
    _blocked.checked_at = float("-inf")


def forget_customer_state() -> None:
    """Drop what this process remembers (a new database may reuse customer ids)."""
    _known.clear()
    _blocked.ids, _blocked.version, _blocked.checked_at = frozenset(), None, float("-inf")
