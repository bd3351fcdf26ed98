"""The console's live board for a session: per item, attempts and refusals by code, sold, paid, left.

Outcome counts come from Redis (`sk:st:<item>`) in production, from this process's memory in embedded
mode; sold and paid from the database; what is left from Redis where it holds the item. Below the board:
the shop-wide figures of the console's 实时监控 (ops) and the stream's gauges for Prometheus.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from fissionmall.core import clock, metrics
from fissionmall.core.db import Database
from fissionmall.orders.models import Order
from fissionmall.seckill import memory, mirror, rules, sessions
from fissionmall.seckill.hot import GROUP, get_hot
from fissionmall.seckill.models import SeckillAttempt, SeckillItem, SeckillSession


async def board(db: Database, *, session_id: int) -> dict[str, Any]:
    """Live figures per item: outcomes by code, sold (database), remaining (Redis or database)."""
    async with db.read() as s:
        sess = await sessions.get_session(s, session_id=session_id)
        items = list(sess.items)
        paid = dict(
            (
                await s.execute(
                    select(SeckillAttempt.item_id, func.count())
                    .join(Order, Order.id == SeckillAttempt.order_id)
                    .where(SeckillAttempt.item_id.in_([i.id for i in items]), Order.paid_at.is_not(None))
                    .group_by(SeckillAttempt.item_id)
                )
            ).all()
        )
    left = await mirror.remaining(items=items)
    hot = get_hot()
    rows = []
    for it in items:
        if hot is not None:
            st = {k: int(v) for k, v in (await hot.redis.hgetall(hot.k(f"sk:st:{it.id}"))).items()}
        else:
            st = memory.local_counts(it.id)
        rows.append(
            {
                "item_id": it.id,
                "sku_id": it.sku_id,
                "pool": it.pool,
                "sold": it.sold,
                "paid": int(paid.get(it.id, 0)),
                "remaining": left[it.id],
                "attempts": sum(st.values()),
                "accepted": st.get("OK", 0),
                "refused": {k: v for k, v in st.items() if k != "OK"},
            }
        )
    now = clock.now()
    return {
        "session_id": sess.id,
        "server_time": now,
        "state": rules.window_state(now, sess.starts_at, sess.ends_at),
        "items": rows,
    }


# ---- the shop-wide figures of the console's 实时监控 and Prometheus ---------------------------------------


async def _outcomes(item_ids: list[int]) -> dict[int, dict[str, int]]:
    """Outcome counts per item: Redis's hashes (one pipeline) or this process's memory."""
    hot = get_hot()
    if hot is None or not item_ids:
        return {i: memory.local_counts(i) for i in item_ids}
    pipe = hot.redis.pipeline(transaction=False)
    for i in item_ids:
        pipe.hgetall(hot.k(f"sk:st:{i}"))
    rows = await pipe.execute()
    return {i: {k: int(v) for k, v in row.items()} for i, row in zip(item_ids, rows, strict=True)}


async def recent_totals(db: Database, *, within: timedelta) -> dict[str, Any]:
    """Attempts, accepted and refusals by code over the sessions running now or ended within `within`."""
    now = clock.now()
    async with db.read() as s:
        rows = (
            await s.execute(
                select(SeckillSession.id, SeckillSession.title, SeckillItem.id)
                .join(SeckillItem, SeckillItem.session_id == SeckillSession.id)
                .where(
                    SeckillSession.status == "active",
                    SeckillSession.starts_at <= now,
                    SeckillSession.ends_at >= now - within,
                )
                .order_by(SeckillSession.id, SeckillItem.id)
                .limit(500)
            )
        ).all()
    counts = await _outcomes([r[2] for r in rows])
    sessions: dict[int, str] = {}
    refused: dict[str, int] = {}
    accepted = 0
    for sid, title, item_id in rows:
        sessions[sid] = title
        for code, n in counts[item_id].items():
            if code == "OK":
                accepted += n
            else:
                refused[code] = refused.get(code, 0) + n
    return {
        "sessions": [{"id": k, "title": v} for k, v in sessions.items()],
        "attempts": accepted + sum(refused.values()),
        "accepted": accepted,
        "refused": dict(sorted(refused.items(), key=lambda kv: -kv[1])),
    }


async def stream_figures() -> dict[str, Any] | None:
    """The reservation stream: entries waiting (not yet read by a consumer), read but unfinished, and the age
    of the oldest entry still in it (finished entries are deleted), or None without Redis (embedded mode)."""
    hot = get_hot()
    if hot is None:
        return None
    pipe = hot.redis.pipeline(transaction=False)
    pipe.xlen(hot.stream)
    pipe.xrange(hot.stream, count=1)
    length, first = await pipe.execute()
    waiting = pending = 0
    try:
        for g in await hot.redis.xinfo_groups(hot.stream):
            if g.get("name") == GROUP:
                pending = int(g.get("pending") or 0)
                lag = g.get("lag")
                waiting = int(lag) if lag is not None else max(0, int(length) - pending)
    except Exception:  # no stream or group yet: nothing has been queued
        waiting = pending = 0
    oldest = 0.0
    if first:
        ms = int(str(first[0][0]).split("-")[0])
        oldest = max(0.0, time.time() - ms / 1000)  # entry ids are Redis's wall clock, not the app clock
    return {"length": int(length), "waiting": waiting, "pending": pending, "oldest_seconds": round(oldest, 3)}


@metrics.scrape("seckill")
async def _stream_gauges(db: Database) -> list[metrics.Sample]:
    f = await stream_figures()
    if f is None:
        return []
    return [
        metrics.Sample("fissionmall_seckill_stream_waiting", "Flash-sale reservations not yet read by a consumer",
                       f["waiting"]),
        metrics.Sample("fissionmall_seckill_stream_pending", "Reservations read by a consumer and not yet finished",
                       f["pending"]),
        metrics.Sample("fissionmall_seckill_stream_lag_seconds", "Age of the oldest reservation not yet turned into "
                       "an order", f["oldest_seconds"]),
    ]  # fmt: skip
