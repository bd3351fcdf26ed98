"""Opening and joining groups: a group order's plan, reserved inside the order's own transaction, and the
seat released again when that order is cancelled unpaid.

The plan takes the shopper's quota, the units (the activity's pool, else the SKU's stock) and the seat (a
compare-and-set on the group's seat counter, or a new `pending` group for a leader), then checkout places
the order from it; so a group never has more reserved or paid members than its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.checkout import service as checkout
from fissionmall.checkout.plans import Plan, PlannedLine
from fissionmall.checkout.schemas import CartItem, CheckoutRequest
from fissionmall.core import clock, events
from fissionmall.core.errors import AppError, Conflict
from fissionmall.groupbuy import rules
from fissionmall.groupbuy.activities import get_activity, sku_price
from fissionmall.groupbuy.errors import GroupbuyError
from fissionmall.groupbuy.events import GroupJoined
from fissionmall.groupbuy.groups import check_visible, get_group, member_of_order, rows_changed
from fissionmall.groupbuy.models import Group, GroupActivity, GroupMember
from fissionmall.groupbuy.pools import give_units, take_units
from fissionmall.groupbuy.quotas import give_quota, take_quota
from fissionmall.groupbuy.schemas import GroupOrderCreate
from fissionmall.orders import reports
from fissionmall.orders.models import Order
from fissionmall.settings import Settings

SOURCE = "groupbuy"  # the order source whose hooks (source.py) orders runs for a group order


async def _holding(s: AsyncSession, group_id: int, customer_id: int) -> GroupMember | None:
    return await s.scalar(
        select(GroupMember).where(GroupMember.group_id == group_id, GroupMember.holder == customer_id)
    )


async def _has_new_user(s: AsyncSession, group_id: int) -> bool:
    found = await s.scalar(
        select(GroupMember.id).where(
            GroupMember.group_id == group_id,
            GroupMember.status.in_(rules.HOLDING),
            GroupMember.is_new_user.is_(True),
        )
    )
    return found is not None


def _join_refusal(g: Group, act: GroupActivity, now: Any) -> Conflict | None:
    if g.status == "failed":
        return Conflict(GroupbuyError.GROUP_FAILED)
    if g.status == "succeeded":
        return Conflict(GroupbuyError.GROUP_FULL)
    if g.expires_at is not None and g.expires_at <= now:
        return Conflict(GroupbuyError.GROUP_EXPIRED)
    if g.seats_taken >= g.size:
        return Conflict(GroupbuyError.GROUP_FULL)
    return None


async def _reserve_seat(s: AsyncSession, g: Group, act: GroupActivity, *, is_new: bool) -> None:
    """Compare-and-set on the seat counter; the refusal says why when it loses."""
    now = clock.now()
    keep_last = 0
    if g.new_user_required and not is_new and not await _has_new_user(s, g.id):
        keep_last = 1  # 老带新: the last seat waits for a new shopper
    res = await s.execute(
        update(Group)
        .where(
            Group.id == g.id,
            Group.status == "forming",
            Group.expires_at > now,
            Group.seats_taken < Group.size - keep_last,
        )
        .values(seats_taken=Group.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) == 1:
        return
    g = await get_group(s, group_id=g.id)
    refusal = _join_refusal(g, act, now)
    if refusal is not None:
        raise refusal
    raise Conflict(GroupbuyError.GROUP_NEEDS_NEW_USER)


async def _plan(
    s: AsyncSession,
    *,
    customer_id: int,
    items: Sequence[CartItem],
    opening: bool,
    activity_id: int | None = None,
    group_id: int | None = None,
) -> tuple[Plan, int]:
    """Validate and reserve a group order in the order's transaction (quota, stock, the seat or the new
    group): the typed plan checkout prices, and the reserved member's id to link the order to."""
    if len(items) != 1:
        raise AppError(GroupbuyError.GROUP_ONE_SKU)
    item = items[0]
    now = clock.now()
    g: Group | None = None
    if opening:
        assert activity_id is not None
        act = await get_activity(s, activity_id=activity_id, for_sale=True)
        refusal = rules.window_refusal(rules.Window(act.starts_at, act.ends_at), now)
        if refusal:
            raise Conflict(refusal)
    else:
        assert group_id is not None
        g = await get_group(s, group_id=group_id)
        act = await get_activity(s, activity_id=g.activity_id)
        if g.leader_id == customer_id and g.status != "cancelled":
            raise Conflict(GroupbuyError.GROUP_OWN)
        check_visible(g)
        if await _holding(s, g.id, customer_id) is not None:
            raise Conflict(GroupbuyError.GROUP_ALREADY_JOINED)
        refusal_exc = _join_refusal(g, act, now)
        if refusal_exc is not None:
            raise refusal_exc
    price = group_price(act, sku_id=item.sku_id, qty=item.qty)
    await take_quota(s, act=act, customer_id=customer_id, opens=opening, units=item.qty)
    from_pool = await take_units(s, activity_id=act.id, sku_id=item.sku_id, qty=item.qty)
    is_new = False
    if opening:
        g = Group(
            activity_id=act.id,
            leader_id=customer_id,
            size=act.group_size,
            seats_taken=1,
            new_user_required=act.new_user_required,
            status="pending",
            created_at=now,
        )
        s.add(g)
        await s.flush()
    else:
        assert g is not None
        is_new = await reports.is_new_customer(s, customer_id=customer_id)
        await _reserve_seat(s, g, act, is_new=is_new)
    if opening and act.new_user_required:
        is_new = await reports.is_new_customer(s, customer_id=customer_id)
    member = GroupMember(
        group_id=g.id,
        activity_id=act.id,
        customer_id=customer_id,
        holder=customer_id,
        role="leader" if opening else "member",
        status="reserved",
        sku_id=item.sku_id,
        qty=item.qty,
        is_new_user=is_new,
        created_at=now,
    )
    s.add(member)
    await s.flush()
    plan = group_plan(
        act, item, price, opening=opening, source_ref=f"g{g.id}-m{member.id}", group_id=g.id, from_pool=from_pool
    )
    return plan, member.id


