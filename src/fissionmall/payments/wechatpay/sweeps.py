"""WeChat Pay background work: reconcile pending payments, poll stuck refunds, apply transfer results.

Scheduling: `schedule_periodic(s)` queues both sweeps once (keyed); each sweep re-queues itself for
the next period, keyed by period, so however many workers run, one sweep runs per period. Every
worker arms them at start (`wechat.arm_sweeps`); calling it again is a no-op when already queued.
Both sweeps confirm through `payments.service.apply_notification`, the same compare-and-set path
notifications use, so a payment confirmed by both a query and a late notification is applied once.
The job names keep their `wechat.` prefix: queued rows name them. Registered through payments/handlers.py.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError
from fissionmall.orders.models import Refund
from fissionmall.payments import service as payments
from fissionmall.payments.gateway import get_gateway
from fissionmall.payments.models import Payment
from fissionmall.payments.wechatpay.gateway import WechatPayGateway
from fissionmall.settings import get_settings

log = logging.getLogger("fissionmall.wechat")

PERIOD_SECONDS = 300
RECONCILE = "wechat.reconcile_payments"
POLL_REFUNDS = "wechat.poll_refunds"
TRANSFER_FINISHED = "wechat.transfer_finished"


def wechatpay_gateway() -> WechatPayGateway | None:
    """The registered WeChat Pay gateway, or None where it is not configured."""
    try:
        gw = get_gateway("wechatpay")
    except AppError:
        return None
    return gw if isinstance(gw, WechatPayGateway) else None


async def schedule_periodic(s: AsyncSession) -> None:
    """Queue the next run of both sweeps (idempotent per period)."""
    now = clock.now()
    bucket = int(now.timestamp()) // PERIOD_SECONDS + 1
    due = now + timedelta(seconds=PERIOD_SECONDS)
    for name in (RECONCILE, POLL_REFUNDS):
        await jobs.schedule(s, name, {}, due_at=due, key=f"{name}:{bucket}")


async def reconcile_payments(s: AsyncSession, *, older_than_minutes: int | None = None, limit: int = 100) -> int:
    """Ask WeChat about pending payments older than N minutes; confirm the paid ones. Returns applied count."""
    gw = wechatpay_gateway()
    if gw is None:
        return 0
    minutes = get_settings().wechat_reconcile_after_minutes if older_than_minutes is None else older_than_minutes
    cutoff = clock.now() - timedelta(minutes=minutes)
    rows = (
        await s.scalars(
            select(Payment)
            .where(Payment.gateway == "wechatpay", Payment.status == "pending", Payment.created_at <= cutoff)
            .order_by(Payment.id)
            .limit(limit)
        )
    ).all()
    applied = 0
    for p in rows:
        try:
            t = await gw.query(p.id)
        except AppError as exc:
            log.info("reconcile P%s: %s", p.id, exc.code)  # ORDER_NOT_EXIST: never reached WeChat
            continue
        if t.get("trade_state") in ("SUCCESS", "REFUND"):
            note = gw.transaction_note({**t, "trade_state": "SUCCESS"})
            outcome = await payments.apply_notification(s, gateway="wechatpay", note=note)
            log.info("reconcile P%s: %s", p.id, outcome)
            applied += outcome == "applied"
    return applied


async def poll_refunds(s: AsyncSession, *, older_than_minutes: int = 1, limit: int = 100) -> int:
    """Ask WeChat about refunds still processing; apply the finished ones. Returns applied count."""
    gw = wechatpay_gateway()
    if gw is None:
        return 0
    cutoff = clock.now() - timedelta(minutes=older_than_minutes)
    rows = (
        await s.scalars(
            select(Refund)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Refund.status == "processing", Payment.gateway == "wechatpay", Refund.created_at <= cutoff)
            .order_by(Refund.id)
            .limit(limit)
        )
    ).all()
    applied = 0
    for r in rows:
        try:
            data = await gw.query_refund(r.id)
        except AppError as exc:
            log.info("refund poll R%s: %s", r.id, exc.code)
            continue
        if data.get("status") in ("SUCCESS", "ABNORMAL", "CLOSED"):
            outcome = await payments.apply_notification(s, gateway="wechatpay", note=gw.refund_note(data))
            applied += outcome == "applied"
    return applied


@jobs.handler(RECONCILE)
async def _reconcile_job(s: AsyncSession, job: jobs.Job) -> None:
    await reconcile_payments(s)
    await schedule_periodic(s)


@jobs.handler(POLL_REFUNDS)
async def _poll_refunds_job(s: AsyncSession, job: jobs.Job) -> None:
    await poll_refunds(s)
    await schedule_periodic(s)


async def transfer_finished(s: AsyncSession, *, resource: dict[str, Any]) -> str:
    """Record a verified MCHTRANSFER.BILL.FINISHED once per (bill, state): the event fires once."""
    key = f"wechat-transfer:{resource['out_bill_no']}:{resource['state']}"
    seen = await s.scalar(select(jobs.Job.id).where(jobs.Job.key == key))
    await jobs.schedule(s, TRANSFER_FINISHED, dict(resource), due_at=clock.now(), key=key)
    return "duplicate" if seen else "applied"


@jobs.handler(TRANSFER_FINISHED)
async def _transfer_finished_job(s: AsyncSession, job: jobs.Job) -> None:
    """Tell the domains (distribution withdrawals) how a transfer ended."""
    r = job.payload
    await jobs.publish(
        s,
        "WechatTransferFinished",
        {
            "out_bill_no": r["out_bill_no"],
            "transfer_bill_no": r.get("transfer_bill_no"),
            "state": r["state"],
            "amount_fen": r.get("transfer_amount"),
            "openid": r.get("openid"),
            "fail_reason": r.get("fail_reason", ""),
        },
    )


@jobs.background("wechat.arm_sweeps")
async def _arm_sweeps(db: Database, stop: asyncio.Event) -> None:
    """Wherever a worker starts, make sure the next reconciliation and refund-poll runs are queued
    (keyed per period, so several workers arm them once); the sweeps then re-arm themselves."""
    if not get_settings().wechat_pay_configured:
        return
    async with db.tx() as s:
        await schedule_periodic(s)
