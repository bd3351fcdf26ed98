from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from fissionmall.core.schemas import MAX_FEN, ApiDateTime, ApiModel, Bp, DateTimeIn, Fen, Patch

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Id = Annotated[int, Field(strict=True, ge=1, le=2**53)]
Small = Annotated[int, Field(strict=True, ge=1, le=9999)]


class ReductionTierRow(ApiModel):
    threshold: Annotated[int, Field(strict=True, ge=1, le=MAX_FEN)]  # fen, or items when basis=count
    amount_fen: Fen = 0
    percent_bp: Bp = 0  # off: 1000 = 9折


class PriceTierRow(ApiModel):
    min_qty: Small
    unit_price_fen: Fen


class SkuDiscountRow(ApiModel):
    sku_id: Id
    price_fen: Fen | None = None
    percent_bp: Bp | None = None  # off


class PromotionCreate(ApiModel):
    kind: Literal["full_reduction", "gift", "free_shipping", "limited_discount", "tiered_price"]
    name: Name
    starts_at: DateTimeIn
    ends_at: DateTimeIn
    status: Literal["active", "paused"] = "active"
    scope: Literal["all", "products", "categories"] = "all"
    scope_ids: Annotated[list[Id], Field(max_length=500)] = []
    scope_exclude: bool = False
    basis: Literal["amount", "count"] = "amount"
    tiers: Annotated[list[ReductionTierRow], Field(max_length=10)] = []
    price_tiers: Annotated[list[PriceTierRow], Field(max_length=10)] = []
    items: Annotated[list[SkuDiscountRow], Field(max_length=200)] = []
    sku_id: Id | None = None
    threshold: Annotated[int, Field(strict=True, ge=0, le=MAX_FEN)] = 0
    gift_sku_id: Id | None = None
    gift_qty: Small = 1
    gift_stock: Annotated[int, Field(strict=True, ge=0, le=10_000_000)] | None = None


class PromotionUpdate(ApiModel):
    name: Patch[Name] = None
    starts_at: Patch[DateTimeIn] = None
    ends_at: Patch[DateTimeIn] = None
    status: Patch[Literal["active", "paused"]] = None
    scope: Patch[Literal["all", "products", "categories"]] = None
    scope_ids: Patch[Annotated[list[Id], Field(max_length=500)]] = None
    scope_exclude: Patch[bool] = None
    basis: Patch[Literal["amount", "count"]] = None
    tiers: Patch[Annotated[list[ReductionTierRow], Field(max_length=10)]] = None
    price_tiers: Patch[Annotated[list[PriceTierRow], Field(max_length=10)]] = None
    items: Patch[Annotated[list[SkuDiscountRow], Field(max_length=200)]] = None
    sku_id: Id | None = None
    threshold: Patch[Annotated[int, Field(strict=True, ge=0, le=MAX_FEN)]] = None
    gift_sku_id: Id | None = None
    gift_qty: Patch[Small] = None
    gift_stock: Annotated[int, Field(strict=True, ge=0, le=10_000_000)] | None = None


class PromotionAdmin(ApiModel):
    id: int
    kind: str
    name: str
    label: str
    status: str
    starts_at: ApiDateTime
    ends_at: ApiDateTime
    scope: str
    scope_ids: list[int]
    scope_exclude: bool
    basis: str
    tiers: list[dict[str, int]]
    price_tiers: list[dict[str, int]]
    items: list[dict[str, int | None]]
    sku_id: int | None
    threshold: int
    gift_sku_id: int | None
    gift_qty: int
    gift_stock: int | None
    gift_given: int
    used_orders: int
    discount_fen: int
    created_at: ApiDateTime


class PromotionBadge(ApiModel):
    """What the shop shows on a product: '满100减20', '限时8折', '3件起每件40元'."""

    id: int
    kind: str
    label: str
    ends_at: ApiDateTime
