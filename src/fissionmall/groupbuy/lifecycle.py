"""A group's life after its seats are reserved: paid seats open and succeed it; its timer expires it.

A seat becomes paid in the payment-confirming transaction (the source's `paid` hook): the leader's opens
the group (GroupOpened, and a durable expiry timer), the last one succeeds it (GroupSucceeded, and
GroupLeaderRewarded for the tools that pay the leader's reward). A group still short at expiry is
auto-filled if the activity says so, else failed: every paid member is refunded in full, once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, events, jobs
from fissionmall.core.errors import Conflict
from fissionmall.groupbuy import rules
from fissionmall.groupbuy.activities import get_activity
from fissionmall.groupbuy.events import GroupOpened
from fissionmall.groupbuy.groups import get_group, member_of_order, members_of, rows_changed
from fissionmall.groupbuy.models import Group, GroupMember
from fissionmall.groupbuy.pools import give_units
from fissionmall.groupbuy.quotas import close_open, give_quota
from fissionmall.orders import refunds, reports
from fissionmall.orders import service as orders

EXPIRE_HANDLER = "groupbuy.expire"
PAID_STATES = reports.PAID_STATUSES


async def member_paid(s: AsyncSession, *, order_id: int) -> None:
    """A member's order was paid: the leader's payment opens the group (GroupOpened); the last seat
    succeeds it. Once per member, however often it is called: the `paid` hook calls it in the payment's
    transaction, the OrderPaid handler and the expiry timer again later, and those find it done."""
    m = await member_of_order(s, order_id=order_id)
    if m is None:
        return
    now = clock.now()
    res = await s.execute(
        update(GroupMember)
        .where(GroupMember.id == m.id, GroupMember.status == "reserved")
        .values(status="paid", paid_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        return
    if m.role == "leader":
        act = await get_activity(s, activity_id=m.activity_id)
        expires = now + timedelta(minutes=act.duration_minutes)
        res = await s.execute(
            update(Group)
            .where(Group.id == m.group_id, Group.status == "pending")
            .values(status="forming", formed_at=now, expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(res) == 1:
            await jobs.schedule(
                s, EXPIRE_HANDLER, {"group_id": m.group_id}, due_at=expires, key=f"group-expire:{m.group_id}"
            )
            await events.publish(
                s,
                GroupOpened(
                    group_id=m.group_id,
                    activity_id=m.activity_id,
                    leader_id=m.customer_id,
                    order_id=order_id,
                    size=act.group_size,
                    expires_at=expires.isoformat(),
                ),
            )
    await s.execute(
        update(Group)
        .where(Group.id == m.group_id)
        .values(paid_count=Group.paid_count + 1, new_users=Group.new_users + (1 if m.is_new_user else 0))
        .execution_options(synchronize_session=False)
    )
    await _try_succeed(s, m.group_id)


async def _try_succeed(s: AsyncSession, group_id: int) -> bool:
    """Succeed the group if every seat is paid or filled (and 老带新 is met); True if this call did it."""
    now = clock.now()
    res = await s.execute(
        update(Group)
        .where(
            Group.id == group_id,
            Group.status == "forming",
            Group.paid_count + Group.virtual_count >= Group.size,
            or_(Group.new_user_required.is_(False), Group.new_users >= 1),
        )
        .values(status="succeeded", succeeded_at=now)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        return False
    g = await get_group(s, group_id=group_id)
    act = await get_activity(s, activity_id=g.activity_id)
    await close_open(s, activity_id=g.activity_id, customer_id=g.leader_id)
    paid = [m for m in await members_of(s, group_id=g.id) if m.status == "paid"]
    await jobs.publish(
        s,
        "GroupSucceeded",
        {
            "group_id": g.id,
            "activity_id": g.activity_id,
            "leader_id": g.leader_id,
            "size": g.size,
            "virtual_members": g.virtual_count,
            "members": [{"customer_id": m.customer_id, "order_id": m.order_id, "role": m.role} for m in paid],
        },
    )
    if act.leader_points or act.leader_coupon_template_id or act.leader_discount_fen:
        # Points and coupons belong to other tools: they listen for this event.
        await jobs.publish(
            s,
            "GroupLeaderRewarded",
            {
                "group_id": g.id,
                "leader_id": g.leader_id,
                "discount_fen": act.leader_discount_fen,
                "points": act.leader_points,
                "coupon_template_id": act.leader_coupon_template_id,
            },
        )
    return True


async def expire_group(s: AsyncSession, *, group_id: int) -> str:
    """The group's time is up: succeed it if every seat turns out paid (or auto-fill is on), else fail it,
    refund every paid member in full and cancel the unpaid orders. Returns the group's status; a second
    run finds the group settled and does nothing."""
    g = await get_group(s, group_id=group_id)
    if g.status != "forming":
        return g.status
    act = await get_activity(s, activity_id=g.activity_id)
    await _settle_reserved(s, g)
    g = await get_group(s, group_id=group_id)
    if g.status != "forming":
        return g.status
    if act.auto_fill and (not g.new_user_required or g.new_users >= 1) and g.paid_count >= 1:
        short = g.size - g.paid_count
        now = clock.now()
        for _ in range(short):
            s.add(
                GroupMember(
                    group_id=g.id,
                    activity_id=g.activity_id,
                    customer_id=None,
                    holder=None,
                    role="virtual",
                    status="paid",
                    qty=0,
                    created_at=now,
                    paid_at=now,
                )
            )
        await s.execute(
            update(Group)
            .where(Group.id == g.id, Group.status == "forming")
            .values(virtual_count=short, seats_taken=g.size)
            .execution_options(synchronize_session=False)
        )
        if await _try_succeed(s, g.id):
            return "succeeded"
    if not await _fail(s, g, among=("forming",)):
        return (await get_group(s, group_id=group_id)).status
    return "failed"


async def _settle_reserved(s: AsyncSession, g: Group) -> None:
    """Settle the reserved seats of a group that takes no more: each paid order's seat paid, each unpaid
    order cancelled."""
    # A payment confirmation takes its order's lock and then the group's row (the `paid` hook), so the
    # orders of the reserved members are locked here, in id order, before anything touches the group:
    # taking one after the group's row would deadlock against a confirmation of that very order. No seat
    # can be reserved any more (the seat CAS wants expires_at > now), so this set is the final one.
    reserved = sorted(m.order_id for m in await members_of(s, group_id=g.id) if m.status == "reserved" and m.order_id)
    for oid in reserved:
        await orders.lock_order(s, order_id=oid)
    # Once locked, each is either paid (its `paid` hook has run, or an OrderPaid from before the hook
    # existed still waits: member_paid is idempotent) or still unpaid and cancelled now.
    for m in await members_of(s, group_id=g.id):
        if m.status == "reserved" and m.order_id is not None:
            o = await orders.get_order(s, order_id=m.order_id)
            if o.status in PAID_STATES:
                await member_paid(s, order_id=o.id)
            else:
                try:
                    await orders.cancel(s, order_id=o.id, reason="group_expired")
                except Conflict:  # paid at this very moment
                    await member_paid(s, order_id=o.id)


async def _fail(s: AsyncSession, g: Group, *, among: tuple[str, ...]) -> bool:
    """Fail the group if its status is one of `among` (a compare-and-set): every paid member refunded in
    full, once; False when it was not (settled by someone else)."""
    res = await s.execute(
        update(Group)
        .where(Group.id == g.id, Group.status.in_(among))
        .values(status="failed", failed_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        return False
    if g.status == "forming":  # a succeeded group's open was closed when it succeeded
        await close_open(s, activity_id=g.activity_id, customer_id=g.leader_id)
    refunded = []
    for m in await members_of(s, group_id=g.id):
        if m.status != "paid" or m.order_id is None or m.customer_id is None:
            continue
        await refund_failed_member(s, group_id=g.id, member=m)
        refunded.append(m.order_id)
    await jobs.publish(s, "GroupFailed", {"group_id": g.id, "activity_id": g.activity_id, "refunded_orders": refunded})
    return True


async def void_group(s: AsyncSession, *, group_id: int) -> None:
    """A reviewer voided a suspicious group (虚假拼团): it fails as an expired one does, forming or already
    succeeded (its orders do not ship while the review is pending): unpaid orders cancelled, paid members
    refunded in full, once. A second call finds it failed and does nothing."""
    g = await get_group(s, group_id=group_id)
    if g.status == "failed":
        return
    await _settle_reserved(s, g)
    g = await get_group(s, group_id=group_id)  # settling may have succeeded it
    await _fail(s, g, among=(g.status,) if g.status in ("forming", "succeeded") else ())


async def refund_failed_member(s: AsyncSession, *, group_id: int, member: GroupMember) -> None:
    """Refund one paid member of a failed group in full, once (keyed), and return the stock."""
    assert member.order_id is not None and member.customer_id is not None
    res = await s.execute(
        update(GroupMember)
        .where(GroupMember.id == member.id, GroupMember.status == "paid")
        .values(status="refunded", holder=None, released_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        return
    await give_units(s, member=member, cancelled=False)
    await give_quota(s, activity_id=member.activity_id, customer_id=member.customer_id, closes=False, units=member.qty)
    try:
        await refunds.system_refund(
            s,
            order_id=member.order_id,
            reason=rules.FAILED_REFUND_REASON,
            key=f"group-failed:{group_id}:{member.order_id}",
        )
    except Conflict as exc:
        if exc.code not in ("NOTHING_TO_REFUND", "REFUND_NOT_ALLOWED"):
            raise  # already refunded by the shopper's own request: nothing is left to send back


async def member_refunded(s: AsyncSession, *, order_id: int, amount_fen: int) -> None:
    """A refund of a member's order: recorded for the console; a succeeded group stays succeeded."""
    await s.execute(
        update(GroupMember)
        .where(GroupMember.order_id == order_id)
        .values(refunded_fen=GroupMember.refunded_fen + amount_fen)
        .execution_options(synchronize_session=False)
    )
