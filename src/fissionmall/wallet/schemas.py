"""储值 as the API reads and writes it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from fissionmall.core.schemas import MAX_FEN, ApiDateTime, ApiModel, Fen, Patch

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
PayFen = Annotated[int, Field(strict=True, ge=1, le=MAX_FEN)]
Sort = Annotated[int, Field(strict=True, ge=0, le=10_000)]
Delta = Annotated[int, Field(strict=True, ge=-MAX_FEN, le=MAX_FEN)]
PackageId = Annotated[int, Field(strict=True, ge=1, le=2**62)]


class PackageCreate(ApiModel):
    """A 储值套餐: pay `pay_fen` (> 0), get `bonus_fen` more (储值 500 送 100); `name` defaults to that."""

    name: Name | None = None
    pay_fen: PayFen
    bonus_fen: Fen = 0
    active: bool = True
    sort: Sort = 0


class PackageUpdate(ApiModel):
    name: Patch[Name] = None
    pay_fen: Patch[PayFen] = None
    bonus_fen: Patch[Fen] = None
    active: Patch[bool] = None
    sort: Patch[Sort] = None


class PackageAdmin(ApiModel):
    id: int
    name: str
    pay_fen: int
    bonus_fen: int
    active: bool
    sort: int
    created_at: ApiDateTime
    updated_at: ApiDateTime


class PackagePublic(ApiModel):
    id: int
    name: str
    pay_fen: int
    bonus_fen: int
    label: str  # 充500送100


class TopUpCreate(ApiModel):
    package_id: PackageId


class TopUpOrder(ApiModel):
    """The top-up's order, paid through the cashier like any other (`POST /orders/{id}/pay`)."""

    id: int
    status: str
    payable_fen: int
    top_up_id: int


class WalletPublic(ApiModel):
    principal_fen: int  # 本金
    bonus_fen: int  # 赠送
    balance_fen: int  # both: what can pay an order


class EntryPublic(ApiModel):
    id: int
    kind: str
    kind_text: str
    principal_delta: int
    bonus_delta: int
    delta_fen: int
    ref: str
    reason: str
    created_at: ApiDateTime


class EntryAdmin(EntryPublic):
    customer_id: int
    operator: str


class TopUpAdmin(ApiModel):
    id: int
    customer_id: int
    order_id: int | None
    name: str
    pay_fen: int
    bonus_fen: int
    status: str
    refunded_fen: int
    bonus_taken_fen: int
    created_at: ApiDateTime
    credited_at: ApiDateTime | None
    refunded_at: ApiDateTime | None


class TopUpRefundResult(ApiModel):
    top_up_id: int
    refund_id: int
    refund_fen: int  # what the gateway sends back
    principal_fen: int  # 本金 taken from the wallet
    bonus_fen: int  # 赠送 taken back


class AdjustmentCreate(ApiModel):
    """A manual adjustment: `delta` fen (negative takes away) to 本金 or 赠送, with the reason (required)."""

    delta: Delta
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    bucket: Literal["principal", "bonus"] = "principal"


class SettingsAdmin(ApiModel):
    bonus_first: bool  # spend 赠送 before 本金 (false: 本金 first, the default)


class SettingsUpdate(ApiModel):
    bonus_first: bool
