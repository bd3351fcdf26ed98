"""Orders the risk layer holds for a person (订单 in the 审核队列): what releasing and voiding one does, and
the ship hold that keeps a held order from shipping meanwhile.

Checkout opens the review when the layer's verdict on placing an order is REVIEW (a merchant's rule, such
as a new account's large order): the order is placed and can be paid as usual, it just does not ship until
a reviewer releases it. Voiding cancels it if unpaid, or refunds it in full (once, by its key) if paid.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.errors import Conflict
from fissionmall.orders import refunds
from fissionmall.orders import service as orders
from fissionmall.orders.models import Order
from fissionmall.orders.sources import register_ship_hold
from fissionmall.risk import reviews
from fissionmall.risk.errors import RiskError

ORDER_KIND = "order"
VOID_REASON = "风控审核未通过"


async def _held(s: AsyncSession, order: Order) -> str | None:
    return RiskError.ORDER_UNDER_REVIEW if await reviews.pending(s, kind=ORDER_KIND, ref_id=order.id) else None


async def _release(s: AsyncSession, order_id: int) -> None:
    """Released: nothing to give, the order may ship now that no pending review holds it."""


async def _void(s: AsyncSession, order_id: int) -> None:
    order = await orders.lock_order(s, order_id=order_id)
    if order.status == "pending_payment":
        await orders.cancel(s, order_id=order.id, reason="risk_review")
    elif order.status == "paid":
        try:
            await refunds.system_refund(s, order_id=order.id, reason=VOID_REASON, key=f"risk-void:{order.id}")
        except Conflict as exc:
            if exc.code not in ("NOTHING_TO_REFUND", "REFUND_NOT_ALLOWED"):
                raise  # refunded already by the shopper's own request: nothing is left to send back


register_ship_hold(_held)
reviews.register(reviews.Kind(ORDER_KIND, "订单", release=_release, void=_void))
