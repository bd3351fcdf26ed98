"""The cart (购物车): one line per shopper and SKU, kept on the server.

Adding is one upsert (`INSERT … ON CONFLICT (customer_id, sku_id) DO UPDATE SET qty = qty + excluded.qty`),
conditional in the same statement on the line's cap (the stock seen now, at most `max_line_qty`) and,
for a new line, on the cart's size, so concurrent adds of one SKU make one line with the summed quantity
and never a unique-key error. What a line is worth is decided when the cart is read: the catalogue's
price and stock now, the line invalid when the SKU is sold out, off the shelf or gone, flagged when the
price changed since it was added. Checkout reads the selected lines (`lines_for_checkout`) and removes the
ordered ones in the order's own transaction (`remove_ordered`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.cart.errors import CartError
from fissionmall.cart.models import CartItem
from fissionmall.catalog import service as catalog
from fissionmall.catalog.errors import CatalogError
from fissionmall.core import clock
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import AppError, Conflict, NotFound

MAX_LINES = 100


@dataclass(frozen=True)
class CartLineView:
    item: CartItem
    valid: bool
    reason: str | None  # sold_out | off_shelf | sku_gone | price_changed | None
    unit_price_fen: int
    stock: int
    title: str
    sku_name: str
    image: str | None


async def _own(s: AsyncSession, customer_id: int, item_id: int) -> CartItem:
    it = await s.scalar(
        select(CartItem)
        .where(CartItem.id == item_id, CartItem.customer_id == customer_id)
        .execution_options(populate_existing=True)
    )
    if it is None:  # someone else's line reads exactly like a missing one
        raise NotFound(CartError.CART_ITEM_NOT_FOUND)
    return it


async def _for_sale(s: AsyncSession, sku_id: int) -> tuple[Any, Any]:
    found = await catalog.skus_for_sale(s, sku_ids=[sku_id])
    if sku_id not in found:
        raise NotFound(CatalogError.SKU_NOT_FOUND, sku_id=sku_id)
    return found[sku_id]


async def add(s: AsyncSession, *, customer_id: int, sku_id: int, qty: int, max_line_qty: int) -> CartItem:
    """Put `qty` of a SKU in the cart (added to the line's quantity when it is there already), in one
    statement that refuses past the stock, past `max_line_qty` and, for a new line, past MAX_LINES."""
    if qty == 0:
        raise AppError(CartError.CART_QTY_ZERO)
    sku, prod = await _for_sale(s, sku_id)
    if sku.stock <= 0:
        raise Conflict(CatalogError.OUT_OF_STOCK, sku_id=sku_id, stock=0)
    cap = min(sku.stock, max_line_qty)
    now = clock.now()
    values = {
        "customer_id": customer_id,
        "sku_id": sku_id,
        "product_id": prod.id,
        "qty": qty,
        "selected": True,
        "price_fen_added": sku.price_fen,
        "title": prod.title[:120],
        "sku_name": sku.name[:64],
        "image": str(prod.images[0])[:500] if prod.images else None,
        "created_at": now,
        "updated_at": now,
    }
    cols = list(values)
    same = and_(CartItem.customer_id == customer_id, CartItem.sku_id == sku_id)
    lines = select(func.count()).select_from(CartItem).where(CartItem.customer_id == customer_id).scalar_subquery()
    # The row to insert exists only while it fits: the new line's own qty under the cap, and the cart not
    # full unless this SKU is already in it (then the conflict path below adds to that line instead).
    src = select(*(literal(values[c], CartItem.__table__.c[c].type) for c in cols)).where(
        or_(lines < MAX_LINES, exists().where(same))
    )
    ins = (pg_insert if is_postgres(s) else sqlite_insert)(CartItem).from_select(cols, src)
    stmt = ins.on_conflict_do_update(
        index_elements=["customer_id", "sku_id"],
        set_={
            "qty": CartItem.qty + ins.excluded.qty,
            "selected": True,
            "price_fen_added": ins.excluded.price_fen_added,
            "title": ins.excluded.title,
            "sku_name": ins.excluded.sku_name,
            "image": ins.excluded.image,
            "updated_at": ins.excluded.updated_at,
        },
        where=CartItem.qty + ins.excluded.qty <= cap,
    ).returning(CartItem.id)
    got = (await s.execute(stmt)).scalar() if qty <= cap else None
    if got is None:
        await _refuse_add(
            s, customer_id=customer_id, sku_id=sku_id, qty=qty, stock=sku.stock, max_line_qty=max_line_qty
        )
    return await _own(s, customer_id, int(got))  # type: ignore[arg-type]


async def _refuse_add(
    s: AsyncSession, *, customer_id: int, sku_id: int, qty: int, stock: int, max_line_qty: int
) -> None:
    have = await s.scalar(select(CartItem.qty).where(CartItem.customer_id == customer_id, CartItem.sku_id == sku_id))
    if have is None and await count_lines(s, customer_id=customer_id) >= MAX_LINES:
        raise Conflict(CartError.CART_FULL, max_lines=MAX_LINES)
    total = (have or 0) + qty
    if total > max_line_qty and stock >= max_line_qty:
        raise Conflict(CartError.CART_LINE_MAX, max_qty=max_line_qty, in_cart=have or 0)
    raise Conflict(CartError.CART_QTY_EXCEEDS_STOCK, f"库存仅剩 {stock} 件", stock=stock, in_cart=have or 0)


async def update_item(
    s: AsyncSession, *, customer_id: int, item_id: int, qty: int | None, selected: bool | None, max_line_qty: int
) -> CartItem:
    """Change a line's quantity (0 refused: delete it; above the stock refused with the stock) or whether
    it is selected for checkout."""
    it = await _own(s, customer_id, item_id)
    values: dict[str, Any] = {}
    if qty is not None:
        if qty == 0:
            raise AppError(CartError.CART_QTY_ZERO)
        if qty > max_line_qty:
            raise Conflict(CartError.CART_LINE_MAX, max_qty=max_line_qty)
        found = await catalog.skus_for_sale(s, sku_ids=[it.sku_id])
        if it.sku_id not in found:
            raise Conflict(CartError.CART_SKU_UNAVAILABLE, sku_id=it.sku_id)
        stock = found[it.sku_id][0].stock
        if qty > stock:
            raise Conflict(CartError.CART_QTY_EXCEEDS_STOCK, f"库存仅剩 {stock} 件", stock=stock)
        values["qty"] = qty
    if selected is not None:
        values["selected"] = selected
    if values:
        await s.execute(
            update(CartItem)
            .where(CartItem.id == it.id)
            .values(**values, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
    return await _own(s, customer_id, item_id)


async def remove(s: AsyncSession, *, customer_id: int, item_id: int) -> None:
    """Take a line out of the cart (someone else's line: not found)."""
    res = await s.execute(
        delete(CartItem)
        .where(CartItem.id == item_id, CartItem.customer_id == customer_id)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound(CartError.CART_ITEM_NOT_FOUND)


async def select_lines(s: AsyncSession, *, customer_id: int, selected: bool, ids: Sequence[int] | None) -> None:
    """全选 / 取消全选: mark every line (or the listed ones of this shopper) selected or not."""
    q = update(CartItem).where(CartItem.customer_id == customer_id)
    if ids is not None:
        q = q.where(CartItem.id.in_(ids))
    await s.execute(q.values(selected=selected, updated_at=clock.now()).execution_options(synchronize_session=False))


async def remove_invalid(s: AsyncSession, *, customer_id: int) -> int:
    """清空失效商品: remove the lines that can no longer be bought; returns how many."""
    views = await lines(s, customer_id=customer_id)
    gone = [v.item.id for v in views if not v.valid]
    if gone:
        await s.execute(
            delete(CartItem)
            .where(CartItem.customer_id == customer_id, CartItem.id.in_(gone))
            .execution_options(synchronize_session=False)
        )
    return len(gone)


async def count_lines(s: AsyncSession, *, customer_id: int) -> int:
    """How many lines the cart holds (the tab bar's badge)."""
    n = await s.scalar(select(func.count()).select_from(CartItem).where(CartItem.customer_id == customer_id))
    return int(n or 0)


async def _why_gone(s: AsyncSession, item: CartItem) -> str:
    try:
        p = await catalog.get_product(s, product_id=item.product_id, include_hidden=True)
    except AppError:
        return "off_shelf"  # the product was deleted
    if p.status != "on_sale":
        return "off_shelf"
    return "sku_gone"


async def lines(s: AsyncSession, *, customer_id: int, lock: bool = False) -> list[CartLineView]:
    """The shopper's lines, newest first, each judged against the catalogue now (`lock`: the rows locked
    FOR UPDATE on PostgreSQL, for the order placed from them)."""
    q = (
        select(CartItem)
        .where(CartItem.customer_id == customer_id)
        .order_by(CartItem.updated_at.desc(), CartItem.id.desc())
        .execution_options(populate_existing=True)
    )
    items = list((await s.scalars(q.with_for_update() if lock else q)).all())
    found = await catalog.skus_for_sale(s, sku_ids=[it.sku_id for it in items]) if items else {}
    out = []
    for it in items:
        if it.sku_id not in found:
            out.append(
                CartLineView(it, False, await _why_gone(s, it), it.price_fen_added, 0, it.title, it.sku_name, it.image)
            )
            continue
        sku, prod = found[it.sku_id]
        image = str(prod.images[0]) if prod.images else None
        reason = "sold_out" if sku.stock <= 0 else ("price_changed" if sku.price_fen != it.price_fen_added else None)
        out.append(
            CartLineView(it, reason != "sold_out", reason, sku.price_fen, sku.stock, prod.title, sku.name, image)
        )
    return out


def cart_out(views: Sequence[CartLineView]) -> dict[str, Any]:
    """The cart as GET /cart answers it."""
    chosen = [v for v in views if v.valid and v.item.selected]
    return {
        "items": [
            {
                "id": v.item.id,
                "sku_id": v.item.sku_id,
                "product_id": v.item.product_id,
                "qty": v.item.qty,
                "selected": v.item.selected,
                "valid": v.valid,
                "invalid_reason": v.reason,
                "price_changed": v.reason == "price_changed",
                "title": v.title,
                "sku_name": v.sku_name,
                "image": v.image,
                "unit_price_fen": v.unit_price_fen,
                "price_fen_added": v.item.price_fen_added,
                "stock": v.stock,
                "subtotal_fen": v.unit_price_fen * v.item.qty,
            }
            for v in views
        ],
        "count": len(views),
        "units": sum(v.item.qty for v in views),
        "selected_count": len(chosen),
        "selected_fen": sum(v.unit_price_fen * v.item.qty for v in chosen),
        "max_lines": MAX_LINES,
    }


async def lines_for_checkout(
    s: AsyncSession, *, customer_id: int, max_lines: int, placing: bool = False
) -> list[tuple[int, int]]:
    """The selected lines as (sku_id, qty) for checkout: CART_EMPTY when none is selected,
    CART_LINE_INVALID naming the first selected line that cannot be bought. `placing` locks the lines, so
    a second order racing from the same cart waits for the first and finds its lines gone (CART_EMPTY)."""
    chosen = [v for v in await lines(s, customer_id=customer_id, lock=placing) if v.item.selected]
    if not chosen:
        raise AppError(CartError.CART_EMPTY)
    for v in chosen:
        if not v.valid:
            raise Conflict(
                CartError.CART_LINE_INVALID,
                f"“{v.title}”已失效，请先移除",
                item_id=v.item.id,
                sku_id=v.item.sku_id,
                reason=v.reason,
            )
    if len(chosen) > max_lines:
        raise AppError(CartError.CART_TOO_MANY_SELECTED, max_lines=max_lines)
    return sorted((v.item.sku_id, v.item.qty) for v in chosen)


async def remove_ordered(s: AsyncSession, *, customer_id: int, ordered: Sequence[tuple[int, int]]) -> None:
    """The (sku_id, qty) an order was placed from leave the cart, in the order's transaction: the line goes,
    or keeps only what a concurrent add put in it meanwhile."""
    for sku_id, qty in ordered:
        line = and_(CartItem.customer_id == customer_id, CartItem.sku_id == sku_id)
        await s.execute(
            update(CartItem)
            .where(line, CartItem.qty > qty)
            .values(qty=CartItem.qty - qty, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        await s.execute(delete(CartItem).where(line, CartItem.qty <= qty).execution_options(synchronize_session=False))
