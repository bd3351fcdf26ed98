"""Checkout's routes: price a cart, place an order (URLs and JSON as API.md has them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from fissionmall.accounts.deps import CurrentCustomer
from fissionmall.checkout import service
from fissionmall.checkout.schemas import CheckoutRequest, PreviewPublic
from fissionmall.core.deps import DbDep, IdemKey, SettingsDep
from fissionmall.core.errors import AppError
from fissionmall.core.idempotency import run_once
from fissionmall.orders.schemas import OrderPlacedPublic
from fissionmall.risk import ask, reviews
from fissionmall.risk.decisions import Action, Outcome
from fissionmall.risk.errors import RiskError
from fissionmall.risk.handlers import ORDER_KIND

router = APIRouter(tags=["orders"])
ORDER_CHALLENGE = "下单过于频繁：请先支付或取消未支付的订单，稍后再试"


@router.post("/checkout/preview", response_model=PreviewPublic)
async def preview(body: CheckoutRequest, caller: CurrentCustomer, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """Price a cart through the price chain, with every step explained. Without a `coupon_id` the best of
    the shopper's coupons is chosen; the others are listed with why each does not apply."""
    async with db.read() as s:
        q = await service.preview(s, body=body, customer_id=caller.id, settings=settings)
    return service.preview_dict(q)


@router.post("/coupons/checkout-preview", response_model=PreviewPublic, tags=["coupons"])
async def coupon_preview(
    body: CheckoutRequest, caller: CurrentCustomer, db: DbDep, settings: SettingsDep, pick_best: bool = True
) -> dict[str, Any]:
    """POST /checkout/preview as the caller: the chosen coupon checked as theirs, or their best one picked,
    with the usable and unusable coupons listed (`?pick_best=false`: the shopper chose no coupon)."""
    async with db.read() as s:
        q = await service.preview(s, body=body, customer_id=caller.id, settings=settings, choose_coupon=pick_best)
    return service.preview_dict(q)


@router.post("/orders", response_model=OrderPlacedPublic, status_code=201)
async def create_order(
    body: CheckoutRequest, caller: CurrentCustomer, db: DbDep, settings: SettingsDep, idempotency_key: IdemKey = None
) -> dict[str, Any]:
    """Place an order (stock is reserved now; it is cancelled if unpaid in time). The risk layer is asked
    first: a challenge or a deny refuses it in plain Chinese; a review places it and holds it from
    shipping until a person decides (审核队列)."""
    await service.check_order_rate(caller.id, settings)
    verdict = await ask.judge(db, action=Action.ORDER, subject=ask.subject_of(caller), facts={"items": len(body.items)})
    if verdict.outcome is Outcome.CHALLENGE:  # the shop has no captcha for an order: what to do instead
        raise AppError(RiskError.RISK_CHALLENGE, ORDER_CHALLENGE)
    ask.raise_refusal(verdict)

    async def work(s: Any) -> dict[str, Any]:
        o = await service.place(
            s,
            customer_id=caller.id,
            body=body,
            settings=settings,
            attribution={"ip": caller.ip, "device_id": caller.device_id},
        )
        if verdict.outcome is Outcome.REVIEW:
            await reviews.hold(s, kind=ORDER_KIND, ref_id=o.id, customer_id=caller.id, reasons=verdict.reasons)
        return OrderPlacedPublic.model_validate(o).model_dump(mode="json")

    return await run_once(
        db, scope="order", owner=str(caller.id), key=idempotency_key, body=body.model_dump(mode="json"), work=work
    )
