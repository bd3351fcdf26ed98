"""Group-buying activities: creating, editing, closing and listing them, and their end-of-activity timer.

An activity may take stock of its own per SKU (pools.py); editing it moves units between the SKU and its
pool, and when it ends or is closed the unsold units go back to the SKUs, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.catalog.errors import CatalogError
from fissionmall.core import clock, jobs
from fissionmall.core.db import keyset_page
from fissionmall.core.errors import AppError, Conflict, NotFound
from fissionmall.groupbuy.errors import GroupbuyError
from fissionmall.groupbuy.models import GroupActivity
from fissionmall.groupbuy.pools import close_pools, set_pool
from fissionmall.groupbuy.schemas import ActivityCreate, ActivitySkuCreate, ActivityUpdate

END_HANDLER = "groupbuy.activity_end"


async def _check_skus(s: AsyncSession, product_id: int, skus: Sequence[Any]) -> list[dict[str, int]]:
    product = await catalog.get_product(s, product_id=product_id, include_hidden=True)
    own = {k.id: k for k in product.skus if k.is_active}
    seen: set[int] = set()
    out = []
    for item in skus:
        if item.sku_id in seen:
            raise AppError(GroupbuyError.SKU_DUPLICATE, sku_id=item.sku_id)
        seen.add(item.sku_id)
        sku = own.get(item.sku_id)
        if sku is None:
            raise AppError(CatalogError.SKU_NOT_IN_PRODUCT)
        if item.price_fen > sku.price_fen:
            raise AppError(GroupbuyError.GROUP_PRICE_TOO_HIGH, sku_id=sku.id)
        out.append({"sku_id": item.sku_id, "price_fen": item.price_fen})
    return out


def _check_leader_discount(discount_fen: int, skus: Sequence[dict[str, int]]) -> None:
    """A leader pays at least 1 fen for the goods: a discount that swallows a group price would make
    every leader's order shipping only."""
    if discount_fen <= 0:
        return
    cheapest = min(skus, key=lambda k: k["price_fen"])
    if discount_fen >= cheapest["price_fen"]:
        raise AppError(
            GroupbuyError.LEADER_DISCOUNT_TOO_HIGH, sku_id=cheapest["sku_id"], price_fen=cheapest["price_fen"]
        )


def _pools_asked(items: Sequence[Any], stock: int | None) -> dict[int, int]:
    """SKU → the pool asked for: skus[].stock, or the top-level `stock` of a one-SKU activity."""
    per = {i.sku_id: i.stock for i in items if i.stock is not None}
    if stock is None:
        return per
    if len(items) == 1 and not per:
        return {items[0].sku_id: stock}
    if len(per) != len(items) or sum(per.values()) != stock:
        raise AppError(
            GroupbuyError.STOCK_SPLIT_REQUIRED,
            "活动有多个规格：请在每个规格上填写活动库存（skus[].stock），总数等于 stock",
        )
    return per


def _ended(act: GroupActivity) -> bool:
    return act.status != "active" or act.ends_at <= clock.now()


async def _schedule_end(s: AsyncSession, act: GroupActivity) -> None:
    # One job per end time: an edited ends_at gets its own job; the stale one finds nothing to do.
    await jobs.schedule(
        s,
        END_HANDLER,
        {"activity_id": act.id},
        due_at=act.ends_at,
        key=f"groupbuy-end:{act.id}:{int(act.ends_at.timestamp())}",
    )


async def create_activity(s: AsyncSession, *, data: ActivityCreate) -> GroupActivity:
    """Create a group-buying activity for one product. A SKU given a stock has that many units moved out of
    its own stock into the activity (refused with INSUFFICIENT_STOCK if it has fewer); the other SKUs sell
    straight from their own stock."""
    if data.ends_at <= data.starts_at:
        raise AppError(GroupbuyError.ACTIVITY_WINDOW_INVALID)
    skus = await _check_skus(s, data.product_id, data.skus)
    _check_leader_discount(data.leader_discount_fen, skus)
    pools = _pools_asked(data.skus, data.stock)
    product = await catalog.get_product(s, product_id=data.product_id, include_hidden=True)
    now = clock.now()
    fields = data.model_dump(exclude={"skus", "title", "stock"})
    act = GroupActivity(
        **fields,
        title=data.title or product.title,
        skus=skus,
        status="active",
        created_at=now,
        updated_at=now,
    )
    s.add(act)
    await s.flush()
    for sku_id in sorted(pools):  # lock SKUs in id order
        await set_pool(s, activity_id=act.id, sku_id=sku_id, new=pools[sku_id])
    if pools:
        await _schedule_end(s, act)
    return await get_activity(s, activity_id=act.id)


