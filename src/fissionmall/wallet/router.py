"""储值's API: the shop's packages, top-ups, balance and ledger (/api/v1/wallet…); the merchant's packages
(permission marketing), ledger, top-ups and their refunds, settings and adjustments (permission wallet)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from fissionmall.accounts.deps import Admin, CurrentCustomer, require
from fissionmall.core.deps import Cursor, DbDep, IdemKey, Limit
from fissionmall.core.idempotency import run_once
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.risk import ask
from fissionmall.risk.decisions import Action, Subject
from fissionmall.wallet import adjustments, ledger, packages, topups
from fissionmall.wallet.schemas import (
    AdjustmentCreate,
    EntryAdmin,
    EntryPublic,
    PackageAdmin,
    PackageCreate,
    PackagePublic,
    PackageUpdate,
    SettingsAdmin,
    SettingsUpdate,
    TopUpAdmin,
    TopUpCreate,
    TopUpOrder,
    TopUpRefundResult,
    WalletPublic,
)

router = APIRouter(tags=["wallet"])
admin_router = APIRouter(tags=["admin: wallet"])

PackageWrite = Annotated[Admin, Depends(require("marketing"))]
PackageRead = Annotated[Admin, Depends(require("marketing.read"))]
WalletWrite = Annotated[Admin, Depends(require("wallet"))]
WalletRead = Annotated[Admin, Depends(require("wallet.read"))]
CustomerId = Annotated[int | None, Query(ge=1, le=2**62)]


# ---- the shop ------------------------------------------------------------------------------------


@router.get("/wallet/packages", response_model=list[PackagePublic])
async def shop_packages(db: DbDep) -> list[dict[str, Any]]:
    """The active 储值套餐, in the merchant's order."""
    async with db.read() as s:
        return [packages.public_view(p) for p in await packages.list_packages(s, active_only=True)]


@router.post("/wallet/top-ups", response_model=TopUpOrder)
async def create_topup(
    body: TopUpCreate, caller: CurrentCustomer, db: DbDep, idempotency_key: IdemKey = None
) -> dict[str, Any]:
    """Buy a package: an order to pay at the cashier; its payment credits 本金 and 赠送 (the risk layer asked
    first: a refused shopper gets no order)."""
    await ask.guard(
        db, action=Action.WALLET_TOPUP, subject=ask.subject_of(caller), facts={"package_id": body.package_id}
    )

    async def work(s: Any) -> dict[str, Any]:
        t, order = await topups.create_topup(s, customer_id=caller.id, package_id=body.package_id)
        return {"id": order.id, "status": order.status, "payable_fen": order.payable_fen, "top_up_id": t.id}

    return await run_once(
        db,
        scope="wallet-topup",
        owner=str(caller.id),
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
    )


@router.get("/wallet", response_model=WalletPublic)
async def my_wallet(caller: CurrentCustomer, db: DbDep) -> dict[str, int]:
    """The shopper's balance: 本金, 赠送 and both."""
    async with db.read() as s:
        principal, bonus = await ledger.balance_of(s, customer_id=caller.id)
    return {"principal_fen": principal, "bonus_fen": bonus, "balance_fen": principal + bonus}