def group_price(act: GroupActivity, *, sku_id: int, qty: int) -> int:
    """The activity's group price of the SKU, refusing a SKU outside it or more than one order may take."""
    price = sku_price(act, sku_id)
    if price is None:
        raise AppError(GroupbuyError.SKU_NOT_IN_ACTIVITY)
    if qty > act.per_order_limit:
        raise AppError(
            GroupbuyError.QTY_LIMIT_EXCEEDED, f"每单最多购买 {act.per_order_limit} 件", limit=act.per_order_limit
        )
    return price


def group_plan(
    act: GroupActivity,
    item: CartItem,
    price: int,
    *,
    opening: bool,
    source_ref: str,
    group_id: int | None,
    from_pool: bool = False,
) -> Plan:
    """What checkout sells for a group seat: the line at the group price (the leader's less the leader
    discount), no coupons, the activity's own pay window. The order's and its preview's one plan."""
    unit = rules.unit_price(price, leader=opening, leader_discount_fen=act.leader_discount_fen)
    return Plan(
        lines=(
            PlannedLine(
                sku_id=item.sku_id,
                qty=item.qty,
                activity_price_fen=unit,
                activity_label="拼团价（团长）" if opening and unit != price else "拼团价",
                take_sku_stock=not from_pool,
            ),
        ),
        source=SOURCE,
        source_ref=source_ref,
        pay_minutes=act.pay_minutes,
        allows_coupons=False,
        attribution={"groupbuy_activity_id": act.id, "groupbuy_group_id": group_id},
    )


async def _place(
    s: AsyncSession,
    *,
    customer_id: int,
    body: GroupOrderCreate,
    settings: Settings,
    attribution: dict[str, Any] | None,
    opening: bool,
    activity_id: int | None = None,
    group_id: int | None = None,
) -> Order:
    """Plan, place through checkout, and link the new order to its group seat."""
    cbody = checkout_body(body)
    address = await checkout.resolve_address(s, customer_id=customer_id, body=cbody)
    items = [CartItem(sku_id=k, qty=n) for k, n in checkout.merge_items(cbody.items, settings.max_line_qty)]
    plan, member_id = await _plan(
        s, customer_id=customer_id, items=items, opening=opening, activity_id=activity_id, group_id=group_id
    )
    order = await checkout.place(
        s, customer_id=customer_id, body=cbody, settings=settings, plan=plan, attribution=attribution, address=address
    )
    await s.execute(
        update(GroupMember)
        .where(GroupMember.id == member_id)
        .values(order_id=order.id)
        .execution_options(synchronize_session=False)
    )
    return order


