"""The console's live board for a session: per item, attempts and refusals by code, sold, paid, left.

Outcome counts come from Redis (`sk:st:<item>`) in production, from this process's memory in embedded
mode; sold and paid from the database; what is left from Redis where it holds the item.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.orders.models import Order
from fissionmall.seckill import memory, mirror, rules, sessions
from fissionmall.seckill.hot import get_hot
from fissionmall.seckill.models import SeckillAttempt


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
