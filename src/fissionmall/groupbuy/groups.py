"""Reading groups and their members: the rows every group-buying workflow starts from.

Also the one place that reads how many rows a conditional UPDATE changed: seats, stock and quotas only
move through such UPDATEs, and the count says whether this caller won.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core.errors import Conflict, NotFound
from fissionmall.groupbuy.errors import GroupbuyError
from fissionmall.groupbuy.models import Group, GroupMember


def rows_changed(res: Any) -> int:
    """Rows a conditional UPDATE changed (0: another caller got there first)."""
    return int(res.rowcount)


async def get_group(s: AsyncSession, *, group_id: int) -> Group:
    """The group, read fresh; 404 GROUP_NOT_FOUND if there is none."""
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


async def member_of_order(s: AsyncSession, *, order_id: int) -> GroupMember | None:
    """The group seat an order was placed for, read fresh; None for an order of another source."""
    return await s.scalar(
        select(GroupMember).where(GroupMember.order_id == order_id).execution_options(populate_existing=True)
    )


async def members_of(s: AsyncSession, *, group_id: int) -> list[GroupMember]:
    """Every member of the group (released and virtual ones too), in the order they came, read fresh."""
    q = select(GroupMember).where(GroupMember.group_id == group_id).order_by(GroupMember.id)
    return list((await s.scalars(q.execution_options(populate_existing=True))).all())
