"""积分商城 items: the merchant's CRUD. A product item's stock leaves the SKU's stock when it is set
(catalog.stock_to_pool) and what is left goes back when the item ends (the end timer) or is deleted
(catalog.pool_to_stock), so SKU stock + items' units + units sold stays the same."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog import service as catalog
from fissionmall.core import clock, jobs
from fissionmall.core.errors import AppError, Conflict, NotFound
from fissionmall.coupons.models import CouponTemplate
from fissionmall.pointsmall import rules
from fissionmall.pointsmall.errors import PointsMallError
from fissionmall.pointsmall.models import MallItem
from fissionmall.pointsmall.schemas import ItemCreate, ItemUpdate

END_JOB = "pointsmall.end"


def window(it: MallItem) -> rules.Window:
    """The item's redemption window, for rules."""
    return rules.Window(active=it.active, closed=it.closed, starts_at=it.starts_at, ends_at=it.ends_at)


def _check_window(it: MallItem) -> None:
    if it.starts_at is not None and it.ends_at is not None and it.ends_at <= it.starts_at:
        raise AppError(PointsMallError.MALL_WINDOW_INVALID, field="ends_at")


async def _end_timer(s: AsyncSession, it: MallItem) -> None:
    if it.ends_at is not None:
        key = f"pointsmall-end:{it.id}:{int(it.ends_at.timestamp())}"
        await jobs.schedule(s, END_JOB, {"item_id": it.id}, due_at=it.ends_at, key=key)


async def _coupon_title(s: AsyncSession, template_id: int) -> str:
    t = await s.scalar(select(CouponTemplate).where(CouponTemplate.id == template_id))
    if t is None:
        raise NotFound(PointsMallError.MALL_COUPON_NOT_FOUND, field="coupon_template_id")
    if t.status != "active":
        raise Conflict(PointsMallError.MALL_COUPON_INACTIVE, field="coupon_template_id")
    return t.name


async def create_item(s: AsyncSession, *, data: ItemCreate) -> MallItem:
    """A new item; a product item's stock leaves the SKU's stock now."""
    now = clock.now()
    it = MallItem(
        kind=data.kind,
        points=data.points,
        cash_fen=data.cash_fen,
        stock=data.stock,
        units_left=data.stock,
        redeemed=0,
        per_user_limit=data.per_user_limit,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        active=data.active,
        closed=False,
        deleted=False,
        sort_order=data.sort_order,
        created_at=now,
        updated_at=now,
    )
    _check_window(it)
    if data.kind == "product":
        if data.sku_id is None:
            raise AppError(PointsMallError.MALL_SKU_REQUIRED, field="sku_id")
        found = await catalog.skus_for_sale(s, sku_ids=[data.sku_id], with_stock=False)
        if data.sku_id not in found:
            raise NotFound(PointsMallError.MALL_SKU_NOT_FOUND, field="sku_id")
        sku, prod = found[data.sku_id]
        it.sku_id, it.product_id = sku.id, prod.id
        title = prod.title if sku.name in ("", "默认") else f"{prod.title} {sku.name}"
        it.title = data.title or title[:60]
        if data.stock:
            await catalog.stock_to_pool(s, sku_id=sku.id, qty=data.stock)
    else:
        if data.coupon_template_id is None:
            raise AppError(PointsMallError.MALL_COUPON_REQUIRED, field="coupon_template_id")
        name = await _coupon_title(s, data.coupon_template_id)
        it.coupon_template_id = data.coupon_template_id
        it.title = data.title or name[:60]
    s.add(it)
    await s.flush()
    await _end_timer(s, it)
    return it


async def get_item(s: AsyncSession, *, item_id: int, lock: bool = False) -> MallItem:
    """One item that is not deleted (MALL_ITEM_NOT_FOUND otherwise)."""
    q = select(MallItem).where(MallItem.id == item_id, MallItem.deleted.is_(False))
    q = q.execution_options(populate_existing=True)
    it = await s.scalar(q.with_for_update() if lock else q)
    if it is None:
        raise NotFound(PointsMallError.MALL_ITEM_NOT_FOUND)
    return it