async def release_member(s: AsyncSession, *, order_id: int) -> bool:
    """Free a reserved (unpaid) member's seat; once, however often it is called."""
    m = await member_of_order(s, order_id=order_id)
    if m is None:
        return False
    res = await s.execute(
        update(GroupMember)
        .where(GroupMember.id == m.id, GroupMember.status == "reserved")
        .values(status="released", holder=None, released_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if rows_changed(res) != 1:
        return False
    assert m.customer_id is not None
    await give_units(s, member=m, cancelled=True)
    if m.role == "leader":
        res = await s.execute(
            update(Group)
            .where(Group.id == m.group_id, Group.status == "pending")
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
        await give_quota(
            s, activity_id=m.activity_id, customer_id=m.customer_id, closes=rows_changed(res) == 1, units=m.qty
        )
        await s.execute(
            update(Group)
            .where(Group.id == m.group_id)
            .values(seats_taken=Group.seats_taken - 1)
            .execution_options(synchronize_session=False)
        )
    else:
        await give_quota(s, activity_id=m.activity_id, customer_id=m.customer_id, closes=False, units=m.qty)
        await s.execute(
            update(Group)
            .where(Group.id == m.group_id)
            .values(seats_taken=Group.seats_taken - 1)
            .execution_options(synchronize_session=False)
        )
    return True


def checkout_body(body: GroupOrderCreate) -> CheckoutRequest:
    """A group order's body as checkout reads it (one line, the address, the remark)."""
    return CheckoutRequest.model_validate(
        {
            "items": [{"sku_id": body.sku_id, "qty": body.qty}],
            "address": body.address.model_dump() if body.address else None,
            "address_id": body.address_id,
            "remark": body.remark,
        }
    )


async def open_group(
    s: AsyncSession,
    *,
    customer_id: int,
    activity_id: int,
    body: GroupOrderCreate,
    settings: Settings,
    attribution: dict[str, Any] | None = None,
) -> tuple[Group, Order]:
    """Open a group: the leader's order at the group price; the group shows once it is paid."""
    order = await _place(
        s,
        customer_id=customer_id,
        body=body,
        settings=settings,
        attribution=attribution,
        opening=True,
        activity_id=activity_id,
    )
    m = await member_of_order(s, order_id=order.id)
    assert m is not None
    return await get_group(s, group_id=m.group_id), order


async def join_group(
    s: AsyncSession,
    *,
    customer_id: int,
    group_id: int,
    body: GroupOrderCreate,
    settings: Settings,
    attribution: dict[str, Any] | None = None,
) -> tuple[Group, Order]:
    """Join a forming group: a seat is reserved with the order and kept if it is paid in time."""
    order = await _place(
        s,
        customer_id=customer_id,
        body=body,
        settings=settings,
        attribution=attribution,
        opening=False,
        group_id=group_id,
    )
    g = await get_group(s, group_id=group_id)
    await events.publish(
        s, GroupJoined(group_id=g.id, activity_id=g.activity_id, customer_id=customer_id, order_id=order.id)
    )
    return g, order


async def joinable_groups(s: AsyncSession, *, activity_id: int, caller_id: int | None, limit: int = 10) -> list[Group]:
    """Forming groups with a free seat, nearly full first; never the caller's own or ones they are in."""
    now = clock.now()
    q = (
        select(Group)
        .where(
            Group.activity_id == activity_id,
            Group.status == "forming",
            Group.expires_at > now,
            Group.seats_taken < Group.size,
        )
        .order_by((Group.size - Group.seats_taken).asc(), Group.expires_at.asc(), Group.id.asc())
        .limit(limit)
    )
    if caller_id is not None:
        mine = select(GroupMember.group_id).where(GroupMember.holder == caller_id)
        q = q.where(Group.leader_id != caller_id, Group.id.not_in(mine))
    return list((await s.scalars(q)).all())
