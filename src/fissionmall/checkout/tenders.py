"""Tenders: what pays an order besides the gateway (later the wallet, points as cash), and gets its share back.

A tender is registered once, like a contribution (checkout/contributions.py), and a contribution says
how much of an order it pays (`Contribution.tender`: a `(tender name, fen)` or None). Checkout then:

1. places: after the chain, the contributions' amounts are collected (the same tender twice adds up);
   more than the order's payable is refused (TENDER_EXCEEDS_PAYABLE). They are written with the order
   (`Order.tenders`, the gateway's remainder last: orders/tenders.py), then each tender's `take` runs
   in the order's transaction (a wallet debits its ledger; raising `AppError` refuses the order and
   rolls everything back). The gateway is asked for the rest only; when the tenders pay everything
   the order is paid there and then, with no payment at all;
2. follows the order: `release` runs inside the transaction that cancels the unpaid order (give the
   held amount back); `give_back` runs inside the transaction that applies a succeeded refund, once
   per refund, with this tender's share of it (orders splits every refund over the tenders in
   proportion to what each has left, to the fen: `split_refund`).

The gateway is the implicit tender: nothing registers it, it pays whatever the others do not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fissionmall.orders.tenders import GATEWAY, split_refund

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fissionmall.orders.models import Order


@dataclass(frozen=True)
class Tender:
    name: str
    # (s, order, amount_fen): take the money, inside the order's transaction.
    take: Callable[[AsyncSession, Order, int], Awaitable[None]]
    # (s, order, amount_fen, refund_id): return a refund's share, inside the refund-succeeded transaction.
    give_back: Callable[[AsyncSession, Order, int, int], Awaitable[None]]
    # (s, order, amount_fen): the unpaid order was cancelled, inside the cancelling transaction.
    release: Callable[[AsyncSession, Order, int], Awaitable[None]] | None = None


_registered: dict[str, Tender] = {}


def register(t: Tender) -> Tender:
    """Make a tender (wallet, points as cash …) known to checkout; the gateway is implicit and never registered."""
    if t.name == GATEWAY:
        raise RuntimeError("the gateway is the implicit tender: it pays the rest and is not registered")
    if t.name in _registered and _registered[t.name] != t:
        raise RuntimeError(f"tender {t.name!r} registered twice")
    _registered[t.name] = t
    return t


def unregister(name: str) -> None:
    """Tests only: remove a tender registered for one test."""
    _registered.pop(name, None)


def get(name: str) -> Tender:
    """The registered tender of this name; an unknown one is a programming error."""
    t = _registered.get(name)
    if t is None:
        # A contribution named a tender nobody registered, or an order outlived its tender's code:
        # a programming error, not a shopper's.
        raise RuntimeError(f"no tender named {name!r}")
    return t


__all__ = ["GATEWAY", "Tender", "get", "register", "split_refund", "unregister"]
