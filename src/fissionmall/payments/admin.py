"""Console pages for payments: the records with their gateway ids, and reconciliation."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import extras
from fissionmall.core.schemas import parse_cursor
from fissionmall.payments import service
from fissionmall.web.console import Console, console, render, vocabulary

router = APIRouter(prefix="/admin/payments", include_in_schema=False)
NAV = [("payments", "支付记录", "/admin/payments", "refunds.read")]
NAV_SECTION = "finance"

Read = Annotated[Console, Depends(console("refunds.read"))]
Write = Annotated[Console, Depends(console("refunds"))]

PAYMENT_STATUS_ZH = {"pending": "待支付", "succeeded": "已支付", "closed": "已关闭"}
GATEWAY_ZH = {"sandbox": "沙箱支付", "wechatpay": "微信支付"}
vocabulary(GATEWAY_ZH=GATEWAY_ZH)  # the order detail and the notifications pages name gateways too
STALE_MINUTES = 15


@extras.contributes(extras.ORDER_PAGE)
async def _paid_by(*, s: AsyncSession, order: Any) -> dict[str, Any]:
    """The order page's 支付方式 / 支付单号 / 支付时间: the payment that paid the order, if any."""
    return {"payment": await service.paid_payment_of(s, order_id=order.id)}


@router.get("")
async def payments_page(
    ctx: Read,
    status: Annotated[str, Query(pattern="^(|pending|succeeded|closed)$")] = "",
    cursor: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    async with ctx.db.read() as s:
        rows, nxt = await service.list_payments(s, status=status or None, before_id=parse_cursor(cursor or None))
    return render(
        ctx,
        "payments/list.html",
        active="payments",
        rows=rows,
        next_cursor=nxt,
        status=status,
        STATUS_ZH=PAYMENT_STATUS_ZH,
    )


@router.get("/reconcile")
async def reconcile_page(ctx: Read, applied: int | None = None) -> Response:
    async with ctx.db.read() as s:
        stale = await service.stale_pending(s, older_than=timedelta(minutes=STALE_MINUTES))
        promoted = await service.gateway_promoted(s)
    return render(
        ctx,
        "payments/reconcile.html",
        active="payments",
        rows=stale,
        promoted=promoted,
        minutes=STALE_MINUTES,
        applied=applied,
        wechat=ctx.settings.wechat_pay_configured,
        STATUS_ZH=PAYMENT_STATUS_ZH,
    )


@router.post("/reconcile")
async def reconcile_now(ctx: Write) -> Response:
    """Ask the gateway about every stale pending payment now; paid ones are confirmed down the notify path."""
    from fissionmall.payments.wechatpay import sweeps

    applied = 0
    if ctx.settings.wechat_pay_configured:
        async with ctx.db.tx() as s:
            applied = await sweeps.reconcile_payments(s, older_than_minutes=STALE_MINUTES)
    return RedirectResponse(f"/admin/payments/reconcile?applied={applied}", status_code=303)
