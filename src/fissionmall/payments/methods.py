"""Pay methods besides the gateway (the wallet's 余额支付 and 组合支付), registered by the tool that owns
them, so payments imports no tool (as checkout/tenders.py does for checkout).

`POST /orders/{id}/pay` with a method other than `gateway` runs that method's `apply` under the order's
lock, before any payment is opened: it records what it pays in `Order.tenders` (orders/tenders.py) and
takes the money in that transaction. Payments then asks the gateway for the rest (the gateway due) or,
when nothing is left, marks the order paid with no payment at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fissionmall.core.errors import AppError
from fissionmall.payments.errors import PaymentsError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fissionmall.orders.models import Order

GATEWAY = "gateway"


@dataclass(frozen=True)
class PayAsk:
    """What the shopper asked for: the method and, for a split, the amount the method pays."""

    method: str
    customer_id: int
    amount_fen: int | None = None


@dataclass(frozen=True)
class PayMethod:
    name: str
    # (s, order, ask): under the order's lock; sets the order's tenders and takes the money, or raises AppError.
    apply: Callable[[AsyncSession, Order, PayAsk], Awaitable[None]]


_registered: dict[str, PayMethod] = {}


def register(m: PayMethod) -> PayMethod:
    """Make a pay method known to payments (the gateway is implicit and never registered)."""
    if m.name == GATEWAY:
        raise RuntimeError("the gateway is the implicit pay method")
    _registered[m.name] = m
    return m


def get(name: str) -> PayMethod:
    """The registered method of this name; PAYMENT_METHOD_UNAVAILABLE for one nobody registered."""
    m = _registered.get(name)
    if m is None:
        raise AppError(PaymentsError.PAYMENT_METHOD_UNAVAILABLE)
    return m


__all__ = ["GATEWAY", "PayAsk", "PayMethod", "get", "register"]
