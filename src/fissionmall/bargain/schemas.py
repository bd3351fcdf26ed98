"""Bargaining API shapes. Money is strict integer fen; an activity's cut bounds may be left out."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from fissionmall.addresses.schemas import Address, one_address
from fissionmall.checkout.schemas import PreviewPublic
from fissionmall.core.schemas import ApiDateTime, ApiModel, DateTimeIn, Fen, Patch
from fissionmall.orders.schemas import Id, OrderPlacedPublic

Minutes = Annotated[int, Field(strict=True, ge=5, le=30 * 24 * 60)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Units = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]
# Wider than the rules allow, so that 0 and 101 reach the service and get the activity's own codes.
Helpers = Annotated[int, Field(strict=True, ge=0, le=10_000)]
CutFen = Annotated[int, Field(strict=True, ge=-1_000_000_000, le=10_000_000_000)]
BoostBp = Annotated[int, Field(strict=True, ge=10_000, le=50_000)]
Count = Annotated[int, Field(strict=True, ge=1, le=1000)]


class ActivityCreate(ApiModel):
    product_id: Id
    sku_id: Id
    target_fen: Fen
    helpers_needed: Helpers
    min_cut_fen: CutFen | None = None
    max_cut_fen: CutFen | None = None
    duration_minutes: Minutes
    stock: Units
    title: Title | None = None
    start_fen: Fen | None = None  # None: the SKU's list price
    buy_minutes: Minutes = 1440
    pay_minutes: Annotated[int, Field(strict=True, ge=1, le=120)] = 15
    buy_early: bool = False
    new_user_only: bool = False
    new_user_boost_bp: BoostBp = 10_000
    max_starts_per_user: Count = 1
    daily_help_limit: Count = 10
    starts_at: DateTimeIn | None = None  # None: now
    ends_at: DateTimeIn | None = None  # None: until the merchant closes it


class ActivityUpdate(ApiModel):
    title: Patch[Title] = None
    target_fen: Patch[Fen] = None
    start_fen: Patch[Fen] = None
    helpers_needed: Patch[Helpers] = None
    min_cut_fen: CutFen | None = None
    max_cut_fen: CutFen | None = None
    duration_minutes: Patch[Minutes] = None
    stock: Patch[Units] = None
    buy_minutes: Patch[Minutes] = None
    pay_minutes: Patch[Annotated[int, Field(strict=True, ge=1, le=120)]] = None
    buy_early: Patch[bool] = None
    new_user_only: Patch[bool] = None
    new_user_boost_bp: Patch[BoostBp] = None
    max_starts_per_user: Patch[Count] = None
    daily_help_limit: Patch[Count] = None
    starts_at: Patch[DateTimeIn] = None
    ends_at: DateTimeIn | None = None


class RulesCheck(ApiModel):
    """The editor's live question: can these figures reach the target in N helps within the bounds?"""

    start_fen: Fen
    target_fen: Fen
    helpers_needed: Helpers
    min_cut_fen: CutFen | None = None
    max_cut_fen: CutFen | None = None


class RulesCheckAdmin(ApiModel):
    ok: bool
    code: str | None
    message: str
    sample_cuts: list[int]  # one bargain's cuts drawn from a fixed seed, when ok


class ActivityPublic(ApiModel):
    id: int
    title: str
    product_id: int
    sku_id: int
    start_fen: int
    target_fen: int
    helpers_needed: int
    min_cut_fen: int | None
    max_cut_fen: int | None
    duration_minutes: int
    buy_minutes: int
    pay_minutes: int
    buy_early: bool
    new_user_only: bool
    new_user_boost_bp: int
    max_starts_per_user: int
    daily_help_limit: int
    stock: int
    stock_left: int
    starts_at: ApiDateTime
    ends_at: ApiDateTime | None
    status: str


class ActivityProductPublic(ApiModel):
    id: int
    title: str
    image: str | None
    sku_name: str


class ActivityCardPublic(ActivityPublic):
    product: ActivityProductPublic | None = None


class ActivityAdmin(ActivityPublic):
    stock_closed: bool
    created_at: ApiDateTime


class StartedPublic(ApiModel):
    bargain_id: int
    price_fen: int
    target_fen: int
    expires_at: ApiDateTime


class HelpedPublic(ApiModel):
    cut_fen: int
    price_fen: int
    helps: int
    helpers_needed: int
    status: str


class HelpPublic(ApiModel):
    nickname: str
    avatar_url: str | None
    cut_fen: int
    created_at: ApiDateTime


class BargainPublic(ApiModel):
    id: int
    activity_id: int
    status: str
    start_fen: int
    price_fen: int
    target_fen: int
    helpers_needed: int
    helps_count: int
    helps: list[HelpPublic]
    progress_bp: int
    expires_at: ApiDateTime
    buy_early: bool
    can_order: bool
    order_id: int | None
    starter: dict[str, Any]
    me: dict[str, Any] | None  # {role: starter|helper|visitor, cut_fen?}
    product: dict[str, Any]
    server_time: ApiDateTime


class MyBargainPublic(ApiModel):
    id: int
    activity_id: int
    title: str
    status: str
    price_fen: int
    target_fen: int
    helps: int
    helpers_needed: int
    expires_at: ApiDateTime
    order_id: int | None


class BargainAdmin(ApiModel):
    id: int
    activity_id: int
    customer_id: int
    status: str
    start_fen: int
    price_fen: int
    target_fen: int
    helpers_needed: int
    helps: int
    new_helpers: int
    expires_at: ApiDateTime
    order_id: int | None
    created_at: ApiDateTime
    reached_at: ApiDateTime | None
    bought_at: ApiDateTime | None


class FunnelAdmin(ApiModel):
    activity_id: int
    started: int
    helped: int  # helped at least once
    reached: int
    ordered: int
    paid: int
    helps: int
    new_helpers: int
    discount_fen: int  # start − price over paid bargains
    cost_per_new_fen: int | None


class BargainOrderCreate(ApiModel):
    qty: Annotated[int, Field(strict=True, ge=0, le=10_000)] = 1  # anything but 1 is QTY_MUST_BE_ONE
    address: Address | None = None
    address_id: Id | None = None
    remark: Annotated[str, StringConstraints(max_length=200)] = ""

    @model_validator(mode="after")
    def _one_address(self) -> BargainOrderCreate:
        return one_address(self)


class BargainOrderPublic(ApiModel):
    bargain_id: int
    order: OrderPlacedPublic


class BargainPreviewPublic(PreviewPublic):
    bargain_id: int
    bargain_price_fen: int


class SharePublic(ApiModel):
    share_url: str
    qrcode_png_url: str | None
    poster_png_url: str | None
