"""Group buying: activities, opening and joining groups through orders, success and failure.

Seats, stock and per-shopper quotas only move through conditional UPDATEs, inside the order's own
transaction (the `groupbuy` OrderSource): a seat is reserved when the order is created and released
when that order is cancelled unpaid, so a group never has more paying members than its size.
A seat becomes paid in the payment-confirming transaction (the source's `paid` hook): the leader's
opens the group, the last one succeeds it. Failure is decided by a durable timer per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts import service as accounts
from fissionmall.catalog import service as catalog
from fissionmall.catalog.errors import CatalogError
from fissionmall.checkout import service as checkout
from fissionmall.checkout.plans import Plan, PlannedLine
from fissionmall.core import clock, jobs
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import AppError, Conflict, NotFound
from fissionmall.groupbuy import rules
from fissionmall.groupbuy.errors import GroupbuyError
from fissionmall.groupbuy.models import Group, GroupActivity, GroupMember, GroupPool, GroupQuota
from fissionmall.groupbuy.schemas import ActivityCreate, ActivitySkuIn, ActivityUpdate, GroupOrderIn
from fissionmall.orders import reports
from fissionmall.orders import service as orders
from fissionmall.orders.models import Order, OrderLine
from fissionmall.orders.schemas import CartItem, CheckoutIn
from fissionmall.orders.sources import SourceDefaults, register_source
from fissionmall.settings import Settings

SOURCE = "groupbuy"
EXPIRE_HANDLER = "groupbuy.expire"
END_HANDLER = "groupbuy.activity_end"
SHIP_REFUSAL = REFUND_REFUSAL = GroupbuyError.GROUP_FORMING
PAID_STATES = reports.PAID_STATUSES


def _rows(res: Any) -> int:
    return int(res.rowcount)


# ---- activities ----------------------------------------------------------------------------------


async def _check_skus(s: AsyncSession, product_id: int, skus: Sequence[Any]) -> list[dict[str, int]]:
    product = await catalog.get_product(s, product_id=product_id, include_hidden=True)
    own = {k.id: k for k in product.skus if k.is_active}
    seen: set[int] = set()
    out = []
    for item in skus:
        if item.sku_id in seen:
            raise AppError(GroupbuyError.SKU_DUPLICATE, sku_id=item.sku_id)
        seen.add(item.sku_id)
        sku = own.get(item.sku_id)
        if sku is None:
            raise AppError(CatalogError.SKU_NOT_IN_PRODUCT)
        if item.price_fen > sku.price_fen:
            raise AppError(GroupbuyError.GROUP_PRICE_TOO_HIGH, sku_id=sku.id)
        out.append({"sku_id": item.sku_id, "price_fen": item.price_fen})
    return out


def _check_leader_discount(discount_fen: int, skus: Sequence[dict[str, int]]) -> None:
    """A leader pays at least 1 fen for the goods: a discount that swallows a group price would make
    every leader's order shipping only."""
    if discount_fen <= 0:
        return
    cheapest = min(skus, key=lambda k: k["price_fen"])
    if discount_fen >= cheapest["price_fen"]:
        raise AppError(
            GroupbuyError.LEADER_DISCOUNT_TOO_HIGH, sku_id=cheapest["sku_id"], price_fen=cheapest["price_fen"]
        )


def _pools_asked(items: Sequence[Any], stock: int | None) -> dict[int, int]:
    """SKU → the pool asked for: skus[].stock, or the top-level `stock` of a one-SKU activity."""
    per = {i.sku_id: i.stock for i in items if i.stock is not None}
    if stock is None:
        return per
    if len(items) == 1 and not per:
        return {items[0].sku_id: stock}
    if len(per) != len(items) or sum(per.values()) != stock:
        raise AppError(
            GroupbuyError.STOCK_SPLIT_REQUIRED,
            "活动有多个规格：请在每个规格上填写活动库存（skus[].stock），总数等于 stock",
        )
    return per


