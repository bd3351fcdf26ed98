"""Order sources: how a marketing tool plugs into order creation and cancellation.

`orders/` knows no tool by name. A tool registers an `OrderSource`; when an
order is created with `source=<name>`, its hooks run inside the order-creation
transaction: `plan` validates the request and reserves what the tool owns (a
seckill reservation, a group seat, bargain stock) and says at what activity
price each line sells and whether it draws on the SKU's own stock; `created`
links the new order to the tool's rows; `cancelled` runs inside the cancelling
transaction and releases the reservation; `paid` runs inside the transaction
that confirms the payment, for the tool's own state the shopper must see at
once (a group seat paid and the group open, a top-up credited); `can_ship` may
hold a paid order back (a forming group's orders must not ship). Effects in
other domains (commissions, messages, rollups), refunds and completion reach
the tool as outbox events carrying `source`; a tool that also listens for
`OrderPaid` must find the work its `paid` hook did already done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.errors import AppError

if TYPE_CHECKING:
    from fissionmall.orders.models import Order


@dataclass(frozen=True)
class PlannedLine:
    sku_id: int
    qty: int
    activity_price_fen: int | None = None  # the tool's unit price, shown as the chain's "activity" step
    activity_label: str = ""  # e.g. "秒杀价", "拼团价"
    take_sku_stock: bool = True  # False when the tool holds stock of its own (seckill pool, group stock)


@dataclass
class Plan:
    lines: list[PlannedLine]
    source_ref: str | None = None  # unique per source: a reservation id makes creation idempotent
    pay_minutes: int | None = None  # the tool's own unpaid-cancel window
    allows_coupons: bool = True
    attribution: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)  # passed back to `created`


class OrderSource(Protocol):
    name: str

    async def plan(self, s: AsyncSession, *, customer_id: int, items: Sequence[Any], params: dict[str, Any]) -> Plan:
        """Validate and reserve, in the order's transaction; raise AppError to refuse."""
        ...

    async def created(self, s: AsyncSession, *, order: Order, plan: Plan) -> None: ...

    async def cancelled(self, s: AsyncSession, *, order: Order) -> None: ...

    async def paid(self, s: AsyncSession, *, order: Order) -> None:
        """The order has just become `paid`, in the payment-confirming transaction (the order's row is
        locked, then its payment; `OrderPaid` is published right after). It touches the tool's own rows
        only, and so takes their locks after the order's: the tool's other paths must not hold one of
        those rows while they wait for an order's lock (lock the orders first), or the two deadlock."""
        ...

    async def can_ship(self, s: AsyncSession, *, order: Order) -> str | None:
        """None if the paid order may ship (or be verified in store), else a refusal code (e.g. GROUP_FORMING)."""
        ...

    async def can_refund(self, s: AsyncSession, *, order: Order) -> str | None:
        """None if the shopper may ask for a refund now, else a refusal code (e.g. GROUP_FORMING)."""
        ...


class SourceDefaults:
    """Mix-in for tools: hooks they do not need do nothing."""

    async def created(self, s: AsyncSession, *, order: Order, plan: Plan) -> None:
        return None

    async def cancelled(self, s: AsyncSession, *, order: Order) -> None:
        return None

    async def paid(self, s: AsyncSession, *, order: Order) -> None:
        return None

    async def can_ship(self, s: AsyncSession, *, order: Order) -> str | None:
        return None

    async def can_refund(self, s: AsyncSession, *, order: Order) -> str | None:
        return None


class NormalSource(SourceDefaults):
    """A plain catalogue purchase."""

    name = "normal"

    async def plan(self, s: AsyncSession, *, customer_id: int, items: Sequence[Any], params: dict[str, Any]) -> Plan:
        return Plan(lines=[PlannedLine(sku_id=i.sku_id, qty=i.qty) for i in items])


_sources: dict[str, OrderSource] = {}


def register_source(source: OrderSource) -> OrderSource:
    _sources[source.name] = source
    return source


def get_source(name: str) -> OrderSource:
    src = _sources.get(name)
    if src is None:
        raise AppError("ORDER_SOURCE_UNKNOWN", f"no order source named {name!r}")
    return src


register_source(NormalSource())
