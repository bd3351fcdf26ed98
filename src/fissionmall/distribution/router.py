"""The distribution API: the distributor centre for shoppers (/api/v1/distribution) and the admin API."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from fissionmall.accounts.deps import Admin, Caller, CurrentCustomer, current_customer, require
from fissionmall.core.deps import Cursor, DbDep, IdemKey, Limit, SettingsDep
from fissionmall.core.errors import CoreError, NotFound, TooMany
from fissionmall.core.idempotency import run_once
from fissionmall.core.kv import get_kv
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.core.security import client_ip
from fissionmall.distribution import binding, board, config, sharing

# Aliased: the endpoints `distributors` and `withdrawals` keep their names (they make the OpenAPI operation ids).
from fissionmall.distribution import distributors as distributor_flow
from fissionmall.distribution import withdrawals as withdrawal_flow
from fissionmall.distribution.distributors import by_code
from fissionmall.distribution.schemas import (
    ApplicationPublic,
    BindCreate,
    BindingPublic,
    CommissionPublic,
    ConfigAdmin,
    ConfigUpdate,
    DecideRequest,
    DistributorAdmin,
    MePublic,
    ProductSharePublic,
    RankRow,
    RejectRequest,
    SharePublic,
    VisitCreate,
    WithdrawalAdmin,
    WithdrawalCreate,
    WithdrawalPublic,
)
from fissionmall.risk import ask
from fissionmall.risk.decisions import Action, Outcome
from fissionmall.settings import Settings

router = APIRouter(prefix="/distribution", tags=["distribution"])
admin_router = APIRouter(tags=["admin: distribution"])

MarketingRead = Annotated[Admin, Depends(require("marketing.read"))]
MarketingWrite = Annotated[Admin, Depends(require("marketing"))]
WithdrawalsRead = Annotated[Admin, Depends(require("withdrawals.read"))]
WithdrawalsWrite = Annotated[Admin, Depends(require("withdrawals"))]
MEDIA_NAME = re.compile(r"^[0-9a-f]{24}-(qr|poster|wxa)\.png$")


@router.post("/apply", response_model=ApplicationPublic)
async def apply(caller: CurrentCustomer, db: DbDep) -> ApplicationPublic:
    """Become a distributor (approved at once, or queued for an operator by the shop's setting)."""
    async with db.tx() as s:
        d = await distributor_flow.apply(s, customer_id=caller.id)
    return ApplicationPublic(status=d.status, share_code=d.share_code if d.status == "approved" else None)


@router.post("/bind", response_model=BindingPublic)
async def bind(body: BindCreate, caller: CurrentCustomer, db: DbDep) -> BindingPublic:
    """Bind to the distributor whose share link or code the shopper opened (by the shop's bind mode), unless
    the risk layer refuses (many accounts of one device or network binding to one distributor)."""
    async with db.read() as s:
        # the same refusals as bind's own, in its order (disabled, then an unknown code) before asking risk
        target = await by_code(s, ref=body.ref) if (await config.get_config(s)).enabled else None
    if target is not None and target.customer_id != caller.id:  # oneself: bind's own REF_SELF answers
        await ask.guard(
            db,
            action=Action.DISTRIBUTOR_BIND,
            subject=ask.subject_of(caller, distributor_id=target.customer_id),
            facts={"distributor_customer_id": target.customer_id, "origin": "share_link"},
        )
    async with db.tx() as s:
        r = await binding.bind(s, customer_id=caller.id, ref=body.ref, origin="share_link")
        nick = await board.nickname(s, customer_id=r.distributor_customer_id) if r.distributor_customer_id else None
    return BindingPublic(status=r.status, distributor_nickname=nick)  # type: ignore[arg-type]


@router.post("/visits", status_code=204)
async def visit(body: VisitCreate, request: Request, db: DbDep, settings: SettingsDep) -> None:
    """A share page was opened (anonymous allowed): counted for the distributor."""
    ip = client_ip(request, settings.trusted_proxies)
    if not await get_kv().allow(f"distribution-visit:{ip}", limit=120, window_seconds=60):
        raise TooMany(CoreError.RATE_LIMITED)
    async with db.tx() as s:
        await binding.record_visit(s, ref=body.ref, product_id=body.product_id, visitor_id=None, ip=ip)


@router.get("/me", response_model=MePublic)
async def me(caller: CurrentCustomer, db: DbDep) -> dict[str, Any]:
    """Distributor centre: balances, team sizes, orders brought."""
    async with db.tx() as s:
        return await board.me(s, customer_id=caller.id)


@router.get("/commissions", response_model=Page[CommissionPublic])
async def commissions(caller: CurrentCustomer, db: DbDep, limit: Limit = None, cursor: Cursor = None) -> Any:
    """The commission ledger, newest first."""
    async with db.read() as s:
        rows, nxt = await board.ledger(
            s, customer_id=caller.id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
    return {"items": rows, "next_cursor": nxt}


@router.get("/share", response_model=SharePublic)
async def share(
    request: Request,
    caller: CurrentCustomer,
    db: DbDep,
    settings: SettingsDep,
    product_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, str | None]:
    """Share link, QR code, mini-program code (with WeChat configured) and poster for a product (or the
    shop) with the distributor's code."""
    async with db.tx() as s:
        base = _share_base(request, settings)
        return await sharing.share(s, customer_id=caller.id, product_id=product_id, settings=settings, base_url=base)


async def _maybe_customer(request: Request, settings: SettingsDep, db: DbDep) -> Caller | None:
    """The shopper when a token came with the call: 分享 works before logging in too."""
    if not request.headers.get("authorization"):
        return None
    return await current_customer(request, settings, db)


def _share_base(request: Request, settings: Settings) -> str | None:
    # Dev with the default base URL: link back to whatever host served this request (local demos).
    dev_default = settings.dev and settings.base_url == Settings.model_fields["base_url"].default
    return str(request.base_url) if dev_default else None


@router.get("/products/{product_id}/share", response_model=ProductSharePublic)
async def product_share(
    product_id: IdPath,
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    caller: Annotated[Caller | None, Depends(_maybe_customer)],
) -> dict[str, str | None]:
    """分享 for any shopper, logged in or not: the product's link, QR code and poster (a PNG at
    `poster_png_url`, with the product picture, price and the code). A distributor's link carries their
    code (`ref`), so it stays the 分享赚佣金 link. 404 PRODUCT_NOT_FOUND for a product not on sale."""
    ip = client_ip(request, settings.trusted_proxies)
    if not await get_kv().allow(f"product-share:{ip}", limit=60, window_seconds=60):
        raise TooMany(CoreError.RATE_LIMITED)  # each new poster is drawn on this machine's CPU
    async with db.tx() as s:
        return await sharing.product_share(
            s,
            product_id=product_id,
            customer_id=caller.id if caller else None,
            settings=settings,
            base_url=_share_base(request, settings),
        )


@router.get("/media/{name}", include_in_schema=False)
async def media(name: str, settings: SettingsDep) -> FileResponse:
    if not MEDIA_NAME.match(name):
        raise NotFound(CoreError.NOT_FOUND)
    path = sharing.share_folder(settings) / name
    if not path.is_file():
        raise NotFound(CoreError.NOT_FOUND)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})


