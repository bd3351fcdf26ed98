"""What paid an order and who gets each refund back: the order's side of tenders (pure).

An order paid by several tenders (checkout/tenders.py: the gateway, later the wallet and points as
cash) keeps them in `Order.tenders`: one entry per tender that took money, the gateway's last,

    [{"tender": "wallet", "amount_fen": 300, "refunded_fen": 0, "pending_fen": 0},
     {"tender": "gateway", "amount_fen": 700, "refunded_fen": 0, "pending_fen": 0}]

`pending_fen` is what refunds not yet decided or confirmed have reserved, `refunded_fen` what succeeded
refunds gave back. None (every plain order): the gateway took everything, and nothing here is read or
written. A refund's split over them is kept on the refund (`Refund.tender_parts`) when it is reserved,
so approving, rejecting and confirming it move exactly those amounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fissionmall.core.money import split

if TYPE_CHECKING:
    from fissionmall.orders.models import Order, Refund

GATEWAY = "gateway"

# What the shopper and the merchant call each tender ("余额"): a tool that adds a tender names it here at
# import time, so orders shows what paid an order without knowing the tool.
LABELS: dict[str, str] = {GATEWAY: "在线支付"}


def name_tender(name: str, label: str) -> None:
    """Give a tender the name shoppers and merchants read on an order."""
    LABELS[name] = label


def paid_by(order: Order) -> list[dict[str, Any]]:
    """What paid the order, tender by tender, for the order's page (nothing before it is paid)."""
    if order.paid_at is None:
        return []
    rows = order.tenders or [{"tender": GATEWAY, "amount_fen": order.paid_fen, "refunded_fen": order.refunded_fen}]
    return [
        {
            "tender": r["tender"],
            "label": LABELS.get(r["tender"], r["tender"]),
            "amount_fen": r["amount_fen"],
            "refunded_fen": r.get("refunded_fen", 0),
        }
        for r in rows
        if r["amount_fen"]
    ]


def gateway_due(order: Order) -> int:
    """What the order's payment must be: all of it without tenders, else the gateway's entry."""
    if order.tenders is None:
        return order.payable_fen
    return sum(t["amount_fen"] for t in order.tenders if t["tender"] == GATEWAY)


def gateway_share(refund: Refund) -> int:
    """What the gateway gives back of a refund (all of it when the refund has no split)."""
    if refund.tender_parts is None:
        return refund.amount_fen
    return sum(p["amount_fen"] for p in refund.tender_parts if p["tender"] == GATEWAY)


def entries(paid_by: Sequence[tuple[str, int]], payable_fen: int) -> list[dict[str, Any]] | None:
    """`Order.tenders` for the tenders a checkout collected: theirs, then the gateway's remainder."""
    if not paid_by:
        return None
    rows = [{"tender": name, "amount_fen": fen, "refunded_fen": 0, "pending_fen": 0} for name, fen in paid_by]
    rest = payable_fen - sum(fen for _, fen in paid_by)
    if rest:
        rows.append({"tender": GATEWAY, "amount_fen": rest, "refunded_fen": 0, "pending_fen": 0})
    return rows


def split_refund(amount_fen: int, left: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Split a refund over the tenders in proportion to what each has left to give back.

    Largest remainder (core.money.split): the shares sum to `amount_fen`, none is negative, none is more
    than its tender has left (a share is rounded up only when its exact value was not whole, so it stays
    under the tender's left), and a refund of everything left returns each tender exactly its remainder.
    """
    if amount_fen < 0 or any(fen < 0 for _, fen in left):
        raise ValueError("split_refund takes non-negative amounts")
    if amount_fen > sum(fen for _, fen in left):
        raise ValueError("a refund cannot be more than the tenders have left")
    if not left:
        return []
    shares = split(amount_fen, [fen for _, fen in left])
    return [(name, share) for (name, _), share in zip(left, shares, strict=True)]


def left_of(tenders: Sequence[dict[str, Any]]) -> list[tuple[str, int]]:
    """What each tender can still give back: paid, less refunded, less held by pending refunds."""
    return [(t["tender"], t["amount_fen"] - t["refunded_fen"] - t["pending_fen"]) for t in tenders]


def reserved(tenders: Sequence[dict[str, Any]], parts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The order's tenders once a refund's parts are reserved (pending)."""
    return _moved(tenders, parts, pending=+1, refunded=0)


def released(tenders: Sequence[dict[str, Any]], parts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The order's tenders once a rejected refund gives its reservation back."""
    return _moved(tenders, parts, pending=-1, refunded=0)


def given_back(tenders: Sequence[dict[str, Any]], parts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The order's tenders once a refund succeeded: its reservation becomes refunded."""
    return _moved(tenders, parts, pending=-1, refunded=+1)


def _moved(
    tenders: Sequence[dict[str, Any]], parts: Sequence[dict[str, Any]], *, pending: int, refunded: int
) -> list[dict[str, Any]]:
    by_name = {p["tender"]: p["amount_fen"] for p in parts}
    out = []
    for t in tenders:
        fen = by_name.get(t["tender"], 0)
        row = {
            **t,
            "pending_fen": t["pending_fen"] + pending * fen,
            "refunded_fen": t["refunded_fen"] + refunded * fen,
        }
        if row["pending_fen"] < 0 or row["refunded_fen"] + row["pending_fen"] > row["amount_fen"]:
            raise ValueError(f"tender {t['tender']!r} would give back more than it took")
        out.append(row)
    return out
