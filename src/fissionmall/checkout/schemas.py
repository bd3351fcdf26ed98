"""Checkout's API shapes: the cart a shopper sends (preview and order) and the priced preview it answers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from fissionmall.addresses.schemas import Address, one_address
from fissionmall.core.schemas import ApiModel
from fissionmall.orders.schemas import Id, Qty, StepPublic


class CartItem(ApiModel):
    sku_id: Id
    qty: Qty


class CheckoutRequest(ApiModel):
    # The goods: `items`, or `from_cart: true` for the selected lines of the shopper's cart (cart/);
    # exactly one of them.
    items: Annotated[list[CartItem], Field(max_length=50)] = []
    from_cart: bool = False
    coupon_id: Id | None = None
    points: Annotated[int, Field(strict=True, ge=0, le=10**9)] | None = None
    # Where it ships: an inline `address`, or `address_id` from the shopper's book; neither: the default
    # address (ADDRESS_REQUIRED when the book is empty). The order keeps a copy either way.
    address: Address | None = None
    address_id: Id | None = None
    remark: Annotated[str, StringConstraints(max_length=200)] = ""

    @model_validator(mode="after")
    def _one_address(self) -> CheckoutRequest:
        return one_address(self)

    @model_validator(mode="after")
    def _one_source(self) -> CheckoutRequest:
        if self.from_cart and self.items:
            raise ValueError("items 与 from_cart 只能二选一")
        if not self.from_cart and not self.items:
            raise ValueError("请选择要购买的商品")
        return self


class PreviewLine(ApiModel):
    sku_id: int
    product_id: int
    title: str
    sku_name: str
    image: str | None
    unit_price_fen: int
    qty: int
    subtotal_fen: int
    discount_fen: int
    shipping_fen: int
    payable_fen: int


class PreviewPublic(ApiModel):
    lines: list[PreviewLine]
    steps: list[StepPublic]
    goods_fen: int
    discount_fen: int
    shipping_fen: int
    total_fen: int
    payable_fen: int
    # The coupon priced in (chosen, or the best one when none was chosen), the other usable ones with
    # what each saves, and the unusable ones with why ("还差12元可用"); tier hints ("再买1件享9折").
    coupon: dict[str, Any] | None = None
    coupons_available: list[dict[str, Any]] = []
    coupons_unavailable: list[dict[str, Any]] = []
    hints: list[str] = []
    # Points (points/checkout.py): balance, usable_max and its value_fen, unit, used and its value; None: off.
    points: dict[str, Any] | None = None
