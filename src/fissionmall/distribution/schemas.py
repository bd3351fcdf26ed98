"""The distribution API's request and response shapes; the settings' own validation (levels, the rate cap)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from fissionmall.core.errors import AppError
from fissionmall.core.schemas import MAX_FEN, ApiDateTime, ApiModel, Bp, Fen
from fissionmall.distribution.errors import DistributionError
from fissionmall.distribution.rules import MAX_CAP_BP, MAX_LEVELS

Days = Annotated[int, Field(strict=True, ge=0, le=365)]
ProductId = Annotated[int, Field(strict=True, ge=1, le=2**62)]
ShareCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class SourceRate(ApiModel):
    level1_rate_bp: Bp = 0
    level2_rate_bp: Bp = 0


class RateOverride(ApiModel):
    """A product's or a SKU's own terms: per level a rate or a fixed amount per unit (not both)."""

    product_id: ProductId | None = None
    sku_id: ProductId | None = None
    level1_rate_bp: Bp | None = None
    level2_rate_bp: Bp | None = None
    level1_fixed_fen: Fen | None = None
    level2_fixed_fen: Fen | None = None

    @model_validator(mode="after")
    def _one_target(self) -> RateOverride:
        if (self.product_id is None) == (self.sku_id is None):
            raise AppError(DistributionError.OVERRIDE_TARGET_INVALID)
        for lvl in (1, 2):
            if getattr(self, f"level{lvl}_rate_bp") is not None and getattr(self, f"level{lvl}_fixed_fen") is not None:
                raise AppError(DistributionError.OVERRIDE_RATE_AND_FIXED)
        return self


class ConfigUpdate(ApiModel):
    enabled: bool = False
    levels: Annotated[int, Field(strict=True, ge=1, le=10)] = 2
    level1_rate_bp: Bp = 1000
    level2_rate_bp: Bp = 500
    cap_bp: Bp = MAX_CAP_BP
    frozen_days: Days = 7
    bind_mode: Literal["first", "registration_only", "latest"] = "first"
    binding_expiry_days: Days = 0  # 0 = never expires
    min_withdraw_fen: Fen = 100
    withdraw_fee_bp: Bp = 0
    self_purchase_commission: bool = False
    approval: Literal["auto", "manual", "everyone"] = "auto"
    overrides: Annotated[list[RateOverride], Field(max_length=500)] = []
    source_rates: dict[Literal["groupbuy", "seckill", "bargain"], SourceRate | None] = {}

    @model_validator(mode="after")
    def _compliant(self) -> ConfigUpdate:
        if self.levels > MAX_LEVELS:
            raise AppError(DistributionError.LEVELS_NOT_ALLOWED)
        if self.cap_bp > MAX_CAP_BP:
            raise AppError(DistributionError.CAP_TOO_HIGH)
        pairs = [(self.level1_rate_bp, self.level2_rate_bp)]
        pairs += [(o.level1_rate_bp or 0, o.level2_rate_bp or 0) for o in self.overrides]
        pairs += [(r.level1_rate_bp, r.level2_rate_bp) for r in self.source_rates.values() if r is not None]
        for l1, l2 in pairs:
            if l1 + (l2 if self.levels == 2 else 0) > self.cap_bp:
                raise AppError(DistributionError.RATE_ABOVE_CAP)
        return self


class ConfigAdmin(ConfigUpdate):
    """The settings as the admin API returns them (what was saved, defaults filled in)."""


class ApplicationPublic(ApiModel):
    status: str
    share_code: str | None


class BindCreate(ApiModel):
    ref: ShareCode


class BindingPublic(ApiModel):
    status: Literal["bound", "rebound", "kept"]
    distributor_nickname: str | None = None


class VisitCreate(ApiModel):
    ref: ShareCode
    product_id: ProductId | None = None


class SharePublic(ApiModel):
    scene: str  # for wx.getLaunchOptions / the page's `scene` query when the mini-program code is scanned
    share_url: str
    qrcode_png_url: str  # a QR code of share_url (the H5 shop)
    poster_png_url: str  # carries the mini-program code when WeChat is configured, else the QR code
    wxacode_png_url: str | None = None  # the mini-program code (小程序码); None without WeChat


class ProductSharePublic(SharePublic):
    """分享 for any shopper: `ref` is the sharer's distributor code when they are one (the link then earns
    their commission, as 分享赚佣金's does), else None and the link is the plain product link."""

    ref: str | None = None


class OrderBrought(ApiModel):
    order_id: int
    level: int
    goods_fen: int
    commission_fen: int
    status: str
    bind_origin: str = ""  # registration | share_link | self
    paid_at: ApiDateTime


class MePublic(ApiModel):
    status: str | None
    share_code: str | None
    level1_count: int
    level2_count: int
    pending_fen: int
    available_fen: int
    withdrawing_fen: int
    withdrawn_fen: int
    today_fen: int
    month_fen: int
    total_fen: int
    visits: int
    min_withdraw_fen: int
    withdraw_fee_bp: int
    orders: list[OrderBrought]


class CommissionPublic(ApiModel):
    id: int
    order_id: int | None
    order_line_id: int | None
    withdrawal_id: int | None
    level: int
    kind: str
    bucket: str
    amount_fen: int
    base_fen: int
    rate_bp: int | None
    created_at: ApiDateTime


class WithdrawalCreate(ApiModel):
    amount_fen: Annotated[int, Field(strict=True, ge=1, le=MAX_FEN)]
    # The payee's real name (实名): WeChat requires it when 2,000 元 or more is transferred
    # (REAL_NAME_REQUIRED without it). Kept sealed until the payout, never returned.
    real_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)] | None = None


class WithdrawalPublic(ApiModel):
    id: int
    distributor_customer_id: int
    amount_fen: int
    fee_fen: int
    net_fen: int
    status: str
    transfer_id: str | None
    failure: str | None
    created_at: ApiDateTime
    decided_at: ApiDateTime | None
    paid_at: ApiDateTime | None


class WithdrawalAdmin(WithdrawalPublic):
    """A withdrawal as the withdrawals console sees it (today the same fields the distributor sees)."""


class DistributorAdmin(ApiModel):
    id: int
    customer_id: int
    nickname: str
    status: str
    share_code: str
    created_at: ApiDateTime
    level1_count: int = 0
    gmv_fen: int = 0
    commission_fen: int = 0
    available_fen: int = 0


class RankRow(ApiModel):
    customer_id: int
    nickname: str
    orders: int
    gmv_fen: int
    commission_fen: int


class DecideRequest(ApiModel):
    approve: bool


class RejectRequest(ApiModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]
