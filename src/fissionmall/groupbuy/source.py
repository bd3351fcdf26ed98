"""The `groupbuy` order source: the hooks orders runs for a group order (cancelled, paid, can_ship,
can_refund), registered with orders at import.

Seats, stock and quotas move inside the order's own transactions through these hooks: a cancelled unpaid
order releases its seat, a confirmed payment pays it (lifecycle.py), and a group's orders neither ship nor
take a refund request while the group is still forming. A group the risk layer held for review (拼团 in the
审核队列) does not ship until a reviewer releases it; voiding it fails the group and refunds its members.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.groupbuy.errors import GroupbuyError
from fissionmall.groupbuy.groups import get_group, member_of_order
from fissionmall.groupbuy.lifecycle import member_paid, void_group
from fissionmall.groupbuy.seats import SOURCE, release_member
from fissionmall.orders.models import Order
from fissionmall.orders.sources import SourceDefaults, register_source
from fissionmall.risk import reviews

SHIP_REFUSAL = REFUND_REFUSAL = GroupbuyError.GROUP_FORMING
REVIEW_KIND = "group"


async def ship_refusal(s: AsyncSession, *, order_id: int) -> str | None:
    """Why a group order may not ship: its group still forming, or held for review; None when it may."""
    m = await member_of_order(s, order_id=order_id)
    if m is None:
        return None
    g = await get_group(s, group_id=m.group_id)
    if g.status != "succeeded":
        return SHIP_REFUSAL
    if await reviews.pending(s, kind=REVIEW_KIND, ref_id=g.id):
        return GroupbuyError.GROUP_UNDER_REVIEW
    return None


class GroupBuySource(SourceDefaults):
    """The `groupbuy` order source: one line at the group price, the activity's own stock."""

    name = SOURCE

    async def cancelled(self, s: AsyncSession, *, order: Order) -> None:
        """An unpaid order was cancelled: its seat, stock and quota come back."""
        await release_member(s, order_id=order.id)

    async def paid(self, s: AsyncSession, *, order: Order) -> None:
        """The order's payment is being confirmed: the seat is paid, and the group opens (leader) or
        succeeds (last seat) in the same commit, so the next request anyone makes sees it."""
        await member_paid(s, order_id=order.id)

    async def can_ship(self, s: AsyncSession, *, order: Order) -> str | None:
        """A paid order ships only once its group has succeeded (the platform's ship asks this)."""
        return await ship_refusal(s, order_id=order.id)

    async def can_refund(self, s: AsyncSession, *, order: Order) -> str | None:
        """No refund request while the group is forming: it would keep a paid seat the group counts on, and
        a group that fails refunds every member in full anyway."""
        m = await member_of_order(s, order_id=order.id)
        if m is None:
            return None
        return REFUND_REFUSAL if (await get_group(s, group_id=m.group_id)).status == "forming" else None


register_source(GroupBuySource())


async def _release_group(s: AsyncSession, group_id: int) -> None:
    """Released: nothing to give, the review no longer holds the group's orders back from shipping."""


async def _void_group(s: AsyncSession, group_id: int) -> None:
    await void_group(s, group_id=group_id)


reviews.register(reviews.Kind(REVIEW_KIND, "拼团", release=_release_group, void=_void_group))