@router.post("/withdrawals", response_model=WithdrawalPublic, status_code=201)
async def withdraw(
    body: WithdrawalCreate,
    caller: CurrentCustomer,
    db: DbDep,
    idempotency_key: IdemKey = None,
) -> Any:
    """Withdraw from the available balance; an operator approves, then it is transferred. The risk layer is
    asked first: refused, nothing is held; sent to review, the withdrawal is `held` for a reviewer."""
    verdict = await ask.guard(
        db, action=Action.WITHDRAWAL, subject=ask.subject_of(caller), facts={"amount_fen": body.amount_fen}
    )
    held = verdict.reasons if verdict.outcome is Outcome.REVIEW else None

    async def work(s: Any) -> dict[str, Any]:
        w = await withdrawal_flow.request_withdrawal(
            s, customer_id=caller.id, amount_fen=body.amount_fen, real_name=body.real_name, hold_reasons=held
        )
        return WithdrawalPublic.model_validate(w).model_dump(mode="json")

    # The idempotency record keeps a fingerprint of the body: the name goes into it keyed, not as is.
    fp_body = {**body.model_dump(), "real_name": withdrawal_flow.real_name_fingerprint(body.real_name)}
    return await run_once(
        db, scope="distribution-withdraw", owner=str(caller.id), key=idempotency_key, body=fp_body, work=work
    )


