"""The production hot path: one Redis Lua call per batch of attempts, and the stream it feeds.

`ATTEMPT` judges a batch of attempts atomically, each in order: item known (else MISSING → rebuild from
the database once every consumer batch read before it has committed, and retry), rate limits per
address / device / shopper (sliding-window counters), the captcha soft limit, the session window, the
path token's single use, the per-user limit and the pool; a winner decrements the pool, counts the
shopper, and XADDs the reservation to the stream. Concurrent attempts in one process share one EVALSHA
through `Batcher`.

Keys (all under settings.redis_prefix; a single Redis, not a cluster: keys are built in the script):
  sk:i:<item>     hash left, start, end (epoch ms), limit, pool
  sk:u:<item>     hash customer → units reserved
  sk:pend:<item>  units reserved in the stream and not yet finished by a consumer
  sk:stream       the reservation stream (consumer group "seckill")
  sk:a:<attempt>  hash s (queued|succeeded|failed), o (order id), r (reason); expires
  sk:tok:<nonce>  a used path token
  sk:rsz:<edit>   an operator's pool edit already applied (RESIZE runs once per marker)
  sk:st:<item>    hash outcome → count (the console's live board)
  rl:…            sliding-window counters
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

ATTEMPT = """
local P = ARGV[1]
local now = tonumber(ARGV[2])
local w = tonumber(ARGV[3])
local lu, lip, ldev, soft = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local ttl = tonumber(ARGV[8])
local n = tonumber(ARGV[9])
local FIELDS = '^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)$'
local bucket = math.floor(now / w)
local weight = (w - (now - bucket * w)) / w
local function hit(key)
  local cur = P .. 'rl:' .. key .. ':' .. bucket
  local c = redis.call('INCR', cur)
  if c == 1 then redis.call('PEXPIRE', cur, w * 2) end
  local prev = tonumber(redis.call('GET', P .. 'rl:' .. key .. ':' .. (bucket - 1)) or '0')
  return prev * weight + c
end
local out = {}
local stream = P .. 'sk:stream'
for i = 0, n - 1 do
  local b = 10 + i * 2
  -- one tab-separated argument per attempt plus its payload: packing 9 arguments each in redis-py was ~8% of
  -- the server's time per attempt, splitting one here costs Redis about a microsecond
  local aid, item, cust, qty, ip, dev, nonce, cap = string.match(ARGV[b], FIELDS)
  qty = tonumber(qty)
  local payload = ARGV[b + 1]
  local ik = P .. 'sk:i:' .. item
  local meta = redis.call('HMGET', ik, 'left', 'start', 'end', 'limit')
  local r
  if not meta[1] then
    r = 'MISSING'
  elseif hit('ip:' .. ip) > lip then
    r = 'RATE_LIMITED'
  elseif dev ~= '' and hit('dev:' .. dev) > ldev then
    r = 'RATE_LIMITED'
  else
    local u = hit('u:' .. cust)
    if u > lu then
      r = 'RATE_LIMITED'
    elseif cap ~= '1' and u > soft then
      r = 'CAPTCHA_REQUIRED'
    elseif now < tonumber(meta[2]) then
      r = 'NOT_STARTED'
    elseif now >= tonumber(meta[3]) then
      r = 'ENDED'
    elseif not redis.call('SET', P .. 'sk:tok:' .. nonce, aid, 'NX', 'PX', 900000) then
      r = 'BAD_TOKEN'
    else
      local uk = P .. 'sk:u:' .. item
      local had = tonumber(redis.call('HGET', uk, cust) or '0')
      if had + qty > tonumber(meta[4]) then
        r = 'LIMIT_REACHED'
      elseif tonumber(meta[1]) < qty then
        r = 'SOLD_OUT'
      else
        redis.call('HINCRBY', ik, 'left', -qty)
        redis.call('HINCRBY', uk, cust, qty)
        redis.call('INCRBY', P .. 'sk:pend:' .. item, qty)
        redis.call('XADD', stream, '*', 'a', aid, 'i', item, 'c', cust, 'q', qty, 'p', payload)
        local ak = P .. 'sk:a:' .. aid
        redis.call('HSET', ak, 's', 'queued')
        redis.call('PEXPIRE', ak, ttl)
        r = 'OK'
      end
    end
  end
  if r ~= 'MISSING' then redis.call('HINCRBY', P .. 'sk:st:' .. item, r, 1) end
  out[i + 1] = r
