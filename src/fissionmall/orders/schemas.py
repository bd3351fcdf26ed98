from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from fissionmall.addresses.schemas import Address
from fissionmall.core import clock
from fissionmall.core.media import MediaUrl
from fissionmall.core.schemas import ApiDateTime, ApiModel, Fen
from fissionmall.orders import tenders
from fissionmall.orders.rules import REFUND_REASONS

if TYPE_CHECKING:
    from fissionmall.orders.models import Order, Refund

Qty = Annotated[int, Field(strict=True, ge=1, le=999)]
Id = Annotated[int, Field(strict=True, ge=1, le=2**53)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class StepPublic(ApiModel):
    kind: str
    label: str
    amount_fen: int
    # The rule behind the row ("promotion:12", "coupon:34"): stored with the order for usage figures,
    # accepted here so stored steps validate, and left out of responses.
    ref: str = Field(default="", exclude=True)


class OrderLinePublic(ApiModel):
    id: int
    product_id: int
    sku_id: int
    title: str
    sku_name: str
    image: str | None
    unit_price_fen: int
    qty: int
    subtotal_fen: int
    discount_fen: int
    shipping_fen: int
    payable_fen: int
    refunded_qty: int
    refund_pending_qty: int
    refunded_fen: int


class RefundPublic(ApiModel):
    id: int
    order_id: int
    status: str
    kind: str  # after_sales | late_payment | system
    amount_fen: int
    reason: str
    lines: list[dict[str, Any]]
    reject_reason: str | None
    created_at: ApiDateTime
    succeeded_at: ApiDateTime | None
    service: str = "refund_only"  # 仅退款 refund_only | 退货退款 return
    reason_code: str = "other"
    images: list[str] = []
    shipping_fen: int = 0  # the part of amount_fen that is shipping
    return_address: str | None = None
    return_carrier: str | None = None
    return_tracking_no: str | None = None
    approved_at: ApiDateTime | None = None
    return_shipped_at: ApiDateTime | None = None
    received_at: ApiDateTime | None = None
    closed_at: ApiDateTime | None = None


class RefundEntryPublic(ApiModel):
    actor: str  # shopper | merchant | system
    action: str
    text: str
    images: list[str]
    created_at: ApiDateTime


class RefundDetail(RefundPublic):
    entries: list[RefundEntryPublic] = []


class RefundQuote(ApiModel):
    amount_fen: int
    goods_fen: int
    shipping_fen: int
    lines: list[dict[str, int]]


class OrderPlacedPublic(ApiModel):
    id: int
    no: str
    status: str
    payable_fen: int
    pay_deadline: ApiDateTime


class PaidByPublic(ApiModel):
    tender: str  # gateway | wallet | …
    label: str  # 在线支付 | 余额 | …
    amount_fen: int
    refunded_fen: int


class OrderPublic(ApiModel):
    id: int
    no: str
    status: str
    source: str
    lines: list[OrderLinePublic]
    steps: list[StepPublic]
    goods_fen: int
    discount_fen: int
    shipping_fen: int
    payable_fen: int
    paid_fen: int
    refunded_fen: int
    address: dict[str, Any] | None
    remark: str
    carrier: str | None
    tracking_no: str | None
    cancel_reason: str | None
    created_at: ApiDateTime
    pay_deadline: ApiDateTime
    paid_at: ApiDateTime | None
    shipped_at: ApiDateTime | None
    received_at: ApiDateTime | None
    completed_at: ApiDateTime | None
    cancelled_at: ApiDateTime | None
    refunds: list[RefundPublic] = []
    paid_by: list[PaidByPublic] = []  # what paid it, tender by tender (余额 and 在线支付 for a split)
    # The server's (app clock's) time, so countdowns to pay_deadline do not depend on the phone's clock.
    server_time: ApiDateTime | None = None


class OrderAdmin(OrderPublic):
    customer_id: int
    attribution: dict[str, Any]
    merchant_remark: str | None = None


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class MerchantRemarkUpdate(ApiModel):
    """商家备注: the merchant's note on an order ("" clears it); the shopper never sees it."""

    merchant_remark: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class PriceChangeCreate(ApiModel):
    """改价 before payment: the new payable, or a discount off the current payable (exactly one), and why."""

    payable_fen: Fen | None = None
    discount_fen: Fen | None = None
    reason: Reason

    @model_validator(mode="after")
    def _one_of(self) -> PriceChangeCreate:
        if (self.payable_fen is None) == (self.discount_fen is None):
            raise PydanticCustomError("price_one_of", "give payable_fen or discount_fen, not both")
        return self


class AddressCorrection(Address):
    """修改地址 before shipping: the address as the address book takes it, and an optional reason."""

    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class OrderChangePublic(ApiModel):
    id: int
    kind: str
    admin_id: int | None
    reason: str
    old_fen: int | None
    new_fen: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: ApiDateTime


class ShopInfo(ApiModel):
    """The shop's 客服 contact: `service_phone` (H5: a tel: link), `service_wechat` (H5: a WeChat id to
    copy), `service_wechat_enabled` (the mini-program shows its open-type="contact" button)."""

    service_phone: str
    service_wechat: str
    service_wechat_enabled: bool
    service_hours: str


class BatchShipFailure(ApiModel):
    row: int
    order_no: str
    code: str
    message: str


class BatchShipResult(ApiModel):
    shipped: int
    failed: list[BatchShipFailure]


class RefundLineCreate(ApiModel):
    line_id: Id
    qty: Qty


ReasonCode = Literal["unwanted", "quality", "missing", "not_as_described", "other"]


class RefundCreate(ApiModel):
    lines: Annotated[list[RefundLineCreate], Field(min_length=1, max_length=50)] | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    # After-sales: 仅退款 (the default, as before) or 退货退款; the reason picked from the list (read from the
    # reason's text when left out); up to 6 photos of the shop's own media (POST /me/uploads).
    kind: Literal["refund_only", "return"] = "refund_only"
    reason_code: ReasonCode | None = None
    images: Annotated[list[MediaUrl], Field(max_length=6)] = []

    def picked_reason(self) -> str:
        """The reason's code: the one picked, else the one whose label the text is, else other."""
        if self.reason_code is not None:
            return self.reason_code
        return next((code for code, label in REFUND_REASONS.items() if label == self.reason), "other")


class RefundApproval(ApiModel):
    return_address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None


class ShipmentCreate(ApiModel):
    carrier: Short
    tracking_no: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9\-]{4,40}$")]


class RefundRejection(ApiModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def order_out(order: Order, refunds: list[Refund], *, admin: bool = False) -> OrderPublic:
    model = OrderAdmin if admin else OrderPublic
    data: dict[str, Any] = {
        c: getattr(order, c) for c in model.model_fields if c not in ("lines", "refunds", "server_time", "paid_by")
    }
    data["lines"] = list(order.lines)
    data["refunds"] = [RefundPublic.model_validate(r) for r in refunds]
    data["server_time"] = clock.now()
    data["paid_by"] = tenders.paid_by(order)
    return model.model_validate(data)
