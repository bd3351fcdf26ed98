"""Velocity counters for the rules: exact sliding windows in Redis sorted sets (one Lua call per decision:
the act is added, old entries trimmed, every window the rules read counted), and the same in process memory
when there is no Redis (the embedded shop).

A key is a sorted set scored by the app clock's milliseconds. A count's members are one per act; a distinct
count's members are the shoppers (a repeat only moves the score), so `ZCOUNT (now - window, now]` is the
number of acts, or of distinct shoppers, in the window: exact, no buckets.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Sequence

from fissionmall.core.kv import KV, RedisKV, get_kv

_TALLY = """
local now = tonumber(ARGV[1])
local nadd = tonumber(ARGV[2])
local i = 3
for a = 1, nadd do
  local k = KEYS[tonumber(ARGV[i])]
  local keep = tonumber(ARGV[i + 2])
  redis.call('ZADD', k, now, ARGV[i + 1])
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now - keep)
  redis.call('PEXPIRE', k, keep + 60000)
  i = i + 3
end
local out = {}
local nq = tonumber(ARGV[i])
i = i + 1
for q = 1, nq do
  local k = KEYS[tonumber(ARGV[i])]
  local since = now - tonumber(ARGV[i + 1])
  local member = ARGV[i + 2]
  if member == '' then
    out[q] = redis.call('ZCOUNT', k, '(' .. since, '+inf')
  else
    local s = redis.call('ZSCORE', k, member)
    if s and tonumber(s) > since then out[q] = 1 else out[q] = 0 end
  end
  i = i + 3
end
return out
"""

Add = tuple[str, str, int]  # key, member ('' = a new act), keep for (ms)
Query = tuple[str, int, str]  # key, window (ms), member ('' = count the window; else: seen in the window?)

_seq = itertools.count()
_tag = f"{os.getpid():x}"


def act_member(now_ms: int) -> str:
    """A member unique to one act (process and sequence), for the counts."""
    return f"{now_ms}:{_tag}:{next(_seq)}"


class MemoryCounters:
    """The in-process twin of the Lua script (same answers, one process)."""

    def __init__(self) -> None:
        self.sets: dict[str, dict[str, int]] = {}
        self.values: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def tally(self, adds: Sequence[Add], queries: Sequence[Query], *, now_ms: int) -> list[int]:
        async with self._lock:
            for key, member, keep in adds:
                zs = self.sets.setdefault(key, {})
                zs[member or act_member(now_ms)] = now_ms
                if len(zs) > 64 and next(iter(zs.values())) <= now_ms - keep:
                    for m in [m for m, at in zs.items() if at <= now_ms - keep]:
                        del zs[m]
            out = []
            for key, window, member in queries:
                zs = self.sets.get(key, {})
                since = now_ms - window
                if member:
                    out.append(1 if zs.get(member, since) > since else 0)
                else:
                    out.append(sum(1 for at in zs.values() if at > since))
            return out


_memory: tuple[KV, MemoryCounters] | None = None
_scripts: dict[int, object] = {}


def _twin(kv: KV) -> MemoryCounters:
    global _memory
    if _memory is None or _memory[0] is not kv:  # a new app (tests): counts belong to the kv they came with
        _memory = (kv, MemoryCounters())
    return _memory[1]


async def tally(adds: Sequence[Add], queries: Sequence[Query], *, now_ms: int) -> list[int]:
    """Record the acts and answer the queries, atomically: counts include the acts just added."""
    kv = get_kv()
    if not isinstance(kv, RedisKV):
        return await _twin(kv).tally(adds, queries, now_ms=now_ms)
    if not adds and not queries:
        return []
    keys: list[str] = []
    index: dict[str, int] = {}

    def ki(k: str) -> int:
        if k not in index:
            keys.append(kv.k("rk:" + k))
            index[k] = len(keys)
        return index[k]

    args: list[str | int] = [now_ms, len(adds)]
    for key, member, keep in adds:
        args += [ki(key), member or act_member(now_ms), keep]
    args.append(len(queries))
    for key, window, member in queries:
        args += [ki(key), window, member]
    script = _scripts.get(id(kv))
    if script is None:
        script = _scripts[id(kv)] = kv.redis.register_script(_TALLY)
    got = await script(keys=keys, args=args)  # type: ignore[operator]
    return [int(x) for x in got]


async def get_edge(key: str) -> str | None:
    """A stored edge of the referral graph (shopper → the distributor they are bound to)."""
    kv = get_kv()
    if isinstance(kv, RedisKV):
        return await kv.get("rk:e:" + key)
    return _twin(kv).values.get(key)


async def set_edge(key: str, value: str) -> None:
    """Store an edge of the referral graph (kept 180 days)."""
    kv = get_kv()
    if isinstance(kv, RedisKV):
        await kv.set("rk:e:" + key, value, ttl_seconds=180 * 86400)
    else:
        _twin(kv).values[key] = value
