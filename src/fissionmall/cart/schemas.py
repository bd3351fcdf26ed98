"""The cart's API shapes: add a SKU, change a line, and the cart as the shopper sees it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from fissionmall.core.schemas import ApiModel
from fissionmall.orders.schemas import Id

# 0 is accepted by the schema so that it is told with the cart's own code (CART_QTY_ZERO), not a 422.
CartQty = Annotated[int, Field(strict=True, ge=0, le=999)]


class CartItemCreate(ApiModel):
    sku_id: Id
    qty: CartQty = 1


class CartItemUpdate(ApiModel):
    qty: CartQty | None = None
    selected: bool | None = None


class CartSelect(ApiModel):
    """全选 / 取消全选: every line (`ids` left out) or the listed ones."""

    selected: bool
    ids: Annotated[list[Id], Field(max_length=100)] | None = None


class CartLinePublic(ApiModel):
    id: int
    sku_id: int
    product_id: int
    qty: int
    selected: bool
    valid: bool
    # sold_out | off_shelf | sku_gone (invalid), price_changed (still valid, flagged), None
    invalid_reason: str | None
    price_changed: bool
    title: str
    sku_name: str
    image: str | None
    unit_price_fen: int  # now (the price when added, for an invalid line)
    price_fen_added: int
    stock: int
    subtotal_fen: int


class CartPublic(ApiModel):
    items: list[CartLinePublic]
    count: int  # lines in the cart (the tab bar's badge)
    units: int  # every unit in the cart
    selected_count: int  # selected valid lines (去结算 (n))
    selected_fen: int  # their list-price total (the checkout prices the marketing tools in)
    max_lines: int


class CartCount(ApiModel):
    count: int