@router.get("/withdrawals", response_model=Page[WithdrawalPublic])
async def my_withdrawals(caller: CurrentCustomer, db: DbDep, limit: Limit = None, cursor: Cursor = None) -> Any:
    async with db.read() as s:
        rows, nxt = await withdrawal_flow.list_withdrawals(
            s, customer_id=caller.id, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
    return {"items": rows, "next_cursor": nxt}


# ---- admin ---------------------------------------------------------------------------------------


@admin_router.get("/distribution/config", response_model=ConfigAdmin)
async def get_config(_: MarketingRead, db: DbDep) -> ConfigUpdate:
    async with db.read() as s:
        return await config.get_config(s)


@admin_router.put("/distribution/config", response_model=ConfigAdmin)
async def put_config(body: ConfigUpdate, admin: MarketingWrite, db: DbDep) -> ConfigUpdate:
    """Replace the distribution settings (≤ 2 levels; rates within the per-order cap ≤ 30%)."""
    async with db.tx() as s:
        return await config.save_config(s, data=body, admin_id=admin.id)


@admin_router.get("/distribution/distributors", response_model=Page[DistributorAdmin])
async def distributors(
    _: MarketingRead,
    db: DbDep,
    status: Annotated[str | None, Query(pattern="^(pending|approved|rejected|disabled)$")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Any:
    async with db.read() as s:
        rows, nxt = await board.list_distributors(
            s, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
    return {"items": rows, "next_cursor": nxt}


@admin_router.post("/distribution/distributors/{distributor_id}/decide", response_model=DistributorAdmin)
async def decide(distributor_id: IdPath, body: DecideRequest, admin: MarketingWrite, db: DbDep) -> Any:
    """Approve or reject an application (approve=false on an approved distributor disables them)."""
    async with db.tx() as s:
        d = await distributor_flow.decide_distributor(
            s, distributor_id=distributor_id, approve=body.approve, admin_id=admin.id
        )
        return await board.distributor_summary(s, distributor=d)


@admin_router.get("/distribution/ranking", response_model=list[RankRow])
async def ranking(_: MarketingRead, db: DbDep, by: Literal["gmv", "commission"] = "gmv", limit: Limit = None) -> Any:
    async with db.read() as s:
        return await board.ranking(s, by=by, limit=page_limit(limit))


@admin_router.get("/withdrawals", response_model=Page[WithdrawalAdmin])
async def withdrawals(
    _: WithdrawalsRead,
    db: DbDep,
    status: Annotated[str | None, Query(pattern="^(pending|paying|paid|failed|rejected)$")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Any:
    async with db.read() as s:
        rows, nxt = await withdrawal_flow.list_withdrawals(
            s, status=status, before_id=parse_cursor(cursor), limit=page_limit(limit)
        )
    return {"items": rows, "next_cursor": nxt}


@admin_router.post("/withdrawals/{withdrawal_id}/approve", response_model=WithdrawalAdmin)
async def approve_withdrawal(withdrawal_id: IdPath, admin: WithdrawalsWrite, db: DbDep) -> Any:
    """Approve a withdrawal: the transfer runs once in the payout job."""
    async with db.tx() as s:
        return await withdrawal_flow.approve_withdrawal(s, withdrawal_id=withdrawal_id, admin_id=admin.id)


@admin_router.post("/withdrawals/{withdrawal_id}/reject", response_model=WithdrawalAdmin)
async def reject_withdrawal(withdrawal_id: IdPath, body: RejectRequest, admin: WithdrawalsWrite, db: DbDep) -> Any:
    """Reject a withdrawal: the money returns to available."""
    async with db.tx() as s:
        return await withdrawal_flow.reject_withdrawal(
            s, withdrawal_id=withdrawal_id, admin_id=admin.id, reason=body.reason
        )
