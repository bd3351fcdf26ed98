"""Commissions from order events: accrual on payment, reversal on a line refund, void on cancellation,
and the maturing date set when the order completes.

Each is an outbox subscriber; redelivery writes nothing twice (the ledger's unique keys, see ledger.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.core.db import get_db
from fissionmall.distribution import rules
from fissionmall.distribution.binding import get_binding, upline
from fissionmall.distribution.config import get_config
from fissionmall.distribution.distributors import get_distributor
from fissionmall.distribution.ledger import accruals, insert_ignore, sum_fen
from fissionmall.distribution.models import Commission, DistributionOrder
from fissionmall.distribution.settlement import ensure_settlement_scheduled
from fissionmall.orders import service as orders
from fissionmall.risk import ask
from fissionmall.risk.decisions import Action, Subject


async def accrue(s: AsyncSession, *, payload: dict[str, Any]) -> int:
    """Write the commissions of a paid order (once per line and level, however often this runs)."""
    cfg = await get_config(s)
    if not cfg.enabled:
        return 0
    buyer = int(payload["customer_id"])
    now = clock.now()
    if cfg.self_purchase_commission and (d := await get_distributor(s, customer_id=buyer)) and d.status == "approved":
        level1: int | None = buyer
    else:
        level1 = await upline(s, customer_id=buyer, now=now)
    if level1 is None:
        return 0
    level2 = await upline(s, customer_id=level1, now=now) if cfg.levels >= 2 else None
    if level2 == buyer or level2 == level1:
        level2 = None  # a two-person loop never pays the buyer
    order = await orders.get_order(s, order_id=int(payload["order_id"]))
    product_of = {ln.id: ln.product_id for ln in order.lines}
    lines = [
        rules.LineIn(
            line_id=int(ln["line_id"]),
            product_id=product_of.get(int(ln["line_id"]), 0),
            sku_id=int(ln["sku_id"]),
            qty=int(ln["qty"]),
            goods_payable_fen=int(ln["goods_payable_fen"]),
        )
        for ln in payload["lines"]
    ]
    cfg_dict = cfg.model_dump()
    source = str(payload.get("source") or "normal")
    rates = {
        ln.line_id: rules.rates_for(cfg_dict, source=source, product_id=ln.product_id, sku_id=ln.sku_id) for ln in lines
    }
    shares = rules.commissions(lines, rates, levels=cfg.levels, has_level2=level2 is not None, cap_bp=cfg.cap_bp)
    if shares:
        refused = await _refused_earners(shares, level1=level1, level2=level2, payload=payload, order_id=order.id)
        shares = [sh for sh in shares if (level1 if sh.level == 1 else level2) not in refused]
    if not shares:
        return 0
    qty_of = {ln.line_id: ln.qty for ln in lines}
    written = 0
    for sh in shares:
        owner = level1 if sh.level == 1 else level2
        assert owner is not None
        written += await insert_ignore(
            s,
            Commission,
            {
                "distributor_customer_id": owner,
                "order_id": order.id,
                "order_line_id": sh.line_id,
                "withdrawal_id": None,
                "level": sh.level,
                "kind": "accrue",
                "bucket": "frozen",
                "amount_fen": sh.amount_fen,
                "base_fen": sh.base_fen,
                "qty": qty_of[sh.line_id],
                "rate_bp": sh.rate_bp,
                "ref_key": "",
                "created_at": now,
            },
        )
    await insert_ignore(
        s,
        DistributionOrder,
        {
            "order_id": order.id,
            "buyer_id": buyer,
            "level1_customer_id": level1,
            "level2_customer_id": level2,
            "source": source,
            "bind_origin": "self"
            if level1 == buyer
            else (b.origin if (b := await get_binding(s, customer_id=buyer)) else ""),
            "goods_fen": sum(ln.goods_payable_fen for ln in lines),
            "commission_fen": sum(sh.amount_fen for sh in shares),
            "status": "frozen",
            "paid_at": now,
        },
    )
    await ensure_settlement_scheduled(s)
    if written:  # a redelivered OrderPaid writes nothing and tells nobody twice
        earned: dict[tuple[int, int], int] = {}
        for sh in shares:
            owner = level1 if sh.level == 1 else level2
            assert owner is not None
            earned[(owner, sh.level)] = earned.get((owner, sh.level), 0) + sh.amount_fen
        for (owner, level), amount in sorted(earned.items()):
            await jobs.publish(
                s,
                "CommissionAccrued",
                {"customer_id": owner, "order_id": order.id, "level": level, "amount_fen": amount},
            )
    return written


async def _refused_earners(
    shares: list[rules.Share], *, level1: int, level2: int | None, payload: dict[str, Any], order_id: int
) -> set[int]:
    """The earners the risk layer refuses this order's commission: the buyer asked once as they ordered
    (their device and address: buyer and distributor on one device, a frozen buyer), then each earner (their
    own credit: a frozen distributor earns nothing). The engine only reads here; its record comes later."""
    if not ask.enabled():
        return set()
    db, seen, buyer = get_db(), payload.get("attribution") or {}, int(payload["customer_id"])
    base = {"order_id": order_id, "buyer_id": buyer, "source": str(payload.get("source") or "normal")}
    earners = [
        (lv, who, sum(sh.amount_fen for sh in shares if sh.level == lv)) for lv, who in ((1, level1), (2, level2))
    ]
    earners = [(lv, who, fen) for lv, who, fen in earners if who is not None and fen > 0]
    as_buyer = Subject(customer_id=buyer, device_id=seen.get("device_id"), ip=seen.get("ip"))
    facts = {**base, "distributor_customer_id": level1, "amount_fen": sum(fen for _, _, fen in earners)}
    if not (await ask.judge(db, action=Action.COMMISSION_ACCRUE, subject=as_buyer, facts=facts)).allowed:
        return {who for _, who, _ in earners if who is not None}
    refused: set[int] = set()
    for level, who, fen in earners:
        if who is None or who == buyer:
            continue  # self-purchase: judged above as the buyer
        facts = {**base, "distributor_customer_id": who, "level": level, "amount_fen": fen}
        subject = Subject(customer_id=who, distributor_id=who)
        if not (await ask.judge(db, action=Action.COMMISSION_ACCRUE, subject=subject, facts=facts)).allowed:
            refused.add(who)
    return refused


@jobs.on("OrderPaid", "distribution.accrue")
async def _on_paid(s: AsyncSession, job: jobs.Job) -> None:
    await accrue(s, payload=job.payload)


async def reverse_line(s: AsyncSession, *, line_id: int, refund_id: int, qty: int, amount_fen: int) -> int:
    """A line refund takes back that line's commission on both levels, in proportion to the units refunded:
    from frozen if it has not matured, else from available (which may go negative and is carried forward)."""
    taken = 0
    for acc in await accruals(s, line_id=line_id):
        line_level = (Commission.order_line_id == line_id, Commission.level == acc.level)
        prior = list((await s.scalars(select(Commission).where(*line_level, Commission.kind == "reverse"))).all())
        amount = rules.reversal_fen(
            accrued_fen=acc.amount_fen,
            line_qty=acc.qty,
            refunded_before_qty=sum(p.qty for p in prior),
            refund_qty=qty,
            reversed_fen=-sum(p.amount_fen for p in prior),
        )
        matured = await s.scalar(select(Commission.id).where(*line_level, Commission.kind == "mature_in"))
        ok = await insert_ignore(
            s,
            Commission,
            {
                "distributor_customer_id": acc.distributor_customer_id,
                "order_id": acc.order_id,
                "order_line_id": line_id,
                "withdrawal_id": None,
                "level": acc.level,
                "kind": "reverse",
                "bucket": "available" if matured else "frozen",
                "amount_fen": -amount,
                "base_fen": amount_fen,
                "qty": qty,
                "rate_bp": acc.rate_bp,
                "ref_key": f"refund:{refund_id}",
                "created_at": clock.now(),
            },
        )
        taken += amount if ok else 0
    return taken


@jobs.on("OrderLineRefunded", "distribution.reverse")
async def _on_line_refunded(s: AsyncSession, job: jobs.Job) -> None:
    p = job.payload
    await reverse_line(
        s, line_id=int(p["line_id"]), refund_id=int(p["refund_id"]), qty=int(p["qty"]), amount_fen=int(p["amount_fen"])
    )


@jobs.on("OrderCancelled", "distribution.void")
async def _on_cancelled(s: AsyncSession, job: jobs.Job) -> None:
    """Cancellation before settlement voids what is still frozen (today only unpaid orders cancel, so this
    is a guard for sources that cancel later)."""
    order_id = int(job.payload["order_id"])
    res = await s.execute(
        update(DistributionOrder)
        .where(DistributionOrder.order_id == order_id, DistributionOrder.status == "frozen")
        .values(status="void")
        .execution_options(synchronize_session=False)
    )
    if not res.rowcount:  # type: ignore[attr-defined]
        return
    for acc in await accruals(s, order_id=order_id):
        left = await sum_fen(
            s,
            Commission.order_line_id == acc.order_line_id,
            Commission.level == acc.level,
            Commission.bucket == "frozen",
        )
        if left > 0:
            await insert_ignore(
                s,
                Commission,
                {
                    "distributor_customer_id": acc.distributor_customer_id,
                    "order_id": order_id,
                    "order_line_id": acc.order_line_id,
                    "withdrawal_id": None,
                    "level": acc.level,
                    "kind": "void",
                    "bucket": "frozen",
                    "amount_fen": -left,
                    "base_fen": acc.base_fen,
                    "rate_bp": acc.rate_bp,
                    "ref_key": "",
                    "created_at": clock.now(),
                },
            )


@jobs.on("OrderCompleted", "distribution.completed")
async def _on_completed(s: AsyncSession, job: jobs.Job) -> None:
    """The after-sales window closed: the commission matures `frozen_days` later (moved at settlement)."""
    cfg = await get_config(s)
    now = clock.now()
    await s.execute(
        update(DistributionOrder)
        .where(DistributionOrder.order_id == int(job.payload["order_id"]), DistributionOrder.completed_at.is_(None))
        .values(completed_at=now, matures_at=rules.matures_at(now, cfg.frozen_days))
        .execution_options(synchronize_session=False)
    )
