"""Withdrawals: asking to withdraw from available, an operator's approval or rejection, and the payout.

A withdrawal holds its amount in the `withdrawing` bucket from the request on; a payout moves it to
`withdrawn`, a rejection or a failed transfer gives it back to `available`. A withdrawal the risk layer
sends to review is `held` (its amount held the same way) until a reviewer releases it (paid once, as an
approval) or voids it (the amount back to available once): the review kind "withdrawal" registered here.
The payee's real name (required by WeChat from 2,000 元) is kept sealed and dropped with the state change
that ends its use.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.core.db import keyset_page
from fissionmall.core.errors import AppError, Conflict, Forbidden, NotFound
from fissionmall.core.money import yuan
from fissionmall.distribution import rules
from fissionmall.distribution.config import get_config
from fissionmall.distribution.distributors import get_distributor
from fissionmall.distribution.errors import DistributionError
from fissionmall.distribution.ledger import insert_ignore, move_status, sum_fen
from fissionmall.distribution.models import Commission, Distributor, Withdrawal
from fissionmall.distribution.transfer import get_transfer
from fissionmall.payments.errors import PaymentsError
from fissionmall.risk import reviews
from fissionmall.settings import get_settings
from fissionmall.wechat import vault

log = logging.getLogger("fissionmall.distribution")

PAYOUT_HANDLER = "distribution.payout"
# WeChat requires the payee's real name on a transfer of 2,000 元 or more (商家转账 user_name).
REAL_NAME_FROM_FEN = 200_000
_REAL_NAME = "withdrawal-real-name"


def _entry(owner: int, withdrawal_id: int, kind: str, bucket: str, amount: int) -> dict[str, Any]:
    return {
        "distributor_customer_id": owner,
        "order_id": None,
        "order_line_id": None,
        "withdrawal_id": withdrawal_id,
        "level": 0,
        "kind": kind,
        "bucket": bucket,
        "amount_fen": amount,
        "base_fen": 0,
        "rate_bp": None,
        "ref_key": "",
        "created_at": clock.now(),
    }


def real_name_fingerprint(real_name: str | None) -> str | None:
    """A keyed hash of the name, for the idempotency fingerprint (which is stored)."""
    if not real_name:
        return None
    key = vault.derive(get_settings().secret_key, "withdrawal-real-name-fingerprint")
    return hmac.new(key, real_name.encode(), hashlib.sha256).hexdigest()


def _open_real_name(w: Withdrawal) -> str | None:
    if not w.real_name_enc:
        return None
    try:
        return vault.unseal(get_settings().secret_key, _REAL_NAME, w.real_name_enc, bound_to=str(w.id))
    except vault.VaultError:
        log.warning("withdrawal %s: the sealed real name does not open (SECRET_KEY changed?)", w.id)
        return None


async def request_withdrawal(
    s: AsyncSession,
    *,
    customer_id: int,
    amount_fen: int,
    real_name: str | None = None,
    hold_reasons: Sequence[str] | None = None,
) -> Withdrawal:
    """Ask to withdraw from available: minimum and balance checked under the distributor's row lock.
    `real_name` is required when the transfer (net of the fee) is 2,000 元 or more; it is kept sealed.
    `hold_reasons` (the risk layer said review): the withdrawal is `held` for a reviewer, not pending."""
    cfg = await get_config(s)
    d = await get_distributor(s, customer_id=customer_id)
    if d is None or d.status != "approved":
        raise Forbidden(DistributionError.NOT_DISTRIBUTOR)
    if amount_fen < cfg.min_withdraw_fen:
        raise AppError(DistributionError.WITHDRAW_BELOW_MINIMUM, f"最低提现金额为 {yuan(cfg.min_withdraw_fen)} 元")
    if amount_fen - rules.withdraw_fee(amount_fen, cfg.withdraw_fee_bp) >= REAL_NAME_FROM_FEN and not real_name:
        raise AppError(PaymentsError.REAL_NAME_REQUIRED, "提现 2000 元及以上需要填写收款人真实姓名（real_name）")
    # The UPDATE takes the distributor row's write lock: concurrent withdrawals of one distributor queue
    # here, so the balance read below cannot be spent twice (SQLite: the database write lock does the same).
    await s.execute(
        update(Distributor)
        .where(Distributor.id == d.id)
        .values(withdraw_seq=Distributor.withdraw_seq + 1)
        .execution_options(synchronize_session=False)
    )
    available = await sum_fen(s, Commission.distributor_customer_id == customer_id, Commission.bucket == "available")
    if amount_fen > available:
        raise Conflict(DistributionError.WITHDRAW_EXCEEDS_AVAILABLE, available_fen=available)
    fee = rules.withdraw_fee(amount_fen, cfg.withdraw_fee_bp)
    w = Withdrawal(
        distributor_customer_id=customer_id,
        amount_fen=amount_fen,
        fee_fen=fee,
        net_fen=amount_fen - fee,
        status="pending" if hold_reasons is None else "held",
        created_at=clock.now(),
    )
    s.add(w)
    await s.flush()
    if real_name and w.net_fen >= REAL_NAME_FROM_FEN:
        # Below 2,000 元 WeChat does not ask for it, so it is not kept at all.
        w.real_name_enc = vault.seal(get_settings().secret_key, _REAL_NAME, real_name, bound_to=str(w.id))
    s.add(Commission(**_entry(customer_id, w.id, "withdraw_hold", "available", -amount_fen)))
    s.add(Commission(**_entry(customer_id, w.id, "withdraw_hold", "withdrawing", amount_fen)))
    await s.flush()
    if hold_reasons is not None:
        await reviews.hold(s, kind=REVIEW_KIND, ref_id=w.id, customer_id=customer_id, reasons=tuple(hold_reasons))
    return w


async def _withdrawal_cas(s: AsyncSession, withdrawal_id: int, target: str, **values: Any) -> bool:
    return await move_status(s, Withdrawal, withdrawal_id, rules.WITHDRAWAL_TRANSITIONS, target, **values)


async def get_withdrawal(s: AsyncSession, *, withdrawal_id: int) -> Withdrawal:
    """A withdrawal as the database has it now (NotFound when there is none)."""
    w = await s.scalar(
        select(Withdrawal).where(Withdrawal.id == withdrawal_id).execution_options(populate_existing=True)
    )
    if w is None:
        raise NotFound(DistributionError.WITHDRAWAL_NOT_FOUND)
    return w


async def approve_withdrawal(s: AsyncSession, *, withdrawal_id: int, admin_id: int) -> Withdrawal:
    """An operator approves: the payout job transfers the money once."""
    w = await get_withdrawal(s, withdrawal_id=withdrawal_id)
    _not_held(w)
    if not await _withdrawal_cas(s, w.id, "paying", decided_at=clock.now(), decided_by=admin_id):
        raise Conflict(DistributionError.WITHDRAWAL_STATE_INVALID)
    await jobs.schedule(
        s, PAYOUT_HANDLER, {"withdrawal_id": w.id}, due_at=clock.now(), key=f"distribution-payout:{w.id}"
    )
    return await get_withdrawal(s, withdrawal_id=w.id)


async def _give_back(s: AsyncSession, w: Withdrawal, kind: str) -> None:
    await insert_ignore(s, Commission, _entry(w.distributor_customer_id, w.id, kind, "withdrawing", -w.amount_fen))
    await insert_ignore(s, Commission, _entry(w.distributor_customer_id, w.id, kind, "available", w.amount_fen))


async def reject_withdrawal(s: AsyncSession, *, withdrawal_id: int, admin_id: int, reason: str) -> Withdrawal:
    """An operator rejects: the amount returns to available and the sealed name is dropped."""
    w = await get_withdrawal(s, withdrawal_id=withdrawal_id)
    _not_held(w)
    if not await _withdrawal_cas(
        s, w.id, "rejected", decided_at=clock.now(), decided_by=admin_id, failure=reason[:200], real_name_enc=None
    ):
        raise Conflict(DistributionError.WITHDRAWAL_STATE_INVALID)
    await _give_back(s, w, "withdraw_return")
    return await get_withdrawal(s, withdrawal_id=w.id)


async def payout(s: AsyncSession, *, withdrawal_id: int) -> Withdrawal:
    """Transfer an approved withdrawal's net amount, once; a failed transfer returns the money to available."""
    w = await get_withdrawal(s, withdrawal_id=withdrawal_id)
    if w.status != "paying":
        return w
    named = {"user_name": name} if (name := _open_real_name(w)) else {}  # older Transfer ports take no name
    result = await get_transfer().transfer(
        reference=f"wd{w.id}",
        customer_id=w.distributor_customer_id,
        amount_fen=w.net_fen,
        description="分销佣金提现",
        **named,
    )
    now = clock.now()
    if result.success:
        # The name was only for the transfer: it goes with the state change.
        if await _withdrawal_cas(s, w.id, "paid", paid_at=now, transfer_id=result.transfer_id, real_name_enc=None):
            await insert_ignore(
                s, Commission, _entry(w.distributor_customer_id, w.id, "withdraw_paid", "withdrawing", -w.amount_fen)
            )
            await insert_ignore(
                s, Commission, _entry(w.distributor_customer_id, w.id, "withdraw_paid", "withdrawn", w.amount_fen)
            )
    elif await _withdrawal_cas(
        s, w.id, "failed", failure=(result.message or "transfer failed")[:200], real_name_enc=None
    ):
        await _give_back(s, w, "withdraw_return")
    return await get_withdrawal(s, withdrawal_id=w.id)


