"""Group-buying API shapes. Money is strict integer fen."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from fissionmall.addresses.schemas import Address, one_address
from fissionmall.checkout.schemas import PreviewPublic
from fissionmall.core.schemas import ApiDateTime, ApiModel, DateTimeIn, Fen, Patch
from fissionmall.orders.schemas import Id, Qty

Minutes = Annotated[int, Field(strict=True, ge=5, le=30 * 24 * 60)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class ActivitySkuPublic(ApiModel):
    sku_id: Id
    price_fen: Fen


Units = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]


class ActivitySkuCreate(ActivitySkuPublic):
    stock: Units | None = None  # units of this SKU moved into the activity; None: sell from the SKU's stock


class PoolPublic(ApiModel):
    sku_id: int
    pool: int
    units_left: int
    closed: bool


class ActivityCreate(ApiModel):
    title: Title | None = None
    product_id: Id
    skus: Annotated[list[ActivitySkuCreate], Field(min_length=1, max_length=50)]
    group_size: Annotated[int, Field(strict=True, ge=2, le=100)]
    duration_minutes: Minutes
    pay_minutes: Annotated[int, Field(strict=True, ge=1, le=120)] = 15
    new_user_required: bool = False
    leader_discount_fen: Fen = 0
    leader_points: Annotated[int, Field(strict=True, ge=0, le=10**7)] = 0
    leader_coupon_template_id: Id | None = None
    max_open_per_user: Annotated[int, Field(strict=True, ge=1, le=100)] = 3
    per_user_limit: Annotated[int, Field(strict=True, ge=0, le=999)] = 0
    per_order_limit: Annotated[int, Field(strict=True, ge=1, le=999)] = 5
    stock: Units | None = None  # a one-SKU activity's pool (several SKUs: skus[].stock); None: no pool
    auto_fill: bool = False
    starts_at: DateTimeIn
    ends_at: DateTimeIn


class ActivityUpdate(ApiModel):
    title: Patch[Title] = None
    skus: Patch[Annotated[list[ActivitySkuCreate], Field(min_length=1, max_length=50)]] = None
    group_size: Patch[Annotated[int, Field(strict=True, ge=2, le=100)]] = None
    duration_minutes: Patch[Minutes] = None
    pay_minutes: Patch[Annotated[int, Field(strict=True, ge=1, le=120)]] = None
    new_user_required: Patch[bool] = None
    leader_discount_fen: Patch[Fen] = None
    leader_points: Patch[Annotated[int, Field(strict=True, ge=0, le=10**7)]] = None
    leader_coupon_template_id: Id | None = None
    max_open_per_user: Patch[Annotated[int, Field(strict=True, ge=1, le=100)]] = None
    per_user_limit: Patch[Annotated[int, Field(strict=True, ge=0, le=999)]] = None
    per_order_limit: Patch[Annotated[int, Field(strict=True, ge=1, le=999)]] = None
    stock: Units | None = None
    auto_fill: Patch[bool] = None
    starts_at: Patch[DateTimeIn] = None
    ends_at: Patch[DateTimeIn] = None


class ActivityPublic(ApiModel):
    id: int
    title: str
    product_id: int
    skus: list[ActivitySkuPublic]
    group_size: int
    duration_minutes: int
    pay_minutes: int
    new_user_required: bool
    leader_discount_fen: int
    leader_points: int
    leader_coupon_template_id: int | None
    max_open_per_user: int
    per_user_limit: int
    per_order_limit: int
    stock: int | None  # None: no pool of its own, sells from the SKUs' stock
    stock_left: int | None
    pools: list[PoolPublic]
    auto_fill: bool
    starts_at: ApiDateTime
    ends_at: ApiDateTime
    status: str


class ActivityProductPublic(ApiModel):
    id: int
    title: str
    image: str | None
    price_fen: int  # the lowest active SKU's own price: the 单独购买 figure beside the group price


class ActivityCardPublic(ActivityPublic):
    """A live activity as the shop's lists show it: the product's title, picture and price with it."""

    product: ActivityProductPublic | None = None


class ActivityAdmin(ActivityPublic):
    """The console's activity. Today the same fields as the shop's ActivityPublic (which carries the pools
    too, so the shop's JSON is unchanged); a field only staff may see goes here."""


class GroupOrderCreate(ApiModel):
    sku_id: Id
    qty: Qty = 1
    # As at checkout: an inline address or `address_id` overrides, the default address serves otherwise.
    address: Address | None = None
    address_id: Id | None = None
    remark: Annotated[str, StringConstraints(max_length=200)] = ""

    @model_validator(mode="after")
    def _one_address(self) -> GroupOrderCreate:
        return one_address(self)


class OrderBrief(ApiModel):
    id: int
    no: str
    status: str
    payable_fen: int
    pay_deadline: ApiDateTime


class GroupOrderPublic(ApiModel):
    group_id: int
    order: OrderBrief


class GroupPreviewPublic(PreviewPublic):
    """A group order priced before it is placed: checkout's preview shape (no coupons: group orders take
    none), with the activity and the SKU's group price before the leader discount."""

    activity_id: int
    group_price_fen: int


class JoinableGroupPublic(ApiModel):
    id: int
    size: int
    members: int
    seats_left: int
    short: int
    expires_at: ApiDateTime
    leader_nickname: str = ""
    leader_avatar_url: str | None = None


class MemberPublic(ApiModel):
    nickname: str
    avatar_url: str | None
    role: str
    is_virtual: bool


class GroupPublic(ApiModel):
    id: int
    activity_id: int
    status: str
    size: int
    paid_members: int
    virtual_members: int
    seats_left: int
    short: int
    new_user_required: bool
    expires_at: ApiDateTime | None
    members: list[MemberPublic]
    me: dict[str, Any] | None
    product: dict[str, Any]
    skus: list[dict[str, Any]]
    server_time: ApiDateTime


class GroupAdmin(ApiModel):
    id: int
    activity_id: int
    leader_id: int
    status: str
    size: int
    seats_taken: int
    paid_count: int
    virtual_count: int
    new_users: int
    new_user_required: bool
    expires_at: ApiDateTime | None
    created_at: ApiDateTime
    succeeded_at: ApiDateTime | None
    failed_at: ApiDateTime | None


class MemberAdmin(ApiModel):
    id: int
    role: str
    status: str
    customer_id: int | None
    nickname: str
    is_new_user: bool
    is_virtual: bool
    order_id: int | None
    order_no: str | None
    order_status: str | None
    paid_fen: int
    refunded_fen: int
    created_at: ApiDateTime


class GroupDetailAdmin(GroupAdmin):
    members: list[MemberAdmin]
    can_ship: bool


class ActivityStatsAdmin(ApiModel):
    activity_id: int
    opened: int
    forming: int
    succeeded: int
    failed: int
    success_rate_bp: int
    members: int
    gmv_fen: int
    refunded_fen: int
    refunded_after_success: int


class MyGroupPublic(ApiModel):
    group_id: int
    activity_id: int
    role: str
    member_status: str
    group_status: str
    size: int
    paid_members: int
    expires_at: ApiDateTime | None
    order_id: int | None
    created_at: ApiDateTime
