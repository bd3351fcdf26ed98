"""储值's arithmetic, pure: how a payment splits over 本金 and 赠送, how a refund gives each back, what a
top-up refund returns. Integer fen throughout."""

from __future__ import annotations

from dataclasses import dataclass


def debit_split(amount_fen: int, *, principal_fen: int, bonus_fen: int, bonus_first: bool) -> tuple[int, int] | None:
    """(principal, bonus) a payment of `amount_fen` takes from a balance, in the merchant's order (本金 first
    by default); None when the balance does not cover it."""
    if amount_fen < 0:
        raise ValueError("a debit is not negative")
    if amount_fen > principal_fen + bonus_fen:
        return None
    if bonus_first:
        bonus = min(bonus_fen, amount_fen)
        return amount_fen - bonus, bonus
    principal = min(principal_fen, amount_fen)
    return principal, amount_fen - principal


def give_back_split(
    amount_fen: int, *, spent_principal: int, spent_bonus: int, back_principal: int, back_bonus: int
) -> tuple[int, int]:
    """(principal, bonus) of a refund's wallet share, so that what has come back in all stays in the
    proportion it was spent: cumulative principal = floor(spent principal × cumulative back / spent), and
    a refund that returns the last fen returns each part exactly what is left of it."""
    spent = spent_principal + spent_bonus
    back = back_principal + back_bonus
    if amount_fen < 0 or back + amount_fen > spent:
        raise ValueError("a wallet refund gives back at most what the order spent")
    if spent == 0:
        return 0, 0
    principal = spent_principal * (back + amount_fen) // spent - back_principal
    return principal, amount_fen - principal


@dataclass(frozen=True)
class TopUpRefund:
    """What refunding a top-up does: the gateway returns `refund_fen`; the wallet loses `principal_fen`
    (the refund plus the value of the bonus already spent) and `bonus_fen` (the bonus still there)."""

    refund_fen: int
    principal_fen: int
    bonus_fen: int


def topup_refund(*, pay_fen: int, bonus_fen: int, principal_left: int, bonus_left: int) -> TopUpRefund:
    """A top-up refund: at most the top-up's principal still in the wallet; its bonus is taken back whole,
    from the bonus still there, and what of it was already spent is paid for out of that principal."""
    principal = min(pay_fen, principal_left)
    bonus = min(bonus_fen, bonus_left)
    owed = bonus_fen - bonus  # bonus of this top-up already spent
    charged = min(owed, principal)
    return TopUpRefund(refund_fen=principal - charged, principal_fen=principal, bonus_fen=bonus)