async def _pool_row(s: AsyncSession, activity_id: int, sku_id: int) -> GroupPool | None:
    return await s.scalar(
        select(GroupPool)
        .where(GroupPool.activity_id == activity_id, GroupPool.sku_id == sku_id)
        .execution_options(populate_existing=True)
    )


async def _set_pool(s: AsyncSession, activity_id: int, sku_id: int, new: int) -> None:
    """Make the SKU's pool `new` units (sold and held ones included), moving the difference between the
    SKU's stock and the pool, so SKU stock + pool stays the same."""
    row = await _pool_row(s, activity_id, sku_id)
    if row is None:
        await catalog.stock_to_pool(s, sku_id=sku_id, qty=new)
        s.add(GroupPool(activity_id=activity_id, sku_id=sku_id, pool=new, units_left=new, closed=False))
        await s.flush()
        return
    if row.closed:
        raise Conflict(GroupbuyError.ACTIVITY_STOCK_RETURNED, sku_id=sku_id)
    delta = new - row.pool
    if delta == 0:
        return
    # Sales move units_left only, never pool: comparing pool catches another operator's edit alone.
    res = await s.execute(
        update(GroupPool)
        .where(
            GroupPool.id == row.id,
            GroupPool.pool == row.pool,
            GroupPool.closed.is_(False),
            GroupPool.units_left + delta >= 0,
        )
        .values(pool=new, units_left=GroupPool.units_left + delta)
        .execution_options(synchronize_session=False)
    )
    if _rows(res) != 1:
        now_row = await _pool_row(s, activity_id, sku_id)
        if now_row is not None and (now_row.pool != row.pool or now_row.closed):
            raise Conflict(GroupbuyError.STOCK_CHANGED, sku_id=sku_id)
        raise Conflict(GroupbuyError.STOCK_BELOW_RESERVED)
    if delta > 0:
        await catalog.stock_to_pool(s, sku_id=sku_id, qty=delta)
    else:
        await catalog.pool_to_stock(s, sku_id=sku_id, qty=-delta)


async def _close_pools(s: AsyncSession, activity_id: int, sku_ids: Sequence[int] | None = None) -> int:
    """Give what is left of the pools back to their SKUs, once: a closed pool keeps only the units held by
    live orders. Returns the units given back."""
    q = select(GroupPool).where(GroupPool.activity_id == activity_id, GroupPool.closed.is_(False))
    if sku_ids is not None:
        q = q.where(GroupPool.sku_id.in_(sku_ids))
    # The row lock makes units_left final: a sale waiting on it then finds the pool closed.
    rows = (
        await s.scalars(q.order_by(GroupPool.sku_id).with_for_update().execution_options(populate_existing=True))
    ).all()
    given = 0
    for p in rows:
        res = await s.execute(
            update(GroupPool)
            .where(GroupPool.id == p.id, GroupPool.closed.is_(False))
            .values(closed=True, pool=GroupPool.pool - GroupPool.units_left, units_left=0)
            .execution_options(synchronize_session=False)
        )
        if _rows(res) == 1:
            await catalog.pool_to_stock(s, sku_id=p.sku_id, qty=p.units_left)
            given += p.units_left
    return given


def _ended(act: GroupActivity) -> bool:
    return act.status != "active" or act.ends_at <= clock.now()


async def _schedule_end(s: AsyncSession, act: GroupActivity) -> None:
    # One job per end time: an edited ends_at gets its own job; the stale one finds nothing to do.
    await jobs.schedule(
        s,
        END_HANDLER,
        {"activity_id": act.id},
        due_at=act.ends_at,
        key=f"groupbuy-end:{act.id}:{int(act.ends_at.timestamp())}",
    )