async def get_activity(s: AsyncSession, *, activity_id: int, for_sale: bool = False) -> GroupActivity:
    """The activity, read fresh; 404 if there is none (or, `for_sale`, if it is closed)."""
    act = await s.scalar(
        select(GroupActivity).where(GroupActivity.id == activity_id).execution_options(populate_existing=True)
    )
    if act is None or (for_sale and act.status != "active"):
        raise NotFound(GroupbuyError.ACTIVITY_NOT_FOUND)
    return act


async def update_activity(s: AsyncSession, *, activity_id: int, data: ActivityUpdate) -> GroupActivity:
    """Edit an activity. A new pool size (`stock`, or skus[].stock) moves units between the SKU's stock and
    the activity, never below what is reserved or sold; a SKU dropped from the activity gets its unsold
    pool back."""
    act = await get_activity(s, activity_id=activity_id)
    given = data.model_dump(exclude_unset=True)
    old_skus = [int(k["sku_id"]) for k in act.skus]
    items = data.skus if data.skus is not None else None
    if items is not None:
        act.skus = await _check_skus(s, act.product_id, items)
    discount = data.leader_discount_fen if data.leader_discount_fen is not None else act.leader_discount_fen
    _check_leader_discount(discount, act.skus)
    starts, ends = given.get("starts_at", act.starts_at), given.get("ends_at", act.ends_at)
    if ends <= starts:
        raise AppError(GroupbuyError.ACTIVITY_WINDOW_INVALID)
    if items is not None:
        asked = _pools_asked(items, data.stock)
    elif data.stock is not None:
        asked = _pools_asked([ActivitySkuCreate(sku_id=k, price_fen=0) for k in old_skus], data.stock)
    else:
        asked = {}
    held = {p.sku_id: p.pool for p in act.pools if not p.closed}
    asked = {k: v for k, v in asked.items() if held.get(k) != v}  # the console sends unchanged pools back
    if asked and _ended(act):
        raise Conflict(GroupbuyError.ACTIVITY_ENDED, "活动已结束，库存已退回商品，不能再调整")
    dropped = sorted(set(old_skus) - {int(k["sku_id"]) for k in act.skus})
    if dropped:
        await close_pools(s, activity_id=act.id, sku_ids=dropped)
    for sku_id in sorted(asked):
        await set_pool(s, activity_id=act.id, sku_id=sku_id, new=asked[sku_id])
    for key, value in given.items():
        if key in ("skus", "stock") or (value is None and key != "leader_coupon_template_id"):
            continue
        setattr(act, key, value)
    act.updated_at = clock.now()
    await s.flush()
    act = await get_activity(s, activity_id=act.id)
    if _ended(act):  # ends_at moved into the past
        await close_pools(s, activity_id=act.id)
        return await get_activity(s, activity_id=act.id)
    if act.pools:
        await _schedule_end(s, act)
    return act


async def end_activity_stock(s: AsyncSession, *, activity_id: int) -> int:
    """The activity is over: its unsold units go back to the SKUs (once). Groups already forming run on,
    drawing on the SKU's own stock. Returns the units given back."""
    act = await get_activity(s, activity_id=activity_id)
    if not _ended(act):
        return 0  # ends_at was moved later: that time has its own job
    return await close_pools(s, activity_id=act.id)


async def close_activity(s: AsyncSession, *, activity_id: int) -> GroupActivity:
    """Stop new groups and give the unsold stock back; groups already forming run to their end."""
    act = await get_activity(s, activity_id=activity_id)
    act.status, act.updated_at = "closed", clock.now()
    await s.flush()
    await close_pools(s, activity_id=act.id)
    return await get_activity(s, activity_id=act.id)


async def list_activities(
    s: AsyncSession,
    *,
    product_id: int | None = None,
    live_only: bool = False,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[GroupActivity], str | None]:
    """Activities newest first, one keyset page (`live_only`: active and not yet ended)."""
    q = select(GroupActivity).order_by(GroupActivity.id.desc())
    if product_id is not None:
        q = q.where(GroupActivity.product_id == product_id)
    if live_only:
        now = clock.now()
        q = q.where(GroupActivity.status == "active", GroupActivity.ends_at > now)
    if before_id:
        q = q.where(GroupActivity.id < before_id)
    return await keyset_page(s, q, limit=limit)


def sku_price(act: GroupActivity, sku_id: int) -> int | None:
    """The SKU's group price in this activity; None if the activity does not sell it."""
    for item in act.skus:
        if item["sku_id"] == sku_id:
            return int(item["price_fen"])
    return None
