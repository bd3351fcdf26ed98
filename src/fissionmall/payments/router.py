"""Payment endpoints: start paying an order, the gateways' callbacks (WeChat Pay's transfer results
included), a shopper's payment, the sandbox cashier.

The WeChat Pay callbacks answer as WeChat expects: 2xx on success (duplicates included), 4xx with
{"code": "FAIL", "message": ...} when the notification does not verify or decode.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from fissionmall.accounts.deps import CurrentCustomer
from fissionmall.core.deps import DbDep, IdemKey, SettingsDep
from fissionmall.core.errors import AppError
from fissionmall.core.idempotency import run_once
from fissionmall.core.schemas import MAX_FEN, ApiModel, IdPath
from fissionmall.payments import service
from fissionmall.payments.errors import PaymentsError
from fissionmall.payments.gateway import BadNotification, SandboxGateway, get_gateway
from fissionmall.payments.wechatpay import sweeps

router = APIRouter(tags=["payments"])


class PaymentCreate(ApiModel):
    """`gateway` (all of it through the gateway), or a registered method (payments/methods.py): `wallet`
    (余额 pays all of it) or `split` (`wallet_fen` from the 余额, the rest through the gateway)."""

    method: Literal["gateway", "wallet", "split"] = "gateway"
    wallet_fen: Annotated[int, Field(strict=True, ge=1, le=MAX_FEN)] | None = None


class PrepayPublic(ApiModel):
    payment_id: int | None  # None: the method paid everything, the order is paid and there is no payment
    status: str
    amount_fen: int
    gateway: dict[str, Any]


@router.post("/orders/{order_id}/pay", response_model=PrepayPublic)
async def pay(
    order_id: IdPath,
    body: PaymentCreate,
    caller: CurrentCustomer,
    db: DbDep,
    settings: SettingsDep,
    idempotency_key: IdemKey = None,
) -> dict[str, Any]:
    """Start paying an order: returns what the client needs (sandbox: the cashier URL). The order has one
    open payment: a repeat, with or without an Idempotency-Key, answers the same payment."""

    known: list[service.ToPay] = []

    async def work(s: Any) -> dict[str, Any]:
        p, facts = await service.open_payment(
            s,
            order_id=order_id,
            customer_id=caller.id,
            method=body.method,
            gateway_name=settings.payment_gateway,
            amount_fen=body.wallet_fen,
        )
        if p is None or facts is None:
            return {"payment_id": None}
        known.append(facts)
        return {"payment_id": p.id}

    opened = await run_once(
        db,
        scope=f"pay:{order_id}",
        owner=str(caller.id),
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
    )
    if opened["payment_id"] is None:
        return {"payment_id": None, "status": "paid", "amount_fen": 0, "gateway": {}}
    # Only now that the payment is committed is the gateway asked for its prepay.
    p, client = await service.prepay(
        db, payment_id=int(opened["payment_id"]), customer_id=caller.id, known=known[-1] if known else None
    )
    return {"payment_id": p.id, "status": p.status, "amount_fen": p.amount_fen, "gateway": client}


@router.post("/payments/{gateway}/notify", response_model=None)
async def notify(gateway: Annotated[str, Path(max_length=16)], request: Request, db: DbDep) -> JSONResponse:
    """Gateway callbacks. Verified before anything is read; applied at most once."""
    gw = get_gateway(gateway)
    body = await request.body()
    try:
        note = gw.parse_notification({k.lower(): v for k, v in request.headers.items()}, body)
    except BadNotification as exc:
        async with db.tx() as s:
            await service.record_rejected(s, gateway=gateway, code=exc.code, detail=body[:500].decode(errors="replace"))
        # WeChat documents {"code": "FAIL", "message": ≤ 64 characters} with a non-2xx; our own clients
        # read {"error": …}.
        return JSONResponse({**exc.fail_body(), **exc.body()}, status_code=exc.status)
    async with db.tx() as s:
        outcome = await service.apply_notification(s, gateway=gateway, note=note)
    return JSONResponse({"code": "SUCCESS", "outcome": outcome})


@router.post("/wechat/pay/transfer-notify", response_model=None, include_in_schema=False)
async def transfer_notify(request: Request, db: DbDep) -> Response:
    """MCHTRANSFER.BILL.FINISHED: verified, decrypted, applied once per bill and state."""
    gw = sweeps.wechatpay_gateway()
    if gw is None:
        return JSONResponse({"code": "FAIL", "message": "WeChat Pay is not configured"}, status_code=404)
    body = await request.body()
    try:
        event = gw.decode({k.lower(): v for k, v in request.headers.items()}, body)
        if event.resource_type != "mch_payment" or "out_bill_no" not in event.resource:
            raise BadNotification(
                PaymentsError.NOTIFICATION_UNSUPPORTED, f"{event.event_type} is not a transfer result"
            )
    except BadNotification as exc:
        async with db.tx() as s:
            await service.record_rejected(
                s, gateway="wechatpay", code=exc.code, detail=body[:500].decode(errors="replace")
            )
        return JSONResponse(exc.fail_body(), status_code=exc.status)
    async with db.tx() as s:
        await sweeps.transfer_finished(s, resource=event.resource)
    return Response(status_code=204)


class PaymentPublic(ApiModel):
    id: int
    order_id: int
    status: str
    amount_fen: int
    method: str
    gateway: str


@router.get("/payments/{payment_id}", response_model=PaymentPublic)
async def get_payment(payment_id: IdPath, caller: CurrentCustomer, db: DbDep) -> Any:
    async with db.read() as s:
        return await service.get_payment(s, payment_id=payment_id, customer_id=caller.id)


@router.post("/payments/sandbox/{payment_id}/succeed", response_model=None)
async def sandbox_succeed(
    payment_id: IdPath, caller: CurrentCustomer, db: DbDep, settings: SettingsDep
) -> JSONResponse:
    """Sandbox only: the cashier's "pay" button. Sends a signed notification down the notify path."""
    if not settings.dev and settings.payment_gateway != "sandbox":
        raise AppError(PaymentsError.SANDBOX_DISABLED, status=404)
    gw = get_gateway("sandbox")
    assert isinstance(gw, SandboxGateway)
    # One transaction: the payment read here is the one the notification path then finds in the session.
    async with db.tx() as s:
        p = await service.get_payment(s, payment_id=payment_id, customer_id=caller.id)
        if p.gateway != "sandbox":
            raise AppError(PaymentsError.PAYMENT_NOT_SANDBOX)
        headers, body = gw.notification(
            {
                "kind": "payment",
                "reference": p.id,
                "amount_fen": p.amount_fen,
                "external_id": f"SBX{p.id:010d}",
                "status": "SUCCESS",
            }
        )
        note = gw.parse_notification(headers, body)
        outcome = await service.apply_notification(s, gateway="sandbox", note=note)
    return JSONResponse({"code": "SUCCESS", "outcome": outcome})