async def create_activity(s: AsyncSession, *, data: ActivityCreate) -> GroupActivity:
    """Create a group-buying activity for one product. A SKU given a stock has that many units moved out of
    its own stock into the activity (refused with INSUFFICIENT_STOCK if it has fewer); the other SKUs sell
    straight from their own stock."""
    if data.ends_at <= data.starts_at:
        raise AppError(GroupbuyError.ACTIVITY_WINDOW_INVALID)
    skus = await _check_skus(s, data.product_id, data.skus)
    _check_leader_discount(data.leader_discount_fen, skus)
    pools = _pools_asked(data.skus, data.stock)
    product = await catalog.get_product(s, product_id=data.product_id, include_hidden=True)
    now = clock.now()
    fields = data.model_dump(exclude={"skus", "title", "stock"})
    act = GroupActivity(
        **fields,
        title=data.title or product.title,
        skus=skus,
        status="active",
        created_at=now,
        updated_at=now,
    )
    s.add(act)
    await s.flush()
    for sku_id in sorted(pools):  # lock SKUs in id order
        await _set_pool(s, act.id, sku_id, pools[sku_id])
    if pools:
        await _schedule_end(s, act)
    return await get_activity(s, activity_id=act.id)


async def get_activity(s: AsyncSession, *, activity_id: int, for_sale: bool = False) -> GroupActivity:
    act = await s.scalar(
        select(GroupActivity).where(GroupActivity.id == activity_id).execution_options(populate_existing=True)
    )
    if act is None or (for_sale and act.status != "active"):
        raise NotFound(GroupbuyError.ACTIVITY_NOT_FOUND)
    return act


async def update_activity(s: AsyncSession, *, activity_id: int, data: ActivityUpdate) -> GroupActivity:
    """Edit an activity. A new pool size (`stock`, or skus[].stock) moves units between the SKU's stock and
    the activity, never below what is reserved or sold; a SKU dropped from the activity gets its unsold
    pool back."""
    act = await get_activity(s, activity_id=activity_id)
    given = data.model_dump(exclude_unset=True)
    old_skus = [int(k["sku_id"]) for k in act.skus]
    items = data.skus if data.skus is not None else None
    if items is not None:
        act.skus = await _check_skus(s, act.product_id, items)
    discount = data.leader_discount_fen if data.leader_discount_fen is not None else act.leader_discount_fen
    _check_leader_discount(discount, act.skus)
    starts, ends = given.get("starts_at", act.starts_at), given.get("ends_at", act.ends_at)
    if ends <= starts:
        raise AppError(GroupbuyError.ACTIVITY_WINDOW_INVALID)
    if items is not None:
        asked = _pools_asked(items, data.stock)
    elif data.stock is not None:
        asked = _pools_asked([ActivitySkuIn(sku_id=k, price_fen=0) for k in old_skus], data.stock)
    else:
        asked = {}
    held = {p.sku_id: p.pool for p in act.pools if not p.closed}
    asked = {k: v for k, v in asked.items() if held.get(k) != v}  # the console sends unchanged pools back
    if asked and _ended(act):
        raise Conflict(GroupbuyError.ACTIVITY_ENDED, "活动已结束，库存已退回商品，不能再调整")
    dropped = sorted(set(old_skus) - {int(k["sku_id"]) for k in act.skus})
    if dropped:
        await _close_pools(s, act.id, dropped)
    for sku_id in sorted(asked):
        await _set_pool(s, act.id, sku_id, asked[sku_id])
    for key, value in given.items():
        if key in ("skus", "stock") or (value is None and key != "leader_coupon_template_id"):
            continue
        setattr(act, key, value)
    act.updated_at = clock.now()
    await s.flush()
    act = await get_activity(s, activity_id=act.id)
    if _ended(act):  # ends_at moved into the past
        await _close_pools(s, act.id)
        return await get_activity(s, activity_id=act.id)
    if act.pools:
        await _schedule_end(s, act)
    return act


async def end_activity_stock(s: AsyncSession, *, activity_id: int) -> int:
    """The activity is over: its unsold units go back to the SKUs (once). Groups already forming run on,
    drawing on the SKU's own stock. Returns the units given back."""
    act = await get_activity(s, activity_id=activity_id)
    if not _ended(act):
        return 0  # ends_at was moved later: that time has its own job
    return await _close_pools(s, act.id)