async def list_items(s: AsyncSession, *, live_at: datetime | None = None) -> Sequence[MallItem]:
    """Items not deleted, in the shop's order; with `live_at`, only those the shop lists then."""
    q = select(MallItem).where(MallItem.deleted.is_(False)).order_by(MallItem.sort_order, MallItem.id)
    if live_at is not None:
        q = q.where(MallItem.active.is_(True), MallItem.closed.is_(False))
        rows = (await s.scalars(q.limit(200))).all()
        return [it for it in rows if rules.is_live(window(it), live_at)]
    return (await s.scalars(q.limit(500))).all()


async def _set_stock(s: AsyncSession, it: MallItem, new: int) -> None:
    """Make the item's stock `new` (redeemed units included), moving the difference between the SKU and
    the item; guarded on the stock read, so two editors or a redemption never lose a unit."""
    delta = new - it.stock
    if delta == 0:
        return
    if it.closed:
        raise Conflict(PointsMallError.MALL_ITEM_CLOSED, field="stock")
    res = await s.execute(
        update(MallItem)
        .where(MallItem.id == it.id, MallItem.stock == it.stock, MallItem.units_left + delta >= 0)
        .values(stock=new, units_left=MallItem.units_left + delta)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        now_stock = await s.scalar(select(MallItem.stock).where(MallItem.id == it.id))
        if now_stock != it.stock:
            raise Conflict(PointsMallError.MALL_STOCK_CHANGED, field="stock")
        raise Conflict(PointsMallError.MALL_STOCK_BELOW_REDEEMED, field="stock")
    if it.sku_id is not None:
        if delta > 0:
            await catalog.stock_to_pool(s, sku_id=it.sku_id, qty=delta)
        else:
            await catalog.pool_to_stock(s, sku_id=it.sku_id, qty=-delta)


async def update_item(s: AsyncSession, *, item_id: int, data: ItemUpdate) -> MallItem:
    """Change the fields given (a closed item only its title and order)."""
    it = await get_item(s, item_id=item_id, lock=True)
    given = data.model_fields_set
    if it.closed and given - {"title", "sort_order", "active"}:
        raise Conflict(PointsMallError.MALL_ITEM_CLOSED)
    if "stock" in given and data.stock is not None:
        await _set_stock(s, it, data.stock)
    for name in ("title", "points", "cash_fen", "per_user_limit", "active", "sort_order"):
        if name in given and getattr(data, name) is not None:
            setattr(it, name, getattr(data, name))
    for name in ("starts_at", "ends_at"):
        if name in given:
            setattr(it, name, getattr(data, name))
    _check_window(it)
    it.updated_at = clock.now()
    await s.flush()
    await _end_timer(s, it)
    return await get_item(s, item_id=item_id)


async def close_item(s: AsyncSession, *, item_id: int) -> int:
    """End the item for good: what is left goes back to the SKU, once. Returns the units given back."""
    it = await s.scalar(
        select(MallItem).where(MallItem.id == item_id).with_for_update().execution_options(populate_existing=True)
    )
    if it is None or it.closed:
        return 0
    left = it.units_left
    res = await s.execute(
        update(MallItem)
        .where(MallItem.id == it.id, MallItem.closed.is_(False))
        .values(closed=True, stock=MallItem.stock - MallItem.units_left, units_left=0, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    if it.sku_id is not None:
        await catalog.pool_to_stock(s, sku_id=it.sku_id, qty=left)
    return left


async def delete_item(s: AsyncSession, *, item_id: int) -> None:
    """Take the item off the mall: its stock goes back, its redemptions stay on record."""
    await get_item(s, item_id=item_id, lock=True)
    await close_item(s, item_id=item_id)
    await s.execute(
        update(MallItem)
        .where(MallItem.id == item_id)
        .values(deleted=True, active=False, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )


async def count_live(s: AsyncSession) -> int:
    """Items on sale now (for the console's figures)."""
    return int(
        await s.scalar(
            select(func.count()).select_from(MallItem).where(MallItem.deleted.is_(False), MallItem.closed.is_(False))
        )
        or 0
    )


@jobs.handler(END_JOB)
async def _on_end(s: AsyncSession, job: jobs.Job) -> None:
    it = await s.scalar(select(MallItem).where(MallItem.id == int(job.payload["item_id"])))
    if it is None or it.closed or it.ends_at is None or it.ends_at > clock.now():
        return  # moved later (its own timer will come) or already closed
    await close_item(s, item_id=it.id)
