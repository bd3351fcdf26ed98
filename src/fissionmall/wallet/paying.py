"""The wallet as a tender: 余额支付 and 组合支付 at pay time (registered into payments/methods.py), and the
"wallet" tender of checkout/tenders.py (take, give_back on a refund, release on a cancel).

Under the order's lock (payments takes it), `apply` writes the order's tenders (orders/tenders.entries:
the wallet's share, then the gateway's rest) and debits the wallet in the same transaction: 本金 first, or
赠送 first as the merchant sets it. A refund's wallet share comes back to 本金 and 赠送 in the proportion
the order spent them (rules.give_back_split), once per refund; cancelling the unpaid order gives the whole
debit back, once.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.checkout import tenders
from fissionmall.core.errors import AppError, Conflict
from fissionmall.orders import tenders as order_tenders
from fissionmall.orders.models import Order
from fissionmall.orders.tenders import entries
from fissionmall.payments import methods
from fissionmall.wallet import ledger, rules
from fissionmall.wallet.errors import WalletError
from fissionmall.wallet.packages import spend_bonus_first

WALLET = "wallet"
TOPUP_SOURCE = "wallet_topup"


def _wallet_share(order: Order) -> int | None:
    if order.tenders is None:
        return None
    return sum(t["amount_fen"] for t in order.tenders if t["tender"] == WALLET)


async def debit(s: AsyncSession, *, order: Order, amount_fen: int) -> None:
    """Take `amount_fen` of the order's shopper's wallet for it (once per order); INSUFFICIENT_BALANCE if short."""
    principal, bonus = await ledger.balance_of(s, customer_id=order.customer_id, lock=True)
    split = rules.debit_split(
        amount_fen, principal_fen=principal, bonus_fen=bonus, bonus_first=await spend_bonus_first(s)
    )
    if split is None:
        raise Conflict(WalletError.INSUFFICIENT_BALANCE, balance_fen=principal + bonus, wanted_fen=amount_fen)
    await ledger.move(
        s,
        customer_id=order.customer_id,
        key=f"pay:{order.id}",
        kind="pay",
        principal_delta=-split[0],
        bonus_delta=-split[1],
        ref=f"order:{order.id}",
        reason=f"订单 {order.no}",
    )


async def _apply(s: AsyncSession, order: Order, ask: methods.PayAsk) -> None:
    if order.source == TOPUP_SOURCE:
        raise Conflict(WalletError.WALLET_NOT_FOR_TOPUP)
    if ask.method == "wallet":
        wanted = order.payable_fen
    else:
        if ask.amount_fen is None or ask.amount_fen <= 0:
            raise AppError(WalletError.WALLET_AMOUNT_INVALID, field="wallet_fen")
        if ask.amount_fen > order.payable_fen:
            raise AppError(WalletError.WALLET_EXCEEDS_PAYABLE, field="wallet_fen", payable_fen=order.payable_fen)
        wanted = ask.amount_fen
    share = _wallet_share(order)
    if share is not None:
        if share == wanted:
            return  # a repeat of the same choice: the wallet has paid its share already
        raise Conflict(WalletError.WALLET_ALREADY_APPLIED, wallet_fen=share)
    await debit(s, order=order, amount_fen=wanted)
    await s.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == "pending_payment")
        .values(tenders=entries([(WALLET, wanted)], order.payable_fen))
        .execution_options(synchronize_session=False)
    )


async def _take(s: AsyncSession, order: Order, amount_fen: int) -> None:
    await debit(s, order=order, amount_fen=amount_fen)


async def _give_back(s: AsyncSession, order: Order, amount_fen: int, refund_id: int) -> None:
    moved = await ledger.order_moves(s, order_id=order.id)
    spent_p, spent_b = moved.get("pay", (0, 0))
    back_p, back_b = moved.get("refund", (0, 0))
    principal, bonus = rules.give_back_split(
        amount_fen, spent_principal=spent_p, spent_bonus=spent_b, back_principal=back_p, back_bonus=back_b
    )
    await ledger.move(
        s,
        customer_id=order.customer_id,
        key=f"refund:{refund_id}",
        kind="refund",
        principal_delta=principal,
        bonus_delta=bonus,
        ref=f"order:{order.id}",
        reason=f"订单 {order.no} 退款",
    )


async def _release(s: AsyncSession, order: Order, amount_fen: int) -> None:
    spent = (await ledger.order_moves(s, order_id=order.id)).get("pay")
    if spent is None:
        return
    await ledger.move(
        s,
        customer_id=order.customer_id,
        key=f"release:{order.id}",
        kind="release",
        principal_delta=spent[0],
        bonus_delta=spent[1],
        ref=f"order:{order.id}",
        reason=f"订单 {order.no} 已取消",
    )


order_tenders.name_tender(WALLET, "余额")
TENDER = tenders.register(tenders.Tender(name=WALLET, take=_take, give_back=_give_back, release=_release))
methods.register(methods.PayMethod(name="wallet", apply=_apply))
methods.register(methods.PayMethod(name="split", apply=_apply))
