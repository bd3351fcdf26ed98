"""The shopper's cart: /api/v1/cart (API.md: GET /cart · POST /cart/items · PATCH/DELETE /cart/items/{id})."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from fissionmall.accounts.deps import CurrentCustomer
from fissionmall.cart import service
from fissionmall.cart.schemas import CartCount, CartItemCreate, CartItemUpdate, CartPublic, CartSelect
from fissionmall.core.deps import DbDep, SettingsDep
from fissionmall.core.schemas import IdPath

router = APIRouter(tags=["cart"])


async def _cart(db: Any, customer_id: int) -> dict[str, Any]:
    async with db.read() as s:
        return service.cart_out(await service.lines(s, customer_id=customer_id))


@router.get("/cart", response_model=CartPublic)
async def get_cart(caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """The cart: every line with its price and stock now, `valid` and `invalid_reason` (sold_out,
    off_shelf, sku_gone; price_changed is still valid), the selected total and the badge's count."""
    return await _cart(db, caller.id)


@router.get("/cart/count", response_model=CartCount)
async def cart_count(caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """How many lines the cart holds (the tab bar's badge)."""
    async with db.read() as s:
        return {"count": await service.count_lines(s, customer_id=caller.id)}


@router.post("/cart/items", response_model=CartPublic, status_code=201)
async def add_item(body: CartItemCreate, caller: CurrentCustomer, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """加入购物车: the same SKU again adds to its line. 409 CART_QTY_EXCEEDS_STOCK / CART_LINE_MAX /
    CART_FULL past the caps; answers the whole cart."""
    async with db.tx() as s:
        await service.add(
            s, customer_id=caller.id, sku_id=body.sku_id, qty=body.qty, max_line_qty=settings.max_line_qty
        )
    return await _cart(db, caller.id)


@router.patch("/cart/items/{item_id}", response_model=CartPublic)
async def update_item(
    item_id: IdPath, body: CartItemUpdate, caller: CurrentCustomer, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    """Change a line's `qty` (0: CART_QTY_ZERO, delete it instead; above the stock: CART_QTY_EXCEEDS_STOCK
    with the stock) or `selected`; answers the whole cart."""
    async with db.tx() as s:
        await service.update_item(
            s,
            customer_id=caller.id,
            item_id=item_id,
            qty=body.qty,
            selected=body.selected,
            max_line_qty=settings.max_line_qty,
        )
    return await _cart(db, caller.id)


@router.delete("/cart/items/{item_id}", status_code=204)
async def delete_item(item_id: IdPath, caller: CurrentCustomer, db: DbDep) -> Response:
    """Remove a line."""
    async with db.tx() as s:
        await service.remove(s, customer_id=caller.id, item_id=item_id)
    return Response(status_code=204)


@router.post("/cart/select", response_model=CartPublic)
async def select_lines(body: CartSelect, caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """全选 / 取消全选 (every line, or the listed `ids`)."""
    async with db.tx() as s:
        await service.select_lines(s, customer_id=caller.id, selected=body.selected, ids=body.ids)
    return await _cart(db, caller.id)


@router.post("/cart/remove-invalid", response_model=CartPublic)
async def remove_invalid(caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """清空失效商品: remove every line that can no longer be bought."""
    async with db.tx() as s:
        await service.remove_invalid(s, customer_id=caller.id)
    return await _cart(db, caller.id)