async def close_activity(s: AsyncSession, *, activity_id: int) -> GroupActivity:
    """Stop new groups and give the unsold stock back; groups already forming run to their end."""
    act = await get_activity(s, activity_id=activity_id)
    act.status, act.updated_at = "closed", clock.now()
    await s.flush()
    await _close_pools(s, act.id)
    return await get_activity(s, activity_id=act.id)


@jobs.handler(END_HANDLER)
async def _on_end(s: AsyncSession, job: jobs.Job) -> None:
    await end_activity_stock(s, activity_id=job.payload["activity_id"])


async def list_activities(
    s: AsyncSession,
    *,
    product_id: int | None = None,
    live_only: bool = False,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[GroupActivity], str | None]:
    q = select(GroupActivity).order_by(GroupActivity.id.desc()).limit(limit + 1)
    if product_id is not None:
        q = q.where(GroupActivity.product_id == product_id)
    if live_only:
        now = clock.now()
        q = q.where(GroupActivity.status == "active", GroupActivity.ends_at > now)
    if before_id:
        q = q.where(GroupActivity.id < before_id)
    rows = list((await s.scalars(q)).all())
    return rows[:limit], (str(rows[limit - 1].id) if len(rows) > limit else None)


def sku_price(act: GroupActivity, sku_id: int) -> int | None:
    for item in act.skus:
        if item["sku_id"] == sku_id:
            return int(item["price_fen"])
    return None


# ---- the order source: reserve seat, stock and quota inside the order's transaction -------------


async def _quota_row(s: AsyncSession, activity_id: int, customer_id: int) -> None:
    ins = pg_insert(GroupQuota) if is_postgres(s) else sqlite_insert(GroupQuota)
    await s.execute(
        ins.values(activity_id=activity_id, customer_id=customer_id, open_now=0, units=0).on_conflict_do_nothing(
            index_elements=["activity_id", "customer_id"]
        )
    )


async def _take_quota(s: AsyncSession, act: GroupActivity, customer_id: int, *, opens: bool, units: int) -> None:
    await _quota_row(s, act.id, customer_id)
    conds = [GroupQuota.activity_id == act.id, GroupQuota.customer_id == customer_id]
    values: dict[str, Any] = {"units": GroupQuota.units + units}
    if opens:
        conds.append(GroupQuota.open_now < act.max_open_per_user)
        values["open_now"] = GroupQuota.open_now + 1
    if act.per_user_limit:
        conds.append(GroupQuota.units + units <= act.per_user_limit)
    res = await s.execute(
        update(GroupQuota).where(*conds).values(**values).execution_options(synchronize_session=False)
    )
    if _rows(res) == 1:
        return
    quota = await s.scalar(select(GroupQuota).where(*conds[:2]).execution_options(populate_existing=True))
    if opens and quota is not None and quota.open_now >= act.max_open_per_user:
        raise Conflict(
            GroupbuyError.OPEN_LIMIT_REACHED,
            f"同时进行中的团最多 {act.max_open_per_user} 个",
            limit=act.max_open_per_user,
        )
    raise Conflict(
        GroupbuyError.PURCHASE_LIMIT_REACHED, f"本活动每人限购 {act.per_user_limit} 件", limit=act.per_user_limit
    )


