"""Money is integer fen; rates are integer basis points (10000 = 100%).

Every rounding in the code base goes through `apply_bp` (round half up) and every
split of a whole over parts through `split` (largest remainder), so parts always
sum to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence

BP = 10_000


def apply_bp(amount_fen: int, rate_bp: int) -> int:
    """amount × rate, rounded half up to a whole fen. Both must be non-negative."""
    if amount_fen < 0 or rate_bp < 0:
        raise ValueError("apply_bp takes non-negative amounts and rates")
    return (amount_fen * rate_bp + BP // 2) // BP


def split(total_fen: int, weights: Sequence[int]) -> list[int]:
    """Split `total_fen` over `weights` in proportion, by largest remainder.

    The parts sum to `total_fen` exactly; ties go to the earlier part, so the
    result is deterministic. All-zero weights split evenly.
    """
    if total_fen < 0:
        raise ValueError("split takes a non-negative total")
    if any(w < 0 for w in weights):
        raise ValueError("split takes non-negative weights")
    n = len(weights)
    if n == 0:
        if total_fen:
            raise ValueError("cannot split a non-zero total over no parts")
        return []
    ws = list(weights) if sum(weights) > 0 else [1] * n
    wsum = sum(ws)
    parts = [total_fen * w // wsum for w in ws]
    remainders = [total_fen * w % wsum for w in ws]
    short = total_fen - sum(parts)
    for i in sorted(range(n), key=lambda i: (-remainders[i], i))[:short]:
        parts[i] += 1
    return parts


def yuan(fen: int) -> str:
    """Display form: 1234 -> '12.34'."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def yuan_text(fen: int) -> str:
    """Money in a sentence a shopper reads: whole yuan when exact, else two decimals (15310 -> '153.10')."""
    s = yuan(fen)
    return s[:-3] if fen % 100 == 0 else s
