"""Per-shopper quotas of an activity: groups open at once (max_open_per_user) and units bought (per_user_limit).

Taken with a conditional UPDATE in the order's own transaction, given back when the seat is released, the
group fails or leaves the open states; the refusal says which limit was hit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.db import is_postgres
from fissionmall.core.errors import Conflict
from fissionmall.groupbuy.errors import GroupbuyError
from fissionmall.groupbuy.groups import rows_changed
from fissionmall.groupbuy.models import GroupActivity, GroupQuota


async def _quota_row(s: AsyncSession, activity_id: int, customer_id: int) -> None:
    ins = pg_insert(GroupQuota) if is_postgres(s) else sqlite_insert(GroupQuota)
    await s.execute(
        ins.values(activity_id=activity_id, customer_id=customer_id, open_now=0, units=0).on_conflict_do_nothing(
            index_elements=["activity_id", "customer_id"]
        )
    )


async def take_quota(s: AsyncSession, *, act: GroupActivity, customer_id: int, opens: bool, units: int) -> None:
    """Count `units` (and, when the order opens a group, one open group) against the shopper's limits."""
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
    if rows_changed(res) == 1:
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


async def give_quota(s: AsyncSession, *, activity_id: int, customer_id: int, closes: bool, units: int) -> None:
    """Give `units` (and, when `closes`, one open group) back to the shopper's quota."""
    values: dict[str, Any] = {"units": GroupQuota.units - units}
    if closes:
        values["open_now"] = GroupQuota.open_now - 1
    await s.execute(
        update(GroupQuota)
        .where(GroupQuota.activity_id == activity_id, GroupQuota.customer_id == customer_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def close_open(s: AsyncSession, *, activity_id: int, customer_id: int) -> None:
    """The leader's group left the open states: one more group may be opened."""
    await give_quota(s, activity_id=activity_id, customer_id=customer_id, closes=True, units=0)
