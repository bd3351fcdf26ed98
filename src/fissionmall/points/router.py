"""Points HTTP: balance, ledger, sign-in for shoppers; rules and manual adjustments for the merchant."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from fissionmall.accounts.deps import Admin, CurrentCustomer, require
from fissionmall.core.deps import Cursor, DbDep, IdemKey, Limit
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.points import adjustments, service, signin
from fissionmall.points.models import PointsEntry
from fissionmall.points.schemas import (
    AdjustmentCreate,
    AdjustmentResult,
    EntryPublic,
    PointsPublic,
    RulesAdmin,
    RulesUpdate,
    SignInCalendar,
    SignInResult,
)

router = APIRouter(tags=["points"])
admin_router = APIRouter(tags=["admin: points"])

MarketingRead = Annotated[Admin, Depends(require("marketing.read"))]
MarketingWrite = Annotated[Admin, Depends(require("marketing"))]
CustomersWrite = Annotated[Admin, Depends(require("customers"))]
Month = Annotated[str | None, Query(pattern=r"^20\d\d-(0[1-9]|1[0-2])$")]


def entry_out(e: PointsEntry) -> EntryPublic:
    return EntryPublic(
        id=e.id,
        kind=e.kind,
        label=service.label(e.kind),
        points=e.points,
        note=e.note,
        created_at=e.created_at,
        expires_at=e.expires_at if e.points > 0 else None,
    )


@router.get("/points", response_model=PointsPublic)
async def my_points(caller: CurrentCustomer, db: DbDep) -> PointsPublic:
    """My points: what can be spent, any debt, what expires next."""
    async with db.read() as s:
        return await service.overview(s, customer_id=caller.id)


@router.get("/points/ledger", response_model=Page[EntryPublic])
async def my_ledger(
    caller: CurrentCustomer, db: DbDep, limit: Limit = None, cursor: Cursor = None
) -> Page[EntryPublic]:
    """积分明细: my entries, newest first (keyset pages)."""
    async with db.read() as s:
        rows, nxt = await service.entries(
            s, customer_id=caller.id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
    return Page(items=[entry_out(e) for e in rows], next_cursor=nxt)


@router.post("/points/sign-in", response_model=SignInResult)
async def sign_in(caller: CurrentCustomer, db: DbDep) -> SignInResult:
    """签到: once a day (a repeat grants 0)."""
    async with db.tx() as s:
        return await signin.sign_in(s, customer_id=caller.id)


@router.get("/points/sign-in", response_model=SignInCalendar)
async def sign_in_calendar(caller: CurrentCustomer, db: DbDep, month: Month = None) -> SignInCalendar:
    """The sign-in calendar of a month (this month by default), the streak, whether today is signed."""
    async with db.read() as s:
        return await signin.calendar(s, customer_id=caller.id, month=month)


@admin_router.get("/points/rules", response_model=RulesAdmin)
async def get_rules(_: MarketingRead, db: DbDep) -> RulesAdmin:
    """The points rules (defaults until saved)."""
    async with db.read() as s:
        return RulesAdmin.model_validate((await service.get_rules(s)).model_dump())


@admin_router.put("/points/rules", response_model=RulesAdmin)
async def put_rules(body: RulesUpdate, admin: MarketingWrite, db: DbDep) -> RulesAdmin:
    """Save the points rules (earn, spend, sign-in, expiry, refunds)."""
    async with db.tx() as s:
        saved = await service.save_rules(s, data=body, admin_id=admin.id)
    return RulesAdmin.model_validate(saved.model_dump())


@admin_router.get("/points/entries", response_model=Page[EntryPublic])
async def all_entries(
    _: MarketingRead,
    db: DbDep,
    limit: Limit = None,
    cursor: Cursor = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Page[EntryPublic]:
    """Every shopper's entries (or one's), newest first."""
    async with db.read() as s:
        rows, nxt = await service.entries(
            s, customer_id=customer_id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
    return Page(items=[entry_out(e) for e in rows], next_cursor=nxt)


@admin_router.post("/customers/{customer_id}/points-adjustments", response_model=AdjustmentResult, status_code=201)
async def adjust(
    customer_id: IdPath, body: AdjustmentCreate, admin: CustomersWrite, db: DbDep, key: IdemKey = None
) -> AdjustmentResult:
    """A manual adjustment with its reason (required); a negative one never takes the balance below zero."""
    async with db.tx() as s:
        posted = await adjustments.adjust(
            s,
            customer_id=customer_id,
            delta=body.delta,
            reason=body.reason,
            admin_id=admin.id,
            key=f"idem:{hashlib.sha256(key.encode()).hexdigest()[:40]}" if key else None,
        )
    return AdjustmentResult(id=posted.entry_id or 0, delta=posted.points, balance=posted.balance)
