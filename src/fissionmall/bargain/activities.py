"""Bargaining activities: creating, editing, closing and listing them, their own stock and end timer.

An activity takes `stock` units out of its SKU's stock when it is created (catalog.stock_to_pool);
editing the stock moves the difference, never below the units held by orders; when it ends or is closed
the free units go back to the SKU, once (pool_to_stock).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.bargain import rules
from fissionmall.bargain.errors import BargainError
from fissionmall.bargain.models import BargainActivity
from fissionmall.bargain.schemas import ActivityCreate, ActivityUpdate
from fissionmall.catalog import service as catalog
from fissionmall.catalog.errors import CatalogError
from fissionmall.core import clock, jobs
from fissionmall.core.db import keyset_page
from fissionmall.core.errors import AppError, Conflict, NotFound

END_HANDLER = "bargain.activity_end"
SOLD_OUT_TEXT = "砍价商品已抢光"  # catalogue's SOLD_OUT, in this tool's words


def rows_changed(res: Any) -> int:
    """Rows a conditional UPDATE changed (0: another caller got there first)."""
    return int(res.rowcount)


def check_rules(*, start_fen: int, target_fen: int, helpers: int, min_cut: int | None, max_cut: int | None) -> None:
    """Refuse a configuration that cannot reach the target in exactly `helpers` helps within its bounds."""
    code = rules.config_refusal(
        start_fen=start_fen, target_fen=target_fen, helpers=helpers, min_cut=min_cut, max_cut=max_cut
    )
    if code is not None:
        text = rules.refusal_text(
            code, start_fen=start_fen, target_fen=target_fen, helpers=helpers, min_cut=min_cut, max_cut=max_cut
        )
        raise AppError(code, text, helpers_needed=helpers, total_fen=start_fen - target_fen)


async def _sku_price(s: AsyncSession, product_id: int, sku_id: int) -> tuple[str, int]:
    product = await catalog.get_product(s, product_id=product_id, include_hidden=True)
    sku = next((k for k in product.skus if k.id == sku_id and k.is_active), None)
    if sku is None:
        raise AppError(CatalogError.SKU_NOT_IN_PRODUCT)
    return product.title, sku.price_fen


def _ended(act: BargainActivity) -> bool:
    return act.status != "active" or (act.ends_at is not None and act.ends_at <= clock.now())


async def _schedule_end(s: AsyncSession, act: BargainActivity) -> None:
    # One job per end time: an edited ends_at gets its own job; the stale one finds nothing to do.
    if act.ends_at is None:
        return
    await jobs.schedule(
        s,
        END_HANDLER,
        {"activity_id": act.id},
        due_at=act.ends_at,
        key=f"bargain-end:{act.id}:{int(act.ends_at.timestamp())}",
    )


def _check_window(starts: datetime, ends: datetime | None) -> None:
    if ends is not None and ends <= starts:
        raise AppError(BargainError.ACTIVITY_WINDOW_INVALID)


async def create_activity(s: AsyncSession, *, data: ActivityCreate) -> BargainActivity:
    """Create a bargaining activity for one SKU; its stock is moved out of the SKU's (INSUFFICIENT_STOCK
    if the SKU has fewer). The rules are refused unless they reach the target in exactly N helps."""
    title, list_price = await _sku_price(s, data.product_id, data.sku_id)
    start = data.start_fen if data.start_fen is not None else list_price
    if start > list_price:
        raise AppError(BargainError.START_ABOVE_PRICE)
    check_rules(
        start_fen=start,
        target_fen=data.target_fen,
        helpers=data.helpers_needed,
        min_cut=data.min_cut_fen,
        max_cut=data.max_cut_fen,
    )
    now = clock.now()
    starts = data.starts_at or now
    _check_window(starts, data.ends_at)
    fields = data.model_dump(exclude={"title", "start_fen", "starts_at", "stock"})
    act = BargainActivity(
        **fields,
        title=data.title or title,
        start_fen=start,
        starts_at=starts,
        stock=data.stock,
        stock_left=data.stock,
        stock_closed=False,
        status="active",
        created_at=now,
        updated_at=now,
    )
    s.add(act)
    await s.flush()
    if data.stock:
        await catalog.stock_to_pool(s, sku_id=act.sku_id, qty=data.stock)
    await _schedule_end(s, act)
    return await get_activity(s, activity_id=act.id)


async def get_activity(s: AsyncSession, *, activity_id: int, for_sale: bool = False) -> BargainActivity:
    """The activity, read fresh; 404 if there is none (or, `for_sale`, if it is closed)."""
    act = await s.scalar(
        select(BargainActivity).where(BargainActivity.id == activity_id).execution_options(populate_existing=True)
    )
    if act is None or (for_sale and act.status != "active"):
        raise NotFound(BargainError.BARGAIN_ACTIVITY_NOT_FOUND)
    return act


async def _set_stock(s: AsyncSession, act: BargainActivity, new: int) -> None:
    """Make the activity's stock `new` units (held and sold ones included), moving the difference."""
    delta = new - act.stock
    if delta == 0:
        return
    if act.stock_closed:
        raise Conflict(BargainError.ACTIVITY_STOCK_RETURNED)
    res = await s.execute(
        update(BargainActivity)
        .where(
            BargainActivity.id == act.id,
            BargainActivity.stock == act.stock,
            BargainActivity.stock_closed.is_(False),
            BargainActivity.stock_left + delta >= 0,
        )
        .values(stock=new, stock_left=BargainActivity.stock_left + delta)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        raise Conflict(BargainError.STOCK_BELOW_HELD)
    if delta > 0:
        await catalog.stock_to_pool(s, sku_id=act.sku_id, qty=delta)
    else:
        await catalog.pool_to_stock(s, sku_id=act.sku_id, qty=-delta)


async def update_activity(s: AsyncSession, *, activity_id: int, data: ActivityUpdate) -> BargainActivity:
    """Edit an activity. Bargains already started keep the rules they started with; a new stock moves
    units between the SKU and the activity."""
    act = await get_activity(s, activity_id=activity_id)
    given = data.model_dump(exclude_unset=True)
    merged = {
        k: given.get(k, getattr(act, k))
        for k in ("start_fen", "target_fen", "helpers_needed", "min_cut_fen", "max_cut_fen")
    }
    if "start_fen" in given:
        _, list_price = await _sku_price(s, act.product_id, act.sku_id)
        if merged["start_fen"] > list_price:
            raise AppError(BargainError.START_ABOVE_PRICE)
    check_rules(
        start_fen=merged["start_fen"],
        target_fen=merged["target_fen"],
        helpers=merged["helpers_needed"],
        min_cut=merged["min_cut_fen"],
        max_cut=merged["max_cut_fen"],
    )
    _check_window(given.get("starts_at", act.starts_at), given.get("ends_at", act.ends_at))
    if "stock" in given:
        if _ended(act) and given["stock"] != act.stock:
            raise Conflict(BargainError.ACTIVITY_STOCK_RETURNED)
        await _set_stock(s, act, given["stock"])
    for key, value in given.items():
        if key != "stock":
            setattr(act, key, value)
    act.updated_at = clock.now()
    await s.flush()
    act = await get_activity(s, activity_id=act.id)
    if _ended(act):  # ends_at moved into the past
        await close_stock(s, activity_id=act.id)
        return await get_activity(s, activity_id=act.id)
    await _schedule_end(s, act)
    return act


async def close_stock(s: AsyncSession, *, activity_id: int) -> int:
    """Give the free units back to the SKU, once. Returns the units given back."""
    act = await s.scalar(
        select(BargainActivity)
        .where(BargainActivity.id == activity_id, BargainActivity.stock_closed.is_(False))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if act is None:
        return 0
    left = act.stock_left
    res = await s.execute(
        update(BargainActivity)
        .where(BargainActivity.id == act.id, BargainActivity.stock_closed.is_(False))
        .values(stock_closed=True, stock=BargainActivity.stock - BargainActivity.stock_left, stock_left=0)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        return 0
    await catalog.pool_to_stock(s, sku_id=act.sku_id, qty=left)
    return left


async def end_activity_stock(s: AsyncSession, *, activity_id: int) -> int:
    """The activity's end time came: its free units go back to the SKU (once; a later end has its own job)."""
    act = await get_activity(s, activity_id=activity_id)
    if not _ended(act):
        return 0
    return await close_stock(s, activity_id=act.id)


async def close_activity(s: AsyncSession, *, activity_id: int) -> BargainActivity:
    """Stop new bargains and give the free stock back; bargains under way run to their deadline."""
    act = await get_activity(s, activity_id=activity_id)
    act.status, act.updated_at = "closed", clock.now()
    await s.flush()
    await close_stock(s, activity_id=act.id)
    return await get_activity(s, activity_id=act.id)


async def list_activities(
    s: AsyncSession,
    *,
    product_id: int | None = None,
    live_only: bool = False,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[BargainActivity], str | None]:
    """Activities newest first, one keyset page (`live_only`: active, started and not ended)."""
    q = select(BargainActivity).order_by(BargainActivity.id.desc())
    if product_id is not None:
        q = q.where(BargainActivity.product_id == product_id)
    if live_only:
        now = clock.now()
        q = q.where(
            BargainActivity.status == "active",
            BargainActivity.starts_at <= now,
            (BargainActivity.ends_at.is_(None)) | (BargainActivity.ends_at > now),
        )
    if before_id:
        q = q.where(BargainActivity.id < before_id)
    return await keyset_page(s, q, limit=limit)


async def take_unit(s: AsyncSession, *, activity_id: int) -> bool:
    """Hold one unit for an order: True from the activity's stock; False when the stock went back to the
    SKU already (the order then takes the SKU's own stock). SOLD_OUT when the activity has none left."""
    res = await s.execute(
        update(BargainActivity)
        .where(
            BargainActivity.id == activity_id,
            BargainActivity.stock_closed.is_(False),
            BargainActivity.stock_left >= 1,
        )
        .values(stock_left=BargainActivity.stock_left - 1)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) == 1:
        return True
    closed = await s.scalar(select(BargainActivity.stock_closed).where(BargainActivity.id == activity_id))
    if not closed:
        raise Conflict(CatalogError.SOLD_OUT, SOLD_OUT_TEXT)
    return False


async def give_unit(s: AsyncSession, *, activity_id: int, sku_id: int) -> None:
    """A held unit comes back: to the activity while its stock is open, else to the SKU."""
    res = await s.execute(
        update(BargainActivity)
        .where(BargainActivity.id == activity_id, BargainActivity.stock_closed.is_(False))
        .values(stock_left=BargainActivity.stock_left + 1)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) == 1:
        return
    await s.execute(
        update(BargainActivity)
        .where(BargainActivity.id == activity_id)
        .values(stock=BargainActivity.stock - 1)
        .execution_options(synchronize_session=False)
    )
    await catalog.pool_to_stock(s, sku_id=sku_id, qty=1)