async def _give_quota(s: AsyncSession, activity_id: int, customer_id: int, *, closes: bool, units: int) -> None:
    values: dict[str, Any] = {"units": GroupQuota.units - units}
    if closes:
        values["open_now"] = GroupQuota.open_now - 1
    await s.execute(
        update(GroupQuota)
        .where(GroupQuota.activity_id == activity_id, GroupQuota.customer_id == customer_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def _close_open(s: AsyncSession, activity_id: int, customer_id: int) -> None:
    """The leader's group left the open states: one more group may be opened."""
    await _give_quota(s, activity_id, customer_id, closes=True, units=0)


async def _take_units(s: AsyncSession, act: GroupActivity, sku_id: int, qty: int) -> bool:
    """Take the units from the SKU's open pool in this activity. False: the SKU has no open pool (none
    asked for, or given back at the end), so the order takes the SKU's own stock instead."""
    res = await s.execute(
        update(GroupPool)
        .where(
            GroupPool.activity_id == act.id,
            GroupPool.sku_id == sku_id,
            GroupPool.closed.is_(False),
            GroupPool.units_left >= qty,
        )
        .values(units_left=GroupPool.units_left - qty)
        .execution_options(synchronize_session=False)
    )
    if _rows(res) == 1:
        return True
    still_open = await s.scalar(
        select(GroupPool.id).where(
            GroupPool.activity_id == act.id, GroupPool.sku_id == sku_id, GroupPool.closed.is_(False)
        )
    )
    if still_open is not None:
        raise Conflict(CatalogError.SOLD_OUT, "拼团库存已抢光")
    return False


async def _give_units(s: AsyncSession, m: GroupMember, *, cancelled: bool) -> None:
    """A member's units come back: to the activity's pool while it is open, else to the SKU."""
    if m.order_id is None or m.sku_id is None or m.qty < 1:
        return
    from_sku = await s.scalar(  # the goods line comes before any gift line
        select(OrderLine.sku_stock_taken)
        .where(OrderLine.order_id == m.order_id, OrderLine.sku_id == m.sku_id)
        .order_by(OrderLine.id)
        .limit(1)
    )
    if from_sku is None:
        return
    if from_sku:
        if not cancelled:  # a cancelled order's SKU stock was given back by the cancellation itself
            await catalog.unsell_stock(s, sku_id=m.sku_id, qty=m.qty)
        return
    res = await s.execute(
        update(GroupPool)
        .where(GroupPool.activity_id == m.activity_id, GroupPool.sku_id == m.sku_id, GroupPool.closed.is_(False))
        .values(units_left=GroupPool.units_left + m.qty)
        .execution_options(synchronize_session=False)
    )
    if _rows(res) == 1:
        return
    await s.execute(
        update(GroupPool)
        .where(GroupPool.activity_id == m.activity_id, GroupPool.sku_id == m.sku_id)
        .values(pool=GroupPool.pool - m.qty)
        .execution_options(synchronize_session=False)
    )
    await catalog.pool_to_stock(s, sku_id=m.sku_id, qty=m.qty)


async def get_group(s: AsyncSession, *, group_id: int) -> Group:
    g = await s.scalar(select(Group).where(Group.id == group_id).execution_options(populate_existing=True))
    if g is None:
        raise NotFound(GroupbuyError.GROUP_NOT_FOUND)
    return g


def check_visible(g: Group) -> None:
    """A group as anyone but its leader may see or join it: a cancelled one is not found; one whose
    leader's payment is not confirmed yet is 409 GROUP_NOT_OPEN (the share page waits and asks again)."""
    if g.status == "cancelled":  # the leader never paid: it never existed for anyone else
        raise NotFound(GroupbuyError.GROUP_NOT_FOUND)
    if g.status == "pending":
        raise Conflict(GroupbuyError.GROUP_NOT_OPEN)


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
    if _rows(res) == 1:
        return
    g = await get_group(s, group_id=g.id)
    refusal = _join_refusal(g, act, now)
    if refusal is not None:
        raise refusal
    raise Conflict(GroupbuyError.GROUP_NEEDS_NEW_USER)


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
        return None if await can_ship(s, order_id=order.id) else SHIP_REFUSAL

    async def can_refund(self, s: AsyncSession, *, order: Order) -> str | None:
        """No refund request while the group is forming: it would keep a paid seat the group counts on, and
        a group that fails refunds every member in full anyway."""
        m = await member_of_order(s, order.id)
        if m is None:
            return None
        return REFUND_REFUSAL if (await get_group(s, group_id=m.group_id)).status == "forming" else None


register_source(GroupBuySource())


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
    price = sku_price(act, item.sku_id)
    if price is None:
        raise AppError(GroupbuyError.SKU_NOT_IN_ACTIVITY)
    if item.qty > act.per_order_limit:
        raise AppError(
            GroupbuyError.QTY_LIMIT_EXCEEDED, f"每单最多购买 {act.per_order_limit} 件", limit=act.per_order_limit
        )
    await _take_quota(s, act, customer_id, opens=opening, units=item.qty)
    from_pool = await _take_units(s, act, item.sku_id, item.qty)
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
    unit = rules.unit_price(price, leader=opening, leader_discount_fen=act.leader_discount_fen)
    plan = Plan(
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
        source_ref=f"g{g.id}-m{member.id}",
        pay_minutes=act.pay_minutes,
        allows_coupons=False,
        attribution={"groupbuy_activity_id": act.id, "groupbuy_group_id": g.id},
    )
    return plan, member.id


async def _place(
    s: AsyncSession,
    *,
    customer_id: int,
    body: GroupOrderIn,
    settings: Settings,
    attribution: dict[str, Any] | None,
    opening: bool,
    activity_id: int | None = None,
    group_id: int | None = None,
) -> Order:
    """Plan, place through checkout, and link the new order to its group seat."""
    cbody = _checkout(body)
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


async def member_of_order(s: AsyncSession, order_id: int) -> GroupMember | None:
    return await s.scalar(
        select(GroupMember).where(GroupMember.order_id == order_id).execution_options(populate_existing=True)
    )


async def release_member(s: AsyncSession, *, order_id: int) -> bool:
    """Free a reserved (unpaid) member's seat; once, however often it is called."""
    m = await member_of_order(s, order_id)
    if m is None:
        return False
    res = await s.execute(
        update(GroupMember)
        .where(GroupMember.id == m.id, GroupMember.status == "reserved")
        .values(status="released", holder=None, released_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if _rows(res) != 1:
        return False
    assert m.customer_id is not None
    await _give_units(s, m, cancelled=True)
    if m.role == "leader":
        res = await s.execute(
            update(Group)
            .where(Group.id == m.group_id, Group.status == "pending")
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
        await _give_quota(s, m.activity_id, m.customer_id, closes=_rows(res) == 1, units=m.qty)
        await s.execute(
            update(Group)
            .where(Group.id == m.group_id)
            .values(seats_taken=Group.seats_taken - 1)
            .execution_options(synchronize_session=False)
        )
    else:
        await _give_quota(s, m.activity_id, m.customer_id, closes=False, units=m.qty)
        await s.execute(
            update(Group)
            .where(Group.id == m.group_id)
            .values(seats_taken=Group.seats_taken - 1)
            .execution_options(synchronize_session=False)
        )
    return True


# ---- opening and joining -------------------------------------------------------------------------


def _checkout(body: GroupOrderIn) -> CheckoutIn:
    return CheckoutIn.model_validate(
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
    body: GroupOrderIn,
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
    m = await member_of_order(s, order.id)
    assert m is not None
    return await get_group(s, group_id=m.group_id), order


async def join_group(
    s: AsyncSession,
    *,
    customer_id: int,
    group_id: int,
    body: GroupOrderIn,
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
    return await get_group(s, group_id=group_id), order


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


# ---- payment, success, failure -------------------------------------------------------------------


async def member_paid(s: AsyncSession, *, order_id: int) -> None:
    """A member's order was paid: the leader's payment opens the group (GroupOpened); the last seat
    succeeds it. Once per member, however often it is called: the `paid` hook calls it in the payment's
    transaction, the OrderPaid handler and the expiry timer again later, and those find it done."""
    m = await member_of_order(s, order_id)
    if m is None:
        return
    now = clock.now()
    res = await s.execute(
        update(GroupMember)
        .where(GroupMember.id == m.id, GroupMember.status == "reserved")
        .values(status="paid", paid_at=now)
        .execution_options(synchronize_session=False)
    )
    if _rows(res) != 1:
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
        if _rows(res) == 1:
            await jobs.schedule(
                s, EXPIRE_HANDLER, {"group_id": m.group_id}, due_at=expires, key=f"group-expire:{m.group_id}"
            )
            await jobs.publish(
                s,
                "GroupOpened",
                {
                    "group_id": m.group_id,
                    "activity_id": m.activity_id,
                    "leader_id": m.customer_id,
                    "order_id": order_id,
                    "size": act.group_size,
                    "expires_at": expires.isoformat(),
                },
            )
    await s.execute(
        update(Group)
        .where(Group.id == m.group_id)
        .values(paid_count=Group.paid_count + 1, new_users=Group.new_users + (1 if m.is_new_user else 0))
        .execution_options(synchronize_session=False)
    )
    await _try_succeed(s, m.group_id)


async def _members(s: AsyncSession, group_id: int) -> list[GroupMember]:
    q = select(GroupMember).where(GroupMember.group_id == group_id).order_by(GroupMember.id)
    return list((await s.scalars(q.execution_options(populate_existing=True))).all())


async def _try_succeed(s: AsyncSession, group_id: int) -> bool:
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
    if _rows(res) != 1:
        return False
    g = await get_group(s, group_id=group_id)
    act = await get_activity(s, activity_id=g.activity_id)
    await _close_open(s, g.activity_id, g.leader_id)
    paid = [m for m in await _members(s, g.id) if m.status == "paid"]
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
    # A payment confirmation takes its order's lock and then the group's row (the `paid` hook), so the
    # orders of the reserved members are locked here, in id order, before anything touches the group:
    # taking one after the group's row would deadlock against a confirmation of that very order. No seat
    # can be reserved any more (the seat CAS wants expires_at > now), so this set is the final one.
    reserved = sorted(m.order_id for m in await _members(s, g.id) if m.status == "reserved" and m.order_id)
    for oid in reserved:
        await orders.lock_order(s, order_id=oid)
    # Once locked, each is either paid (its `paid` hook has run, or an OrderPaid from before the hook
    # existed still waits: member_paid is idempotent) or still unpaid and cancelled now.
    for m in await _members(s, g.id):
        if m.status == "reserved" and m.order_id is not None:
            o = await orders.get_order(s, order_id=m.order_id)
            if o.status in PAID_STATES:
                await member_paid(s, order_id=o.id)
            else:
                try:
                    await orders.cancel(s, order_id=o.id, reason="group_expired")
                except Conflict:  # paid at this very moment
                    await member_paid(s, order_id=o.id)
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
    res = await s.execute(
        update(Group)
        .where(Group.id == g.id, Group.status == "forming")
        .values(status="failed", failed_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if _rows(res) != 1:
        return (await get_group(s, group_id=group_id)).status
    await _close_open(s, g.activity_id, g.leader_id)
    refunded = []
    for m in await _members(s, g.id):
        if m.status != "paid" or m.order_id is None or m.customer_id is None:
            continue
        await refund_failed_member(s, group_id=g.id, member=m)
        refunded.append(m.order_id)
    await jobs.publish(s, "GroupFailed", {"group_id": g.id, "activity_id": g.activity_id, "refunded_orders": refunded})
    return "failed"


async def refund_failed_member(s: AsyncSession, *, group_id: int, member: GroupMember) -> None:
    """Refund one paid member of a failed group in full, once (keyed), and return the stock."""
    assert member.order_id is not None and member.customer_id is not None
    res = await s.execute(
        update(GroupMember)
        .where(GroupMember.id == member.id, GroupMember.status == "paid")
        .values(status="refunded", holder=None, released_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    if _rows(res) != 1:
        return
    await _give_units(s, member, cancelled=False)
    await _give_quota(s, member.activity_id, member.customer_id, closes=False, units=member.qty)
    try:
        await orders.system_refund(
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


def _ours(payload: dict[str, Any]) -> bool:
    """Only group-buy orders queue these deliveries (their handlers check the source again)."""
    return payload.get("source") == SOURCE


@jobs.on("OrderPaid", "groupbuy.member_paid", when=_ours)
async def _on_paid(s: AsyncSession, job: jobs.Job) -> None:
    # The paid() hook already paid the seat in the confirming transaction; this finds it done. It stays
    # for OrderPaid events confirmed before the hook existed, still queued when the release went out.
    if job.payload.get("source") == SOURCE:
        await member_paid(s, order_id=job.payload["order_id"])


@jobs.on("OrderCancelled", "groupbuy.member_cancelled", when=_ours)
async def _on_cancelled(s: AsyncSession, job: jobs.Job) -> None:
    # The cancelled() hook already released the seat in the cancelling transaction; this is a second wall.
    if job.payload.get("source") == SOURCE:
        await release_member(s, order_id=job.payload["order_id"])


@jobs.on("OrderLineRefunded", "groupbuy.member_refunded", when=_ours)
async def _on_refunded(s: AsyncSession, job: jobs.Job) -> None:
    if job.payload.get("source") == SOURCE:
        await member_refunded(s, order_id=job.payload["order_id"], amount_fen=job.payload["amount_fen"])


@jobs.handler(EXPIRE_HANDLER)
async def _on_expire(s: AsyncSession, job: jobs.Job) -> None:
    await expire_group(s, group_id=job.payload["group_id"])


# ---- shipping guard ------------------------------------------------------------------------------


async def can_ship(s: AsyncSession, *, order_id: int) -> bool:
    """Orders of a group ship only once the group has succeeded."""
    m = await member_of_order(s, order_id)
    if m is None:
        return True
    g = await get_group(s, group_id=m.group_id)
    return g.status == "succeeded"


# ---- views and figures ---------------------------------------------------------------------------


async def group_view(s: AsyncSession, g: Group, *, caller_id: int | None = None) -> dict[str, Any]:
    """The share page's data: countdown, members (avatars, nicknames), seats left."""
    act = await get_activity(s, activity_id=g.activity_id)
    members = []
    mine = None
    for m in await _members(s, g.id):
        if m.status not in ("paid", "refunded") and not (m.status == "reserved" and m.customer_id == caller_id):
            continue
        if m.role == "virtual":
            members.append({"nickname": "拼团小助手", "avatar_url": None, "role": "virtual", "is_virtual": True})
            continue
        c = await accounts.get_customer(s, m.customer_id) if m.customer_id else None
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
        "id": g.id,
        "activity_id": g.activity_id,
        "status": g.status,
        "size": g.size,
        "paid_members": g.paid_count,
        "virtual_members": g.virtual_count,
        "seats_left": rules.seats_left(g.size, g.seats_taken),
        "short": max(0, g.size - g.paid_count - g.virtual_count),
        "new_user_required": g.new_user_required,
        "expires_at": g.expires_at,
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


async def my_groups(s: AsyncSession, *, customer_id: int, limit: int = 50) -> list[tuple[GroupMember, Group]]:
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
    q = select(Group).order_by(Group.id.desc()).limit(limit + 1)
    if activity_id:
        q = q.where(Group.activity_id == activity_id)
    if status:
        q = q.where(Group.status == status)
    if before_id:
        q = q.where(Group.id < before_id)
    rows = list((await s.scalars(q)).all())
    return rows[:limit], (str(rows[limit - 1].id) if len(rows) > limit else None)


async def group_members(s: AsyncSession, *, group_id: int) -> list[dict[str, Any]]:
    """Every member with its order figures, for the console (refunds after success included)."""
    out = []
    for m in await _members(s, group_id):
        o = await orders.get_order(s, order_id=m.order_id) if m.order_id else None
        c = await accounts.get_customer(s, m.customer_id) if m.customer_id else None
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