@router.get("/wallet/ledger", response_model=Page[EntryPublic])
async def my_ledger(caller: CurrentCustomer, db: DbDep, limit: Limit = None, cursor: Cursor = None) -> Any:
    """The shopper's 余额明细, newest first."""
    async with db.read() as s:
        rows, nxt = await ledger.list_entries(
            s, customer_id=caller.id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
    return {"items": [ledger.entry_view(e) for e in rows], "next_cursor": nxt}


# ---- the merchant --------------------------------------------------------------------------------


@admin_router.get("/wallet/packages", response_model=list[PackageAdmin])
async def list_packages(_: PackageRead, db: DbDep) -> list[dict[str, object]]:
    async with db.read() as s:
        return [packages.admin_view(p) for p in await packages.list_packages(s)]


@admin_router.post("/wallet/packages", response_model=PackageAdmin, status_code=201)
async def create_package(body: PackageCreate, _: PackageWrite, db: DbDep) -> dict[str, object]:
    async with db.tx() as s:
        return packages.admin_view(await packages.create_package(s, data=body))


@admin_router.get("/wallet/packages/{package_id}", response_model=PackageAdmin)
async def get_package(package_id: IdPath, _: PackageRead, db: DbDep) -> dict[str, object]:
    async with db.read() as s:
        return packages.admin_view(await packages.get_package(s, package_id=package_id))


@admin_router.put("/wallet/packages/{package_id}", response_model=PackageAdmin)
async def update_package(package_id: IdPath, body: PackageUpdate, _: PackageWrite, db: DbDep) -> dict[str, object]:
    async with db.tx() as s:
        return packages.admin_view(await packages.update_package(s, package_id=package_id, data=body))


@admin_router.delete("/wallet/packages/{package_id}", status_code=204)
async def delete_package(package_id: IdPath, _: PackageWrite, db: DbDep) -> Response:
    async with db.tx() as s:
        await packages.delete_package(s, package_id=package_id)
    return Response(status_code=204)


@admin_router.get("/wallet/settings", response_model=SettingsAdmin)
async def get_settings(_: WalletRead, db: DbDep) -> dict[str, bool]:
    async with db.read() as s:
        return {"bonus_first": await packages.spend_bonus_first(s)}


@admin_router.put("/wallet/settings", response_model=SettingsAdmin)
async def put_settings(body: SettingsUpdate, _: WalletWrite, db: DbDep) -> dict[str, bool]:
    """Whether payments spend 赠送 before 本金 (default false: 本金 first)."""
    async with db.tx() as s:
        return {"bonus_first": await packages.set_bonus_first(s, bonus_first=body.bonus_first)}


@admin_router.get("/wallet/entries", response_model=Page[EntryAdmin])
async def list_entries(
    _: WalletRead, db: DbDep, customer_id: CustomerId = None, limit: Limit = None, cursor: Cursor = None
) -> Any:
    """Every wallet movement, newest first (one shopper's with `customer_id`)."""
    async with db.read() as s:
        rows, nxt = await ledger.list_entries(
            s, customer_id=customer_id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
    return {"items": [ledger.entry_view(e, admin=True) for e in rows], "next_cursor": nxt}


@admin_router.get("/wallet/top-ups", response_model=Page[TopUpAdmin])
async def list_topups(
    _: WalletRead, db: DbDep, customer_id: CustomerId = None, limit: Limit = None, cursor: Cursor = None
) -> Any:
    async with db.read() as s:
        rows, nxt = await topups.list_topups(
            s, customer_id=customer_id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
    return {"items": rows, "next_cursor": nxt}


@admin_router.post("/wallet/top-ups/{top_up_id}/refund", response_model=TopUpRefundResult)
async def refund_topup(top_up_id: IdPath, admin: WalletWrite, db: DbDep) -> dict[str, int]:
    """Refund a top-up's unspent principal through the gateway and take back its bonus (docs/wallet.md). The
    risk layer hears of it (refunds right after a top-up or a commission are a signal) but never stops it:
    a refund is the merchant's decision, and a frozen account's refunds are untouched."""
    async with db.read() as s:
        t0 = await topups.get_topup(s, topup_id=top_up_id)
    await ask.judge(
        db,
        action=Action.REFUND,
        subject=Subject(customer_id=t0.customer_id),
        facts={"top_up_id": t0.id, "order_id": t0.order_id, "pay_fen": t0.pay_fen, "operator_id": admin.id},
    )
    async with db.tx() as s:
        t, plan, refund_id = await topups.refund_topup(
            s, topup_id=top_up_id, operator_id=admin.id, operator=admin.username, reason=""
        )
    return {
        "top_up_id": t.id,
        "refund_id": refund_id,
        "refund_fen": plan.refund_fen,
        "principal_fen": plan.principal_fen,
        "bonus_fen": plan.bonus_fen,
    }


@admin_router.get("/customers/{customer_id}/wallet", response_model=WalletPublic)
async def customer_wallet(customer_id: IdPath, _: WalletRead, db: DbDep) -> dict[str, int]:
    async with db.read() as s:
        principal, bonus = await ledger.balance_of(s, customer_id=customer_id)
    return {"principal_fen": principal, "bonus_fen": bonus, "balance_fen": principal + bonus}


@admin_router.post("/customers/{customer_id}/wallet-adjustments", response_model=EntryAdmin, status_code=201)
async def adjust(
    customer_id: IdPath, body: AdjustmentCreate, admin: WalletWrite, db: DbDep, idempotency_key: IdemKey = None
) -> dict[str, Any]:
    """A manual adjustment of 本金 (or 赠送), with the reason, recorded with the operator."""
    async with db.tx() as s:
        e = await adjustments.adjust(
            s, customer_id=customer_id, data=body, operator_id=admin.id, operator=admin.username, key=idempotency_key
        )
        return ledger.entry_view(e, admin=True)
