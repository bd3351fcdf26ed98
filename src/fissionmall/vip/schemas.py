"""付费会员 as the admin API writes and reads it, and as the shop reads it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from fissionmall.core.schemas import ApiDateTime, ApiModel, Bp, Fen, Patch

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
DbRef = Annotated[int, Field(strict=True, ge=1, le=2**62)]
Days = Annotated[int, Field(strict=True, ge=1, le=3660)]
Price = Annotated[int, Field(strict=True, ge=1, le=10_000_000_000)]  # a plan sells for more than 0
GrantCount = Annotated[int, Field(strict=True, ge=0, le=20)]
CoolingDays = Annotated[int, Field(strict=True, ge=0, le=30)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class PlanCreate(ApiModel):
    """A paid-membership plan: `discount_bp` is what a member pays (9500 = 9.5折, 10000: no discount);
    each month `grant_count` coupons of `grant_template_id` (both or neither); `cooling_days` the
    无理由退款期 from the payment (0: no refund)."""

    name: Name
    price_fen: Price
    days: Days = 365
    discount_bp: Bp = 10_000
    grant_template_id: DbRef | None = None
    grant_count: GrantCount = 0
    cooling_days: CoolingDays = 7
    active: bool = True


class PlanUpdate(ApiModel):
    """Every field optional; `grant_template_id` null removes the monthly coupons. A change applies to
    purchases made after it (a period already sold keeps its price, days and refund window)."""

    name: Patch[Name] = None
    price_fen: Patch[Price] = None
    days: Patch[Days] = None
    discount_bp: Patch[Bp] = None
    grant_template_id: DbRef | None = None
    grant_count: Patch[GrantCount] = None
    cooling_days: Patch[CoolingDays] = None
    active: Patch[bool] = None


class PlanAdmin(ApiModel):
    id: int
    name: str
    price_fen: int
    days: int
    discount_bp: int
    grant_template_id: int | None
    grant_template_name: str | None
    grant_count: int
    cooling_days: int
    active: bool
    sold: int  # purchases paid (active or refunded)
    benefits: list[str]
    created_at: ApiDateTime
    updated_at: ApiDateTime


class PlanPublic(ApiModel):
    id: int
    name: str
    price_fen: int
    days: int
    discount_bp: int
    benefits: list[str]


class Subscribe(ApiModel):
    plan_id: DbRef


class SubscribeOut(ApiModel):
    """The order to pay (the cashier takes it as any order)."""

    id: int
    status: str
    payable_fen: int
    purchase_id: int


class GrantPublic(ApiModel):
    month: int
    granted_at: ApiDateTime
    coupons: int
    taken_back: int


class SubscriptionPublic(ApiModel):
    """GET /membership/subscription: the shopper's paid membership."""

    active: bool
    plan: PlanPublic | None
    started_at: ApiDateTime | None  # the start of the unbroken run
    until: ApiDateTime | None
    grants: list[GrantPublic]
    coupons_received: int
    refundable: bool  # the latest purchase is inside its 无理由退款期
    refund_until: ApiDateTime | None
    refund_fen: int | None  # what a refund now would pay back


class RefundIn(ApiModel):
    reason: Reason = ""


class PurchaseAdmin(ApiModel):
    id: int
    customer_id: int
    customer_nickname: str
    plan_id: int
    plan_name: str
    order_id: int | None
    status: str
    price_fen: int
    starts_at: ApiDateTime | None
    until: ApiDateTime | None
    paid_at: ApiDateTime | None
    refunded_at: ApiDateTime | None
    refund_fen: int | None
    refund_reason: str
    refundable: bool


class MemberPrice(ApiModel):
    sku_id: DbRef
    price_fen: Fen


class MemberPrices(ApiModel):
    """The whole 会员价 table and the member-only products (PUT replaces both)."""

    prices: Annotated[list[MemberPrice], Field(max_length=500)] = []
    member_only_product_ids: Annotated[list[DbRef], Field(max_length=500)] = []
