"""What group buying shows: the share page, a shopper's groups, the console's group lists, members and
an activity's figures, and the seat invariant the tests and benchmark check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts import service as accounts
from fissionmall.catalog import service as catalog
from fissionmall.catalog.cards import product_cards
from fissionmall.checkout import service as checkout
from fissionmall.checkout import shipping
from fissionmall.checkout.schemas import CartItem
from fissionmall.core import clock
from fissionmall.core.db import keyset_page
from fissionmall.groupbuy import rules, seats
from fissionmall.groupbuy.activities import get_activity
from fissionmall.groupbuy.groups import check_visible, get_group, members_of
from fissionmall.groupbuy.models import Group, GroupActivity, GroupMember
from fissionmall.groupbuy.schemas import ActivityPublic, GroupOrderCreate
from fissionmall.orders import service as orders
from fissionmall.orders.models import Order
from fissionmall.settings import Settings


async def group_view(s: AsyncSession, *, group: Group, caller_id: int | None = None) -> dict[str, Any]:
    """The share page's data: countdown, members (avatars, nicknames), seats left."""
    act = await get_activity(s, activity_id=group.activity_id)
    members = []
    mine = None
    for m in await members_of(s, group_id=group.id):
        if m.status not in ("paid", "refunded") and not (m.status == "reserved" and m.customer_id == caller_id):
            continue
        if m.role == "virtual":
            members.append({"nickname": "拼团小助手", "avatar_url": None, "role": "virtual", "is_virtual": True})
            continue
        c = await accounts.get_customer(s, customer_id=m.customer_id) if m.customer_id else None
        members.append(
            {
                "nickname": c.nickname if c else "",
                "avatar_url": c.avatar_url if c else None,
                "role": m.role,
                "is_virtual": False,
            }
        )
        if caller_id is not None and m.customer_id == caller_id:
            mine = {"role": m.role, "status": m.status, "order_id": m.order_id}
    product = await catalog.get_product(s, product_id=act.product_id, include_hidden=True)
    return {
        "id": group.id,
        "activity_id": group.activity_id,
        "status": group.status,
        "size": group.size,
        "paid_members": group.paid_count,
        "virtual_members": group.virtual_count,
        "seats_left": rules.seats_left(group.size, group.seats_taken),
        "short": max(0, group.size - group.paid_count - group.virtual_count),
        "new_user_required": group.new_user_required,
        "expires_at": group.expires_at,
        "members": members,
        "me": mine,
        "product": {
            "id": product.id,
            "title": product.title,
            "image": product.images[0] if product.images else None,
        },
        "skus": [
            {
                "sku_id": k["sku_id"],
                "price_fen": k["price_fen"],
                "name": next((x.name for x in product.skus if x.id == k["sku_id"]), ""),
            }
            for k in act.skus
        ],
        "server_time": clock.now(),
    }


async def activity_cards(s: AsyncSession, *, activities: Sequence[GroupActivity]) -> list[dict[str, Any]]:
    """The activities with their products' cards (one query for all); an off-shelf product's is left out."""
    cards = await product_cards(s, product_ids=[a.product_id for a in activities])
    out = []
    for a in activities:
        card = cards.get(a.product_id)
        if card is None or not card.on_shelf:
            continue
        row = ActivityPublic.model_validate(a).model_dump()
        row["product"] = {"id": card.id, "title": card.title, "image": card.image, "price_fen": card.price_fen}
        out.append(row)
    return out


async def order_preview(
    s: AsyncSession,
    *,
    customer_id: int,
    body: GroupOrderCreate,
    settings: Settings,
    activity_id: int | None = None,
    group_id: int | None = None,
    leader: bool = True,
) -> dict[str, Any]:
    """What opening a group of `activity_id` (or joining `group_id`, or 一键参团 with `leader` False) would
    charge now, priced by the same plan and chain as the order: the buy page's breakdown, the amount on its
    button. Nothing is reserved; the order itself still checks seats, quotas and stock."""
    if group_id is not None:
        g = await get_group(s, group_id=group_id)
        check_visible(g)
        act = await get_activity(s, activity_id=g.activity_id)
        leader = False
    else:
        assert activity_id is not None
        act = await get_activity(s, activity_id=activity_id, for_sale=True)
    item = CartItem(sku_id=body.sku_id, qty=body.qty)
    price = seats.group_price(act, sku_id=item.sku_id, qty=item.qty)
    plan = seats.group_plan(act, item, price, opening=leader, source_ref="preview", group_id=group_id)
    cbody = seats.checkout_body(body)
    q = await checkout.quote(
        s,
        customer_id=customer_id,
        coupon_id=None,
        plan=plan,
        settings=settings,
        choose_coupon=False,
        options=await shipping.preview_options(s, customer_id=customer_id, body=cbody),
    )
    return {**checkout.preview_dict(q), "activity_id": act.id, "group_price_fen": price}


