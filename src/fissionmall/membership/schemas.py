"""会员等级 as the admin API writes and reads them, the member day, and what the shop reads (/me/level)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from fissionmall.core.schemas import ApiModel, Fen, Patch

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Rank = Annotated[int, Field(strict=True, ge=1, le=99)]
# Wide bounds here, the exact ranges in the service, so each refusal has its own code.
Rate = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]
TemplateId = Annotated[int, Field(strict=True, ge=1, le=2**62)]


class LevelCreate(ApiModel):
    """A level above the base: `threshold_fen` growth value (fen of goods paid in the window) reaches it;
    `discount_bp` what a member pays (9000 = 9折, 10000 none); `points_multiplier_bp` 15000 = 1.5 倍积分."""

    name: Name
    rank: Rank
    threshold_fen: Fen
    discount_bp: Rate = 10_000
    points_multiplier_bp: Rate = 10_000
    birthday_template_id: TemplateId | None = None
    free_shipping: bool = False
    priority_service: bool = False


class LevelUpdate(ApiModel):
    """Every field optional; `birthday_template_id` null removes the birthday gift. The base level keeps
    rank 0 and threshold 0 and takes no discount or free shipping."""

    name: Patch[Name] = None
    rank: Patch[Rank] = None
    threshold_fen: Patch[Fen] = None
    discount_bp: Patch[Rate] = None
    points_multiplier_bp: Patch[Rate] = None
    birthday_template_id: TemplateId | None = None
    free_shipping: Patch[bool] = None
    priority_service: Patch[bool] = None


class LevelPublic(ApiModel):
    id: int
    name: str
    rank: int
    threshold_fen: int
    discount_bp: int
    points_multiplier_bp: int
    free_shipping: bool
    priority_service: bool
    has_birthday_gift: bool
    is_base: bool
    benefits: list[str]


class LevelAdmin(LevelPublic):
    birthday_template_id: int | None
    members: int  # shoppers holding it now


class MemberDayIn(ApiModel):
    """会员日: `day_of_month` 1-28 or "last" (the month's last day), in the shop's time zone;
    `extra_rate_bp` the extra rate members pay that day on what the member price left (8000 = 8折);
    `double_points` doubles a member's points that day."""

    enabled: bool = False
    day_of_month: (
        Annotated[int, Field(strict=True, ge=-1_000, le=1_000)] | Annotated[str, StringConstraints(max_length=8)]
    ) = 18
    extra_rate_bp: Rate = 8000
    double_points: bool = True


class MemberDay(ApiModel):
    enabled: bool
    day_of_month: int | str
    extra_rate_bp: int
    double_points: bool


class MemberDayPublic(MemberDay):
    today: bool  # today (shop's zone) is the member day and it is enabled
    next_date: str | None  # the next member day (YYYY-MM-DD, today included); null when disabled
    label: str  # e.g. 每月18日会员日 · 会员再享8折 · 双倍积分


class LevelRules(ApiModel):
    """`window_months`: growth counts what was paid in the last N months (rolling, 1-36);
    `stacks_with_limited`: a member discount also applies on top of a limited-time discount
    (off: the shopper gets the better of the two)."""

    window_months: Annotated[int, Field(strict=True, ge=-1_000, le=1_000)] = 12
    stacks_with_limited: bool = False


class MembershipConfigData(ApiModel):
    member_day: MemberDay
    rules: LevelRules


class MeLevel(ApiModel):
    """The member centre: the shopper's level, growth in the window, the next level, and every level."""

    level: str  # the level's name (普通会员 for the base level)
    level_id: int | None
    rank: int
    growth_fen: int
    next_level: str | None
    next_at_fen: int | None  # the next level's threshold
    to_next_fen: int | None  # growth still needed for it
    benefits: list[str]
    is_member: bool
    window_months: int
    birthday: str | None  # YYYY-MM-DD; set once
    levels: list[LevelPublic]
    member_day: MemberDayPublic


class BirthdayIn(ApiModel):
    birthday: Annotated[str, StringConstraints(max_length=10)]


class SkuMemberPrice(ApiModel):
    sku_id: int
    price_fen: int
    member_price_fen: int


class MemberPrices(ApiModel):
    """A product's member prices for the caller: `applies` false when their level gives no discount now."""

    applies: bool
    level: str
    label: str  # e.g. 黄金会员 9折 · 会员日再享8折
    skus: list[SkuMemberPrice]


class GrowthRow(ApiModel):
    kind: str
    order_id: int
    amount_fen: int
    earned_at: str