end
return out
"""

# Publish an item (create/edit) or rebuild it after a Redis loss: the window and limit are always
# written; the pool counter only when absent, from the database's figures less what is still queued.
LOAD = """
local P, item = ARGV[1], ARGV[2]
local pool, sold, s, e, lim = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
local ik = P .. 'sk:i:' .. item
local created = 0
if redis.call('HEXISTS', ik, 'left') == 0 then
  local pend = tonumber(redis.call('GET', P .. 'sk:pend:' .. item) or '0')
  local left = pool - sold - pend
  if left < 0 then left = 0 end
  redis.call('HSET', ik, 'left', left)
  created = 1
  local uk = P .. 'sk:u:' .. item
  if redis.call('EXISTS', uk) == 0 then
    for j = 8, #ARGV, 2 do redis.call('HSET', uk, ARGV[j], ARGV[j + 1]) end
  end
end
redis.call('HSET', ik, 'start', s, 'end', e, 'limit', lim, 'pool', pool)
return created
"""

# Give a reservation back once (marker): the shopper's count, and the pool unless told not to. With a
# stream entry id (ARGV[7]), only while that entry is pending in the group: one that is not was lost with a
# flush, and the pool rebuilt since counted from the database, where this reservation never was.
RELEASE = """
local P, marker, item, cust, qty, give = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local entry = ARGV[7]
if entry and entry ~= '' then
  local ok, pend = pcall(redis.call, 'XPENDING', P .. 'sk:stream', 'seckill', entry, entry, 1)
  if not ok or #pend == 0 then return 0 end
end
if not redis.call('SET', P .. 'sk:rel:' .. marker, '1', 'NX', 'PX', 172800000) then return 0 end
local ik = P .. 'sk:i:' .. item
if give == '1' and redis.call('HEXISTS', ik, 'left') == 1 then redis.call('HINCRBY', ik, 'left', qty) end
local uk = P .. 'sk:u:' .. item
if redis.call('HEXISTS', uk, cust) == 1 then
  if redis.call('HINCRBY', uk, cust, -qty) <= 0 then redis.call('HDEL', uk, cust) end
end
return 1
"""

# A consumer finished an entry: record the outcome, ack, and stop counting it as queued (once).
FINISH = """
local P, group, id, aid, item, qty = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local st, oid, reason, ttl = ARGV[7], ARGV[8], ARGV[9], tonumber(ARGV[10])
local ak = P .. 'sk:a:' .. aid
redis.call('HSET', ak, 's', st, 'o', oid, 'r', reason)
redis.call('PEXPIRE', ak, ttl)
local stream = P .. 'sk:stream'
if redis.call('XACK', stream, group, id) == 1 then
  local pk = P .. 'sk:pend:' .. item
  if tonumber(redis.call('GET', pk) or '0') >= qty then redis.call('DECRBY', pk, qty) end
  redis.call('XDEL', stream, id)
  return 1
