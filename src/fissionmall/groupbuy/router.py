"""Group buying over HTTP: thin handlers over the workflow modules (activities, seats, views)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from fissionmall.accounts import service as accounts
from fissionmall.accounts.deps import Admin, Caller, CurrentCustomer, current_customer, require
from fissionmall.checkout.service import check_order_rate
from fissionmall.core.db import Database
from fissionmall.core.deps import Cursor, DbDep, IdemKey, Limit, SettingsDep
from fissionmall.core.errors import Conflict
from fissionmall.core.idempotency import run_once
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.groupbuy import activities, rules, seats, views
from fissionmall.groupbuy.errors import GroupbuyError
from fissionmall.groupbuy.groups import check_visible, get_group
from fissionmall.groupbuy.models import Group
from fissionmall.groupbuy.schemas import (
    ActivityAdmin,
    ActivityCardPublic,
    ActivityCreate,
    ActivityPublic,
    ActivityStatsAdmin,
    ActivityUpdate,
    GroupAdmin,
    GroupDetailAdmin,
    GroupOrderCreate,
    GroupOrderPublic,
    GroupPreviewPublic,
    GroupPublic,
    JoinableGroupPublic,
    MyGroupPublic,
)
from fissionmall.groupbuy.source import REVIEW_KIND
from fissionmall.orders import refunds
from fissionmall.orders import service as orders
from fissionmall.orders.schemas import OrderAdmin, ShipmentCreate, order_out
from fissionmall.risk import ask, reviews
from fissionmall.risk.decisions import Action, Outcome
from fissionmall.settings import Settings

router = APIRouter(tags=["groupbuy"])
admin_router = APIRouter(tags=["admin: groupbuy"])

Marketing = Annotated[Admin, Depends(require("marketing"))]
MarketingRead = Annotated[Admin, Depends(require("marketing.read"))]
Shipper = Annotated[Admin, Depends(require("orders"))]
StatusQ = Annotated[str | None, Query(pattern="^(" + "|".join(rules.GROUP_STATUSES) + ")$")]

# Codes a 一键参团 attempt may lose on while trying the next best group.
_NEXT_GROUP = frozenset({"GROUP_FULL", "GROUP_EXPIRED", "GROUP_FAILED", "GROUP_NEEDS_NEW_USER", "GROUP_ALREADY_JOINED"})


async def optional_customer(request: Request, settings: SettingsDep, db: DbDep) -> Caller | None:
    """The shopper if a token came with the call; share pages are public."""
    if not request.headers.get("authorization"):
        return None
    return await current_customer(request, settings, db)


MaybeCustomer = Annotated[Caller | None, Depends(optional_customer)]


async def _ask(
    db: Database, caller: Caller, body: GroupOrderCreate, *, leader_id: int | None, **where: int
) -> tuple[str, ...] | None:
    """The risk layer on a group open (`activity_id`) or a join (`group_id`, or 一键参团's best group, with
    its leader: the same few accounts filling each other's groups): a refusal in plain Chinese. A REVIEW
    verdict lets the order through and holds the group for a person: its reasons, to hold it with."""
    facts: dict[str, int] = {**where, "sku_id": body.sku_id, "qty": body.qty}
    if leader_id is not None:
        facts["leader_id"] = leader_id
    action = Action.GROUP_OPEN if "activity_id" in where and "group_id" not in where else Action.GROUP_JOIN
    verdict = await ask.guard(db, action=action, subject=ask.subject_of(caller), facts=facts)
    return verdict.reasons if verdict.outcome is Outcome.REVIEW else None


async def _leader_of(db: Database, group_id: int) -> int | None:
    async with db.read() as s:
        return await s.scalar(select(Group.leader_id).where(Group.id == group_id))


def _created(group_id: int, order: Any) -> dict[str, Any]:
    return GroupOrderPublic.model_validate({"group_id": group_id, "order": order}).model_dump(mode="json")


async def _group_order(
    s: Any,
    place: Any,
    caller: Caller,
    body: GroupOrderCreate,
    settings: Settings,
    held: tuple[str, ...] | None = None,
    **where: int,
) -> dict[str, Any]:
    """seats.open_group / join_group for the caller, answered as the API answers it; `held`: the risk
    layer's reasons to hold the group for review (in the same transaction as the seat)."""
    g, o = await place(
        s,
        customer_id=caller.id,
        body=body,
        settings=settings,
        attribution={"ip": caller.ip, "device_id": caller.device_id},
        **where,
    )
    if held is not None:
        await reviews.hold(s, kind=REVIEW_KIND, ref_id=g.id, customer_id=caller.id, reasons=held)
    return _created(g.id, o)


async def _group_order_once(
    db: Database,
    *,
    scope: str,
    place: Any,
    caller: Caller,
    body: GroupOrderCreate,
    settings: Settings,
    key: str | None,
    **where: int,
) -> dict[str, Any]:
    """Open or join for the caller, once per retry key: the order-rate check, the risk layer's (outside the
    order's transaction), then `place` under run_once."""
    await check_order_rate(caller.id, settings)
    held = None
    if ask.enabled():
        leader = await _leader_of(db, where["group_id"]) if "group_id" in where else None
        held = await _ask(db, caller, body, leader_id=leader, **where)
    return await run_once(
        db,
        scope=scope,
        owner=str(caller.id),
        key=key,
        body=body.model_dump(mode="json"),
        work=lambda s: _group_order(s, place, caller, body, settings, held, **where),
    )


# ---- shop ----------------------------------------------------------------------------------------


@router.get("/groupbuy/activities", response_model=list[ActivityCardPublic])
async def live_activities(db: DbDep, product_id: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> Any:
    """Live group-buying activities (of one product with `product_id`), for the product page and the home
    page's 拼团 row: each with its product's card (title, picture, own price)."""
    async with db.read() as s:
        rows, _ = await activities.list_activities(s, product_id=product_id, live_only=True, limit=20)
        return await views.activity_cards(s, activities=rows)


@router.get("/groupbuy/activities/{activity_id}", response_model=ActivityPublic)
async def activity(activity_id: IdPath, db: DbDep) -> Any:
    async with db.read() as s:
        return await activities.get_activity(s, activity_id=activity_id, for_sale=True)


@router.get("/groupbuy/activities/{activity_id}/groups", response_model=list[JoinableGroupPublic])
async def joinable(activity_id: IdPath, db: DbDep, caller: MaybeCustomer, limit: Limit = None) -> list[dict[str, Any]]:
    """Groups the caller can join, nearly full first (never their own, never full ones)."""
    async with db.read() as s:
        await activities.get_activity(s, activity_id=activity_id)
        groups = await seats.joinable_groups(
            s, activity_id=activity_id, caller_id=caller.id if caller else None, limit=page_limit(limit, default=10)
        )
        out = []
        for g in groups:
            leader = await accounts.get_customer(s, customer_id=g.leader_id)
            out.append(
                {
                    "id": g.id,
                    "size": g.size,
                    "members": g.paid_count,
                    "seats_left": rules.seats_left(g.size, g.seats_taken),
                    "short": max(0, g.size - g.paid_count),
                    "expires_at": g.expires_at,
                    "leader_nickname": leader.nickname if leader else "",
                    "leader_avatar_url": leader.avatar_url if leader else None,
                }
            )
        return out


@router.post("/groupbuy/activities/{activity_id}/groups", response_model=GroupOrderPublic, status_code=201)
async def open_group(
    activity_id: IdPath,
    body: GroupOrderCreate,
    caller: CurrentCustomer,
    db: DbDep,
    settings: SettingsDep,
    idempotency_key: IdemKey = None,
) -> dict[str, Any]:
    """Open a group: returns the leader's order to pay; the group shows to others once it is paid."""
    return await _group_order_once(
        db,
        scope=f"groupbuy-open:{activity_id}",
        place=seats.open_group,
        caller=caller,
        body=body,
        settings=settings,
        key=idempotency_key,
        activity_id=activity_id,
    )


@router.post("/groupbuy/groups/{group_id}/join", response_model=GroupOrderPublic, status_code=201)
async def join_group(
    group_id: IdPath,
    body: GroupOrderCreate,
    caller: CurrentCustomer,
    db: DbDep,
    settings: SettingsDep,
    idempotency_key: IdemKey = None,
) -> dict[str, Any]:
    """Join a group from its share link: a seat is held while the order waits for payment."""
    return await _group_order_once(
        db,
        scope=f"groupbuy-join:{group_id}",
        place=seats.join_group,
        caller=caller,
        body=body,
        settings=settings,
        key=idempotency_key,
        group_id=group_id,
    )


@router.post("/groupbuy/activities/{activity_id}/quick-join", response_model=GroupOrderPublic, status_code=201)
async def quick_join(
    activity_id: IdPath, body: GroupOrderCreate, caller: CurrentCustomer, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    """一键参团: join the best joinable group (nearly full first); 409 NO_JOINABLE_GROUP if none."""
    await check_order_rate(caller.id, settings)
    async with db.read() as s:
        await activities.get_activity(s, activity_id=activity_id, for_sale=True)
        best = await seats.joinable_groups(s, activity_id=activity_id, caller_id=caller.id)
    candidates = [g.id for g in best]
    held = None
    if best and ask.enabled():
        held = await _ask(db, caller, body, leader_id=best[0].leader_id, group_id=best[0].id, activity_id=activity_id)
    for group_id in candidates[:5]:
        try:
            async with db.tx() as s:
                return await _group_order(s, seats.join_group, caller, body, settings, held, group_id=group_id)
        except Conflict as exc:
            if exc.code not in _NEXT_GROUP:
                raise
    raise Conflict(GroupbuyError.NO_JOINABLE_GROUP)


@router.post("/groupbuy/activities/{activity_id}/preview", response_model=GroupPreviewPublic)
async def open_preview(
    activity_id: IdPath,
    body: GroupOrderCreate,
    caller: CurrentCustomer,
    db: DbDep,
    settings: SettingsDep,
    quick: bool = False,
) -> dict[str, Any]:
    """The price chain of opening a group (`?quick=true`: of 一键参团, at the member's price) before paying:
    goods, the group price, shipping and what the cashier will charge (`payable_fen`)."""
    async with db.read() as s:
        return await views.order_preview(
            s, customer_id=caller.id, body=body, settings=settings, activity_id=activity_id, leader=not quick
        )


@router.post("/groupbuy/groups/{group_id}/preview", response_model=GroupPreviewPublic)
async def join_preview(
    group_id: IdPath, body: GroupOrderCreate, caller: CurrentCustomer, db: DbDep, settings: SettingsDep
) -> dict[str, Any]:
    """The price chain of joining the group before paying, as POST /groupbuy/groups/{id}/join will charge."""
    async with db.read() as s:
        return await views.order_preview(s, customer_id=caller.id, body=body, settings=settings, group_id=group_id)


@router.get("/groupbuy/groups/{group_id}", response_model=GroupPublic)
async def group(group_id: IdPath, db: DbDep, caller: MaybeCustomer) -> dict[str, Any]:
    """The share page: countdown, members' avatars and nicknames, seats left. Until the leader's payment
    is confirmed the group is the leader's alone (status `pending`); anyone else is told 409
    GROUP_NOT_OPEN, so a friend who taps the card at once knows to wait rather than that it is gone."""
    async with db.read() as s:
        g = await get_group(s, group_id=group_id)
        if caller is None or caller.id != g.leader_id:
            check_visible(g)
        return await views.group_view(s, group=g, caller_id=caller.id if caller else None)


@router.get("/groupbuy/me/groups", response_model=list[MyGroupPublic])
async def my_groups(caller: CurrentCustomer, db: DbDep) -> list[dict[str, Any]]:
    async with db.read() as s:
        rows = await views.my_groups(s, customer_id=caller.id)
    return [
        {
            "group_id": g.id,
            "activity_id": g.activity_id,
            "role": m.role,
            "member_status": m.status,
            "group_status": g.status,
            "size": g.size,
            "paid_members": g.paid_count,
            "expires_at": g.expires_at,
            "order_id": m.order_id,
            "created_at": m.created_at,
        }
        for m, g in rows
    ]


# ---- admin ---------------------------------------------------------------------------------------


@admin_router.get("/groupbuy/activities", response_model=Page[ActivityAdmin])
async def admin_activities(
    _: MarketingRead,
    db: DbDep,
    product_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[Any]:
    async with db.read() as s:
        rows, nxt = await activities.list_activities(
            s, product_id=product_id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[ActivityAdmin.model_validate(a) for a in rows], next_cursor=nxt)


@admin_router.post("/groupbuy/activities", response_model=ActivityAdmin, status_code=201)
async def admin_create_activity(body: ActivityCreate, _: Marketing, db: DbDep) -> Any:
    async with db.tx() as s:
        return await activities.create_activity(s, data=body)


@admin_router.get("/groupbuy/activities/{activity_id}", response_model=ActivityAdmin)
async def admin_activity(activity_id: IdPath, _: MarketingRead, db: DbDep) -> Any:
    async with db.read() as s:
        return await activities.get_activity(s, activity_id=activity_id)


@admin_router.put("/groupbuy/activities/{activity_id}", response_model=ActivityAdmin)
async def admin_update_activity(activity_id: IdPath, body: ActivityUpdate, _: Marketing, db: DbDep) -> Any:
    async with db.tx() as s:
        return await activities.update_activity(s, activity_id=activity_id, data=body)


@admin_router.delete("/groupbuy/activities/{activity_id}", response_model=ActivityAdmin)
async def admin_close_activity(activity_id: IdPath, _: Marketing, db: DbDep) -> Any:
    """Close an activity (no new groups, unsold pools back to the SKUs); forming groups run to their end."""
    async with db.tx() as s:
        return await activities.close_activity(s, activity_id=activity_id)


@admin_router.get("/groupbuy/activities/{activity_id}/stats", response_model=ActivityStatsAdmin)
async def admin_stats(activity_id: IdPath, _: MarketingRead, db: DbDep) -> dict[str, Any]:
    async with db.read() as s:
        await activities.get_activity(s, activity_id=activity_id)
        return await views.activity_stats(s, activity_id=activity_id)


@admin_router.get("/groupbuy/groups", response_model=Page[GroupAdmin])
async def admin_groups(
    _: MarketingRead,
    db: DbDep,
    status: StatusQ = None,
    activity_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[Any]:
    async with db.read() as s:
        rows, nxt = await views.list_groups(
            s, activity_id=activity_id, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
        return Page(items=[GroupAdmin.model_validate(g) for g in rows], next_cursor=nxt)


@admin_router.get("/groupbuy/groups/{group_id}", response_model=GroupDetailAdmin)
async def admin_group(group_id: IdPath, _: MarketingRead, db: DbDep) -> Any:
    async with db.read() as s:
        g = await get_group(s, group_id=group_id)
        data = GroupAdmin.model_validate(g).model_dump()
        data["members"] = await views.group_members(s, group_id=g.id)
        data["can_ship"] = g.status == "succeeded"
        return data


@admin_router.post("/groupbuy/orders/{order_id}/ship", response_model=OrderAdmin)
async def admin_ship(order_id: IdPath, body: ShipmentCreate, _: Shipper, db: DbDep, settings: SettingsDep) -> Any:
    """Ship a group order: refused (409 GROUP_FORMING) while its group is still forming."""
    async with db.tx() as s:
        o = await orders.ship(
            s, order_id=order_id, carrier=body.carrier, tracking_no=body.tracking_no, settings=settings
        )
        return order_out(o, await refunds.refunds_of(s, order_id=o.id), admin=True)
