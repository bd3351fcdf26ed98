"""An activity's own stock: per-SKU pools moved out of the SKU's stock, and units taken and given back.

A pool's `pool` is what the activity took from the SKU (sold and held units included), `units_left` what
is still for sale. SKU stock + pools + units sold stays constant: every move between the SKU and a pool
goes through catalog's stock_to_pool / pool_to_stock in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.catalog.errors import CatalogError
from fissionmall.core.errors import Conflict
from fissionmall.groupbuy.errors import GroupbuyError
from fissionmall.groupbuy.groups import rows_changed
from fissionmall.groupbuy.models import GroupMember, GroupPool
from fissionmall.orders.models import OrderLine


async def _pool_row(s: AsyncSession, activity_id: int, sku_id: int) -> GroupPool | None:
    return await s.scalar(
        select(GroupPool)
        .where(GroupPool.activity_id == activity_id, GroupPool.sku_id == sku_id)
        .execution_options(populate_existing=True)
    )


async def set_pool(s: AsyncSession, *, activity_id: int, sku_id: int, new: int) -> None:
    """Make the SKU's pool `new` units (sold and held ones included), moving the difference between the
    SKU's stock and the pool, so SKU stock + pool stays the same."""
    row = await _pool_row(s, activity_id, sku_id)
    if row is None:
        await catalog.stock_to_pool(s, sku_id=sku_id, qty=new)
        s.add(GroupPool(activity_id=activity_id, sku_id=sku_id, pool=new, units_left=new, closed=False))
        await s.flush()
        return
    if row.closed:
        raise Conflict(GroupbuyError.ACTIVITY_STOCK_RETURNED, sku_id=sku_id)
    delta = new - row.pool
    if delta == 0:
        return
    # Sales move units_left only, never pool: comparing pool catches another operator's edit alone.
    res = await s.execute(
        update(GroupPool)
        .where(
            GroupPool.id == row.id,
            GroupPool.pool == row.pool,
            GroupPool.closed.is_(False),
            GroupPool.units_left + delta >= 0,
        )
        .values(pool=new, units_left=GroupPool.units_left + delta)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        now_row = await _pool_row(s, activity_id, sku_id)
        if now_row is not None and (now_row.pool != row.pool or now_row.closed):
            raise Conflict(GroupbuyError.STOCK_CHANGED, sku_id=sku_id)
        raise Conflict(GroupbuyError.STOCK_BELOW_RESERVED)
    if delta > 0:
        await catalog.stock_to_pool(s, sku_id=sku_id, qty=delta)
    else:
        await catalog.pool_to_stock(s, sku_id=sku_id, qty=-delta)


async def close_pools(s: AsyncSession, *, activity_id: int, sku_ids: Sequence[int] | None = None) -> int:
    """Give what is left of the pools back to their SKUs, once: a closed pool keeps only the units held by
    live orders. Returns the units given back."""
    q = select(GroupPool).where(GroupPool.activity_id == activity_id, GroupPool.closed.is_(False))
    if sku_ids is not None:
        q = q.where(GroupPool.sku_id.in_(sku_ids))
    # The row lock makes units_left final: a sale waiting on it then finds the pool closed.
    rows = (
        await s.scalars(q.order_by(GroupPool.sku_id).with_for_update().execution_options(populate_existing=True))
    ).all()
    given = 0
    for p in rows:
        res = await s.execute(
            update(GroupPool)
            .where(GroupPool.id == p.id, GroupPool.closed.is_(False))
            .values(closed=True, pool=GroupPool.pool - GroupPool.units_left, units_left=0)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(res) == 1:
            await catalog.pool_to_stock(s, sku_id=p.sku_id, qty=p.units_left)
            given += p.units_left
    return given


async def take_units(s: AsyncSession, *, activity_id: int, sku_id: int, qty: int) -> bool:
    """Take the units from the SKU's open pool in this activity. False: the SKU has no open pool (none
    asked for, or given back at the end), so the order takes the SKU's own stock instead."""
    res = await s.execute(
        update(GroupPool)
        .where(
            GroupPool.activity_id == activity_id,
            GroupPool.sku_id == sku_id,
            GroupPool.closed.is_(False),
            GroupPool.units_left >= qty,
        )
        .values(units_left=GroupPool.units_left - qty)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) == 1:
        return True
    still_open = await s.scalar(
        select(GroupPool.id).where(
            GroupPool.activity_id == activity_id, GroupPool.sku_id == sku_id, GroupPool.closed.is_(False)
        )
    )
    if still_open is not None:
        raise Conflict(CatalogError.SOLD_OUT, "拼团库存已抢光")
    return False


async def give_units(s: AsyncSession, *, member: GroupMember, cancelled: bool) -> None:
    """A member's units come back: to the activity's pool while it is open, else to the SKU."""
    if member.order_id is None or member.sku_id is None or member.qty < 1:
        return
    from_sku = await s.scalar(  # the goods line comes before any gift line
        select(OrderLine.sku_stock_taken)
        .where(OrderLine.order_id == member.order_id, OrderLine.sku_id == member.sku_id)
        .order_by(OrderLine.id)
        .limit(1)
    )
    if from_sku is None:
        return
    if from_sku:
        if not cancelled:  # a cancelled order's SKU stock was given back by the cancellation itself
            await catalog.unsell_stock(s, sku_id=member.sku_id, qty=member.qty)
        return
    res = await s.execute(
        update(GroupPool)
        .where(
            GroupPool.activity_id == member.activity_id, GroupPool.sku_id == member.sku_id, GroupPool.closed.is_(False)
        )
        .values(units_left=GroupPool.units_left + member.qty)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) == 1:
        return
    await s.execute(
        update(GroupPool)
        .where(GroupPool.activity_id == member.activity_id, GroupPool.sku_id == member.sku_id)
        .values(pool=GroupPool.pool - member.qty)
        .execution_options(synchronize_session=False)
    )
    await catalog.pool_to_stock(s, sku_id=member.sku_id, qty=member.qty)
