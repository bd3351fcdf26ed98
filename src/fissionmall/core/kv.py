"""Redis where configured, an in-process twin where not (embedded mode).

Only what the domains need lives here; each operation is atomic on both sides.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Protocol

import redis.asyncio as aioredis

# Sliding-window limiter as one atomic script: trim, count, maybe add.
_SLIDING_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local member = ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local n = redis.call('ZCARD', key)
if n >= limit then return 0 end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window)
return 1
"""


class KV(Protocol):
    async def allow(self, key: str, *, limit: int, window_seconds: float) -> bool: ...
    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, *, ttl_seconds: float | None = None) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def close(self) -> None: ...


class MemoryKV:
    """Single-process twin of RedisKV for the embedded default."""

    def __init__(self) -> None:
        self._windows: dict[str, deque[float]] = {}
        self._values: dict[str, tuple[str, float | None]] = {}
        self._lock = asyncio.Lock()

    async def allow(self, key: str, *, limit: int, window_seconds: float) -> bool:
        now = time.monotonic()
        async with self._lock:
            q = self._windows.setdefault(key, deque())
            while q and q[0] <= now - window_seconds:
                q.popleft()
            if len(q) >= limit:
                return False
            q.append(now)
            return True

    async def get(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            self._values.pop(key, None)
            return None
        return value

    async def set(self, key: str, value: str, *, ttl_seconds: float | None = None) -> None:
        self._values[key] = (value, time.monotonic() + ttl_seconds if ttl_seconds else None)

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def close(self) -> None:
        return None


class RedisKV:
    def __init__(self, url: str, prefix: str) -> None:
        # A burst of requests waits for a free connection instead of failing (the default pool raises).
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=64, timeout=10, decode_responses=True)
        self.redis = aioredis.Redis(connection_pool=pool)
        self.prefix = prefix
        self._window = self.redis.register_script(_SLIDING_WINDOW)
        self._seq = 0

    def k(self, key: str) -> str:
        return self.prefix + key

    async def allow(self, key: str, *, limit: int, window_seconds: float) -> bool:
        now_ms = int(time.time() * 1000)
        self._seq += 1
        member = f"{now_ms}-{id(self)}-{self._seq}"
        ok = await self._window(keys=[self.k("rl:" + key)], args=[now_ms, int(window_seconds * 1000), limit, member])
        return bool(ok)

    async def get(self, key: str) -> str | None:
        v = await self.redis.get(self.k(key))
        return None if v is None else str(v)

    async def set(self, key: str, value: str, *, ttl_seconds: float | None = None) -> None:
        await self.redis.set(self.k(key), value, px=int(ttl_seconds * 1000) if ttl_seconds else None)

    async def delete(self, key: str) -> None:
        await self.redis.delete(self.k(key))

    async def close(self) -> None:
        await self.redis.aclose(close_connection_pool=True)


_kv: KV | None = None


def init_kv(redis_url: str, prefix: str) -> KV:
    global _kv
    _kv = RedisKV(redis_url, prefix) if redis_url else MemoryKV()
    return _kv


def get_kv() -> KV:
    if _kv is None:
        raise RuntimeError("kv not initialised: call core.kv.init_kv() first")
    return _kv