def _not_held(w: Withdrawal) -> None:
    if w.status == "held":  # decided in the review queue (风控审核), where the decision is recorded
        raise Conflict(DistributionError.WITHDRAWAL_UNDER_REVIEW)


async def _from_held(s: AsyncSession, withdrawal_id: int, target: str, **values: Any) -> bool:
    """Compare-and-set out of `held` only (a review's decision never moves a pending withdrawal)."""
    res = await s.execute(
        update(Withdrawal)
        .where(Withdrawal.id == withdrawal_id, Withdrawal.status == "held")
        .values(status=target, **values)
        .execution_options(synchronize_session=False)
    )
    return res.rowcount == 1  # type: ignore[attr-defined]


async def _release_held(s: AsyncSession, ref_id: int) -> None:
    """A reviewer released a held withdrawal: approved as by an operator, so the payout job pays it once."""
    if await _from_held(s, ref_id, "paying", decided_at=clock.now()):
        await jobs.schedule(
            s, PAYOUT_HANDLER, {"withdrawal_id": ref_id}, due_at=clock.now(), key=f"distribution-payout:{ref_id}"
        )


async def _void_held(s: AsyncSession, ref_id: int) -> None:
    """A reviewer voided a held withdrawal: its amount returns to available, once."""
    if await _from_held(s, ref_id, "rejected", decided_at=clock.now(), failure="风控审核未通过", real_name_enc=None):
        await _give_back(s, await get_withdrawal(s, withdrawal_id=ref_id), "withdraw_return")


REVIEW_KIND = "withdrawal"
reviews.register(reviews.Kind(REVIEW_KIND, "提现", release=_release_held, void=_void_held))


@jobs.handler(PAYOUT_HANDLER)
async def _payout_job(s: AsyncSession, job: jobs.Job) -> None:
    await payout(s, withdrawal_id=int(job.payload["withdrawal_id"]))


async def list_withdrawals(
    s: AsyncSession,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 20,
) -> tuple[list[Withdrawal], str | None]:
    """Withdrawals newest first, of one distributor and/or in one status; (page, next cursor)."""
    q = select(Withdrawal).order_by(Withdrawal.id.desc())
    if customer_id is not None:
        q = q.where(Withdrawal.distributor_customer_id == customer_id)
    if status:
        q = q.where(Withdrawal.status == status)
    if before_id:
        q = q.where(Withdrawal.id < before_id)
    return await keyset_page(s, q, limit=limit)
