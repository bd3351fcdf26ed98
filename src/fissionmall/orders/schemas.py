from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, StringConstraints

from fissionmall.core import clock
from fissionmall.core.schemas import ApiDateTime, ApiModel

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
    kind: str
    amount_fen: int
    reason: str
    lines: list[dict[str, Any]]
    reject_reason: str | None
    created_at: ApiDateTime
    succeeded_at: ApiDateTime | None


class OrderPlacedPublic(ApiModel):
    id: int
    no: str
    status: str
    payable_fen: int
    pay_deadline: ApiDateTime


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
    # The server's (app clock's) time, so countdowns to pay_deadline do not depend on the phone's clock.
    server_time: ApiDateTime | None = None


class OrderAdmin(OrderPublic):
    customer_id: int
    attribution: dict[str, Any]


class RefundLineCreate(ApiModel):
    line_id: Id
    qty: Qty


class RefundCreate(ApiModel):
    lines: Annotated[list[RefundLineCreate], Field(min_length=1, max_length=50)] | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ShipmentCreate(ApiModel):
    carrier: Short
    tracking_no: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9\-]{4,40}$")]


class RefundRejection(ApiModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def order_out(order: Order, refunds: list[Refund], *, admin: bool = False) -> OrderPublic:
    model = OrderAdmin if admin else OrderPublic
    data: dict[str, Any] = {
        c: getattr(order, c) for c in model.model_fields if c not in ("lines", "refunds", "server_time")
    }
    data["lines"] = list(order.lines)
    data["refunds"] = [RefundPublic.model_validate(r) for r in refunds]
    data["server_time"] = clock.now()
    return model.model_validate(data)
