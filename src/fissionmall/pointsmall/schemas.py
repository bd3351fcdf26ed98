"""积分商城 items as the admin API writes and reads them, as the shop reads them, and redemptions."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from fissionmall.addresses.schemas import Address, one_address
from fissionmall.core.schemas import ApiDateTime, ApiModel, DateTimeIn, Fen, Patch

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Id = Annotated[int, Field(strict=True, ge=1, le=2**62)]
Points = Annotated[int, Field(strict=True, ge=1, le=100_000_000)]
Stock = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]
Limit = Annotated[int, Field(strict=True, ge=0, le=1000)]
Sort = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]
Qty = Annotated[int, Field(strict=True, ge=1, le=99)]


class ItemCreate(ApiModel):
    """A new item: `kind` product names a SKU (`sku_id`), its `stock` leaves the SKU's stock now; `kind`
    coupon names a coupon template. `points` per unit, optional `cash_fen` (积分+现金), `per_user_limit`
    units per shopper over the item (0: none), `starts_at` / `ends_at` (null: no bound)."""

    kind: Literal["product", "coupon"]
    title: Title | None = None  # default: the product's title, or the coupon's name
    sku_id: Id | None = None
    coupon_template_id: Id | None = None
    points: Points
    cash_fen: Fen = 0
    stock: Stock
    per_user_limit: Limit = 1
    starts_at: DateTimeIn | None = None
    ends_at: DateTimeIn | None = None
    active: bool = True
    sort_order: Sort = 0


class ItemUpdate(ApiModel):
    """Every field optional (what it redeems stays); `stock` is the new total, redeemed units included;
    `starts_at` / `ends_at` null clear the bound."""

    title: Patch[Title] = None
    points: Patch[Points] = None
    cash_fen: Patch[Fen] = None
    stock: Patch[Stock] = None
    per_user_limit: Patch[Limit] = None
    starts_at: DateTimeIn | None = None
    ends_at: DateTimeIn | None = None
    active: Patch[bool] = None
    sort_order: Patch[Sort] = None


class ItemAdmin(ApiModel):
    id: int
    kind: str
    title: str
    product_id: int | None
    sku_id: int | None
    sku_name: str | None
    coupon_template_id: int | None
    coupon_name: str | None
    image_url: str | None
    points: int
    cash_fen: int
    price_text: str
    stock: int
    units_left: int
    redeemed: int
    per_user_limit: int
    starts_at: ApiDateTime | None
    ends_at: ApiDateTime | None
    active: bool
    closed: bool
    live: bool
    state: str
    sort_order: int
    created_at: ApiDateTime
    updated_at: ApiDateTime


class ItemPublic(ApiModel):
    id: int
    kind: str
    title: str
    image_url: str | None
    product_id: int | None
    sku_id: int | None
    sku_name: str | None
    price_fen: int | None  # the SKU's own price, for 原价
    coupon_headline: str | None  # e.g. 无门槛减5元
    points: int
    cash_fen: int
    price_text: str  # 300积分 / 300积分+¥9.90
    units_left: int
    per_user_limit: int
    my_left: int | None  # what the caller may still redeem (null: no limit, or not logged in)
    starts_at: ApiDateTime | None
    ends_at: ApiDateTime | None


class RedeemRequest(ApiModel):
    """`sku` (a product item's SKU; optional, it has one), `qty` (1 by default), and for a product item
    where it ships: `address_id`, an inline `address`, else the default address."""

    sku: Id | None = None
    qty: Qty = 1
    address_id: Id | None = None
    address: Address | None = None
    remark: Annotated[str, StringConstraints(max_length=200)] = ""

    @model_validator(mode="after")
    def _one_address(self) -> RedeemRequest:
        return one_address(self)


class RedeemedOrder(ApiModel):
    id: int
    status: str
    payable_fen: int


class RedeemedCoupon(ApiModel):
    id: int
    name: str
    valid_until: ApiDateTime


class RedemptionPublic(ApiModel):
    id: int
    item_id: int
    kind: str
    title: str
    qty: int
    points_spent: int
    cash_fen: int
    status: str
    order: RedeemedOrder | None = None
    coupon: RedeemedCoupon | None = None
    created_at: ApiDateTime


class RedemptionAdmin(ApiModel):
    id: int
    item_id: int
    customer_id: int
    customer_name: str
    kind: str
    title: str
    qty: int
    points: int
    cash_fen: int
    status: Literal["granted", "ordered", "paid", "cancelled", "refunded"]
    order_id: int | None
    coupon_id: int | None
    created_at: ApiDateTime
