"""Order sources: what a marketing tool decides about the orders it started.

`orders/` knows no tool by name. A tool builds its typed `checkout.plans.Plan` (validating and
reserving what it owns: a seckill unit, a group seat, bargain stock) in its own service, calls
`checkout.service.place(plan=…)`, and links the new order to its rows itself. What orders asks the
tool later goes through the `OrderSource` it registered under the plan's `source`: `cancelled` runs
inside the cancelling transaction and releases the reservation; `paid` runs inside the transaction
that confirms the payment, for the tool's own state the shopper must see at once (a group seat paid
and the group open); `can_ship` and `can_refund` may hold a paid order back (a forming group's orders
must not ship). Effects in other domains (commissions, messages, rollups), refunds and completion
reach the tool as outbox events carrying `source`; a tool that also listens for `OrderPaid` must find
the work its `paid` hook did already done.

Checkout's contributions (coupons, promotions…) follow the orders they priced through the order
hooks registered here (`register_order_hooks`), run in the same transactions. Any domain may also hold
paid orders back from shipping whatever their source (`register_ship_hold`: an order the risk layer
holds for review).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.errors import AppError
from fissionmall.orders.errors import OrdersError

if TYPE_CHECKING:
    from fissionmall.orders.models import Order, Refund


class OrderSource(Protocol):
    name: str

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

    # True for orders that buy nothing (a top-up moves money into the wallet): not the shopper's 累计消费.
    not_spend = False

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


_sources: dict[str, OrderSource] = {}


def register_source(source: OrderSource) -> OrderSource:
    """Make a tool's order source known to orders (its hooks run inside orders' transactions)."""
    _sources[source.name] = source
    return source


def not_spend_sources() -> list[str]:
    """The sources whose paid orders are no spend (their money is spent later, by other orders)."""
    return sorted(name for name, src in _sources.items() if getattr(src, "not_spend", False))


def get_source(name: str) -> OrderSource:
    """The order source of this name, or ORDER_SOURCE_UNKNOWN."""
    src = _sources.get(name)
    if src is None:
        raise AppError(OrdersError.ORDER_SOURCE_UNKNOWN)
    return src


register_source(NormalSource())


OrderHook = Callable[["AsyncSession", "Order"], Awaitable[None]]
RefundHook = Callable[["AsyncSession", "Order", "Refund"], Awaitable[None]]
_hooks: dict[str, list[OrderHook]] = {"cancelled": [], "paid": []}
_refund_hooks: list[RefundHook] = []


def register_order_hooks(
    *, cancelled: OrderHook | None = None, paid: OrderHook | None = None, refunded: RefundHook | None = None
) -> None:
    """Run `cancelled(s, order)` / `paid(s, order)` inside every cancelling / payment-confirming
    transaction, after the order's own transition (checkout dispatches them to its contributions), and
    `refunded(s, order, refund)` inside the transaction that applies a succeeded after-sales or system
    refund, once per refund (checkout gives each tender its share back)."""
    if cancelled is not None and cancelled not in _hooks["cancelled"]:
        _hooks["cancelled"].append(cancelled)
    if paid is not None and paid not in _hooks["paid"]:
        _hooks["paid"].append(paid)
    if refunded is not None and refunded not in _refund_hooks:
        _refund_hooks.append(refunded)


def order_hooks(kind: str) -> list[OrderHook]:
    """The hooks registered for an order event kind (cancelled, paid), in registration order."""
    return list(_hooks[kind])


def refund_hooks() -> list[RefundHook]:
    """The hooks that run when a refund succeeds, in registration order."""
    return list(_refund_hooks)


ShipHold = Callable[["AsyncSession", "Order"], Awaitable[str | None]]
_ship_holds: list[ShipHold] = []


def register_ship_hold(hold: ShipHold) -> None:
    """Ask `hold(s, order)` before a paid order of any source ships: a refusal code keeps it back."""
    if hold not in _ship_holds:
        _ship_holds.append(hold)


def ship_holds() -> list[ShipHold]:
    """The registered ship holds, in registration order."""
    return list(_ship_holds)