end
return 0
"""

# An operator resized the pool: move `left` and `pool` by a delta, once per marker. A decrease takes only
# units still left (never ones handed out, queued or not): {'TAKEN', left} refuses it, nothing changed.
RESIZE = """
local P, marker, item, delta = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local mk = P .. 'sk:rsz:' .. marker
local ik = P .. 'sk:i:' .. item
if redis.call('EXISTS', mk) == 1 then return {'DONE', tonumber(redis.call('HGET', ik, 'left') or '0')} end
local left = redis.call('HGET', ik, 'left')
if not left then return {'MISSING', 0} end
left = tonumber(left)
if left + delta < 0 then return {'TAKEN', left} end
redis.call('SET', mk, '1', 'PX', 172800000)
redis.call('HINCRBY', ik, 'pool', delta)
return {'OK', redis.call('HINCRBY', ik, 'left', delta)}
"""

GROUP = "seckill"
ATTEMPT_TTL_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Try:
    attempt_id: str
    item_id: int
    customer_id: int
    qty: int
    ip: str
    device: str
    nonce: str
    captcha_ok: bool
    payload: str  # JSON: what the consumer needs to create the order (the address)


class Hot:
    """Scripts registered on the app's Redis client, and the batcher in front of ATTEMPT."""

    def __init__(self, redis: Any, prefix: str, *, max_batch: int = 128, delay: float = 0.001) -> None:
        self.redis = redis
        self.prefix = prefix
        self.attempt_script = redis.register_script(ATTEMPT)
        self.load_script = redis.register_script(LOAD)
        self.release_script = redis.register_script(RELEASE)
        self.finish_script = redis.register_script(FINISH)
        self.resize_script = redis.register_script(RESIZE)
        self.max_batch = max_batch
        self.delay = delay
        self._queue: list[tuple[Try, asyncio.Future[str]]] = []
        self._limits: tuple[int, ...] = ()
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Future[None]] = set()
        self._now = 0
        self.batches = 0
        self.batched = 0

    def k(self, key: str) -> str:
        return self.prefix + key

    @property
    def stream(self) -> str:
        return self.k("sk:stream")

    async def submit(self, t: Try, *, now_ms: int, limits: tuple[int, ...]) -> str:
        """Judge one attempt inside the next batch; returns OK or a refusal code (or MISSING)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[str] = loop.create_future()
        self._queue.append((t, fut))
        self._limits = limits
        self._now = now_ms
        if len(self._queue) >= self.max_batch:
            self._flush_now()
        elif self._timer is None:
            self._timer = loop.call_later(self.delay, self._flush_now)
        return await fut

    def _flush_now(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._queue = self._queue, []
        if batch:
            task = asyncio.ensure_future(self._run(batch, self._now, self._limits))
            self._running.add(task)  # held until done, so the loop cannot drop it
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[tuple[Try, asyncio.Future[str]]], now_ms: int, limits: tuple[int, ...]) -> None:
        args: list[Any] = [self.prefix, now_ms, *limits, ATTEMPT_TTL_MS, len(batch)]
        for t, _ in batch:
            # ip and device come from request headers, where a tab is legal: it must not split a field
            ip, dev = t.ip.replace("\t", " "), t.device.replace("\t", " ")
            cap = "1" if t.captcha_ok else "0"
            args.append(f"{t.attempt_id}\t{t.item_id}\t{t.customer_id}\t{t.qty}\t{ip}\t{dev}\t{t.nonce}\t{cap}")
            args.append(t.payload)
        self.batches += 1
        self.batched += len(batch)
        try:
            res = await self.attempt_script(args=args)
        except Exception as exc:  # Redis away: every waiter hears it, none hangs
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, fut), r in zip(batch, res, strict=True):
            if not fut.done():
                fut.set_result(r.decode() if isinstance(r, bytes) else str(r))

    async def load_item(
        self, *, item_id: int, pool: int, sold: int, start_ms: int, end_ms: int, limit: int, buyers: dict[int, int]
    ) -> bool:
        args: list[Any] = [self.prefix, item_id, pool, sold, start_ms, end_ms, limit]
        for cust, q in buyers.items():
            if q > 0:
                args += [cust, q]
        return bool(await self.load_script(args=args))

    async def release(
        self, *, marker: str, item_id: int, customer_id: int, qty: int, give_pool: bool, entry_id: str | None = None
    ) -> bool:
        args = [self.prefix, marker, item_id, customer_id, qty, "1" if give_pool else "0", entry_id or ""]
        return bool(await self.release_script(args=args))

    async def resize(self, *, marker: str, item_id: int, delta: int) -> tuple[str, int]:
        """OK / DONE (this marker already applied) / TAKEN (a decrease beyond what is left) / MISSING, and
        `left` after. Retried once when the reply is lost: the marker keeps a script that did run from
        applying twice."""
        args = [self.prefix, marker, item_id, delta]
        try:
            res = await self.resize_script(args=args)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            res = await self.resize_script(args=args)
        code = res[0].decode() if isinstance(res[0], bytes) else str(res[0])
        return code, int(res[1])

    async def finish(
        self, *, entry_id: str, attempt_id: str, item_id: int, qty: int, status: str, order_id: int | None, reason: str
    ) -> None:
        args = [self.prefix, GROUP, entry_id, attempt_id, item_id, qty, status, order_id or "", reason, ATTEMPT_TTL_MS]
        await self.finish_script(args=args)

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except Exception as exc:
            if "BUSYGROUP" not in str(exc):
                raise


_hot: Hot | None = None


def get_hot() -> Hot | None:
    """The hot path on the app's Redis client, or None in embedded mode (no Redis)."""
    global _hot
    from fissionmall.core.kv import RedisKV, get_kv

    kv = get_kv()
    if not isinstance(kv, RedisKV):
        return None
    if _hot is None or _hot.redis is not kv.redis:
        _hot = Hot(kv.redis, kv.prefix)
    return _hot
