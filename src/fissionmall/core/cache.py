"""Read-mostly data (the catalogue's facts, the live promotions) kept in each process's memory, guarded by
a version per name stored in the database (`cache_versions`).

- A writer calls `bump(s, name)` inside its own write transaction: the version moves in the same commit as
  the data, so no process can see the new version before the new data, and a rollback moves neither. The
  writing process also forgets its own copy as soon as the transaction commits, so its next read is fresh.
- A reader checks the versions at most every `POLL_SECONDS` per process: one SELECT of the whole (tiny)
  table, none in between. A name whose version moved is dropped and loaded again; otherwise it is served
  from memory. An edit is therefore seen everywhere within about `POLL_SECONDS` plus one request.

Why the database and not Redis pub/sub: the version commits atomically with the data (a crash between a
commit and a publish cannot lose the signal, a rolled-back edit cannot send one), a process that missed
messages while reconnecting still converges at its next poll, and the embedded SQLite shop with several
processes needs no Redis. The price is one tiny indexed SELECT per process every 250 ms.

Versions are compared for equality, never ordered: a name's row starts at a random value, so a table that
was emptied (tests) or restored from a backup cannot hand back a number a process already holds for other
data.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, String, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from fissionmall.core.db import Base

POLL_SECONDS = 0.25
_PENDING = "fissionmall.cache.bumped"

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class CacheVersion(Base):
    __tablename__ = "cache_versions"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class _Poll:
    versions: dict[str, int] = {}
    at = float("-inf")  # monotonic time of the last poll; -inf: poll at the next read


_poll = _Poll()
_named: dict[str, Keyed[Any, Any]] = {}


async def _versions(s: AsyncSession) -> dict[str, int]:
    now = time.monotonic()
    if now - _poll.at >= POLL_SECONDS:
        # Marked before the await: the readers that arrive meanwhile use the versions they have instead of
        # each sending the same SELECT.
        _poll.at = now
        rows = await s.execute(select(CacheVersion.name, CacheVersion.version))
        _poll.versions = {name: int(v) for name, v in rows.all()}
    return _poll.versions


async def _version_in(s: AsyncSession, name: str) -> int:
    return int(await s.scalar(select(CacheVersion.version).where(CacheVersion.name == name)) or 0)


async def bump(s: AsyncSession, name: str) -> None:
    """Move `name`'s version in this (write) transaction; call it after the write it announces."""
    from sqlalchemy.dialects import postgresql, sqlite

    first = secrets.randbelow(2**62) + 1
    again = {"version": CacheVersion.version + 1}
    # One statement either way: two writers making the row at once cannot collide on its key.
    if s.get_bind().dialect.name == "postgresql":
        pg = postgresql.insert(CacheVersion).values(name=name, version=first)
        stmt: Any = pg.on_conflict_do_update(index_elements=[CacheVersion.name], set_=again)
    else:
        lite = sqlite.insert(CacheVersion).values(name=name, version=first)
        stmt = lite.on_conflict_do_update(index_elements=[CacheVersion.name], set_=again)
    await s.execute(stmt)
    s.sync_session.info.setdefault(_PENDING, set()).add(name)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for name in session.info.pop(_PENDING, ()):
        forget(name)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def forget(name: str) -> None:
    """Drop this process's copy of `name` and check the versions at the next read."""
    if name in _named:
        _named[name].clear()
    _poll.at = float("-inf")


def forget_all() -> None:
    """Drop everything this process holds (a new database)."""
    for c in _named.values():
        c.clear()
    _poll.versions, _poll.at = {}, float("-inf")


class Keyed(Generic[K, V]):
    """Values of one versioned name, loaded by key on first use and kept until the version moves.
    A key the loader did not return is remembered as absent too (a SKU not for sale)."""

    def __init__(self, name: str, *, max_items: int = 50_000) -> None:
        if name in _named:
            raise ValueError(f"cache name {name!r} is taken")
        self.name = name
        self.max_items = max_items
        self._version: int | None = None
        self._items: dict[K, V | None] = {}
        _named[name] = self

    def clear(self) -> None:
        self._version, self._items = None, {}

    async def get_many(
        self, s: AsyncSession, keys: Iterable[K], load: Callable[[AsyncSession, set[K]], Awaitable[dict[K, V]]]
    ) -> dict[K, V]:
        wanted = set(keys)
        version = (await _versions(s)).get(self.name, 0)
        if version != self._version:
            self._version, self._items = version, {}
        items = self._items
        out: dict[K, V] = {}
        missing: set[K] = set()
        for k in wanted:
            if k not in items:
                missing.add(k)
            elif (v := items[k]) is not None:
                out[k] = v
        if not missing:
            return out
        # The version as this transaction sees it, read before the data: what is stored under a version is
        # never older than that version (SQLite's snapshot is the transaction's; PostgreSQL's is newer).
        here = await _version_in(s, self.name)
        got = await load(s, missing)
        if here != self._version:
            # This transaction knows a different version than the last poll: trust the later read; the
            # next poll settles it either way.
            _poll.versions = {**_poll.versions, self.name: here}
            self._version, self._items = here, {}
        items = self._items
        if len(items) + len(missing) > self.max_items:
            items.clear()
        for k in missing:
            items[k] = got.get(k)
        out.update(got)
        return out


class Value(Generic[V]):
    """One versioned value loaded whole (the live promotions)."""

    def __init__(self, name: str) -> None:
        self._keyed: Keyed[None, V] = Keyed(name, max_items=1)

    async def get(
        self,
        s: AsyncSession,
        load: Callable[[AsyncSession], Awaitable[V]],
        *,
        valid: Callable[[V], bool] | None = None,
    ) -> V:
        """The value; `valid` can refuse a held one (it no longer answers the question) to load it again.
        A value loaded by this call is not judged: it answers as of now."""
        loaded = False

        async def _load(s: AsyncSession, _: set[None]) -> dict[None, V]:
            nonlocal loaded
            loaded = True
            return {None: await load(s)}

        value = (await self._keyed.get_many(s, [None], _load))[None]
        if not loaded and valid is not None and not valid(value):
            self._keyed.clear()
            value = (await self._keyed.get_many(s, [None], _load))[None]
        return value