async def my_groups(s: AsyncSession, *, customer_id: int, limit: int = 50) -> list[tuple[GroupMember, Group]]:
    """The shopper's seats (released ones left out) with their groups, newest first."""
    q = (
        select(GroupMember, Group)
        .join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.customer_id == customer_id, GroupMember.status != "released")
        .order_by(GroupMember.id.desc())
        .limit(limit)
    )
    return [(m, g) for m, g in (await s.execute(q)).all()]


async def list_groups(
    s: AsyncSession,
    *,
    activity_id: int | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[Group], str | None]:
    """Groups newest first, one keyset page, of one activity and/or in one status."""
    q = select(Group).order_by(Group.id.desc())
    if activity_id:
        q = q.where(Group.activity_id == activity_id)
    if status:
        q = q.where(Group.status == status)
    if before_id:
        q = q.where(Group.id < before_id)
    return await keyset_page(s, q, limit=limit)


async def group_members(s: AsyncSession, *, group_id: int) -> list[dict[str, Any]]:
    """Every member with its order figures, for the console (refunds after success included)."""
    out = []
    for m in await members_of(s, group_id=group_id):
        o = await orders.get_order(s, order_id=m.order_id) if m.order_id else None
        c = await accounts.get_customer(s, customer_id=m.customer_id) if m.customer_id else None
        out.append(
            {
                "id": m.id,
                "role": m.role,
                "status": m.status,
                "customer_id": m.customer_id,
                "nickname": c.nickname if c else ("虚拟成员" if m.role == "virtual" else ""),
                "is_new_user": m.is_new_user,
                "is_virtual": m.role == "virtual",
                "order_id": m.order_id,
                "order_no": o.no if o else None,
                "order_status": o.status if o else None,
                "paid_fen": o.paid_fen if o else 0,
                "refunded_fen": o.refunded_fen if o else 0,
                "created_at": m.created_at,
            }
        )
    return out


async def activity_stats(s: AsyncSession, *, activity_id: int) -> dict[str, Any]:
    """Groups opened → succeeded → failed, success rate, paying members, GMV and refunds."""
    rows = await s.execute(
        select(Group.status, func.count()).where(Group.activity_id == activity_id).group_by(Group.status)
    )
    by = {st: int(n) for st, n in rows.all()}
    money = (
        await s.execute(
            select(
                func.count(), func.coalesce(func.sum(Order.paid_fen), 0), func.coalesce(func.sum(Order.refunded_fen), 0)
            )
            .select_from(GroupMember)
            .join(Order, Order.id == GroupMember.order_id)
            .where(GroupMember.activity_id == activity_id, Order.paid_at.is_not(None))
        )
    ).one()
    after_success = await s.scalar(
        select(func.count())
        .select_from(GroupMember)
        .join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.activity_id == activity_id, Group.status == "succeeded", GroupMember.refunded_fen > 0)
    )
    opened = by.get("forming", 0) + by.get("succeeded", 0) + by.get("failed", 0)
    succeeded, failed = by.get("succeeded", 0), by.get("failed", 0)
    return {
        "activity_id": activity_id,
        "opened": opened,
        "forming": by.get("forming", 0),
        "succeeded": succeeded,
        "failed": failed,
        "success_rate_bp": rules.success_rate_bp(succeeded, succeeded + failed),
        "members": int(money[0]),
        "gmv_fen": int(money[1]),
        "refunded_fen": int(money[2]),
        "refunded_after_success": int(after_success or 0),
    }


async def seat_invariant(s: AsyncSession) -> list[int]:
    """Ids of groups breaking the seat invariant (more paid members than seats): always empty."""
    paid = (
        select(GroupMember.group_id, func.count().label("n"))
        .where(GroupMember.status == "paid")
        .group_by(GroupMember.group_id)
        .subquery()
    )
    q = (
        select(Group.id)
        .join(paid, paid.c.group_id == Group.id)
        .where(or_(paid.c.n > Group.size, Group.paid_count > Group.size, and_(Group.seats_taken > Group.size)))
    )
    return list((await s.scalars(q)).all())
