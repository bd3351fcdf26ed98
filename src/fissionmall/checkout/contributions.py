"""Contributions: how a domain plugs into checkout without checkout (or orders) importing it.

A domain registers one `Contribution` at import time (its `checkout` module, loaded with the handlers).
Checkout then, for every cart:

1. gathers: each contribution's `load` reads what it needs once (live promotions, the shopper's
   coupons; later the member's level, the points balance, the wallet);
2. prices: each `context` fills the pure `PricingContext` from what was loaded, the chain runs the
   registered `steps` in their `position` order (checkout's own steps included), and a `decide`
   may choose among options by re-running the chain (the best coupon);
3. places: inside the order's transaction, each contribution whose rows priced the order (`owns`
   says which steps are its own) takes what it priced in (`hold`: lock the coupon, reserve the gift;
   later hold points or a wallet amount). Raising `AppError` refuses the order with that code and
   the whole transaction, with every other contribution's hold, is rolled back;
4. follows the order: `cancelled` and `paid` run inside the cancelling / paying transaction, for
   orders whose steps it owns (release the coupon, give back gift stock; spend held points).

A contribution that pays part of the order with money of its own (the wallet, points as cash) says
how much through `tender`, after the chain: checkout/tenders.py describes what happens to it.

The chain stays pure: steps take lines and the context and return lines and explanation rows. A
contribution's own data reaches its steps through `PricingContext.parts[name]`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fissionmall.pricing.rules import CartLine, PricingContext, Quote, Step, StepFn

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fissionmall.checkout.plans import Plan
    from fissionmall.orders.models import Order
    from fissionmall.settings import Settings


@dataclass(frozen=True)
class Ask:
    """What a checkout is asked: who, which cart options, and whether it is a preview or an order."""

    customer_id: int | None
    coupon_id: int | None
    plan: Plan
    settings: Settings
    placing: bool  # False: a preview (the best coupon is picked when none is chosen)
    choose_coupon: bool = True  # False: the shopper wants no coupon (the list is still shown)
    options: Mapping[str, Any] | None = None  # a contribution's own request fields, by its name


Chain = tuple[StepFn, ...]
Runner = Callable[[PricingContext], Quote]


@dataclass(frozen=True)
class Decision:
    """What `decide` chose: the context to price with (or None: unchanged) and what the preview shows."""

    ctx: PricingContext | None = None
    info: Mapping[str, Any] | None = None
    quote: Quote | None = None  # the chain already run with `ctx`, when deciding needed it anyway


@dataclass(frozen=True)
class Contribution:
    name: str
    # The rows it adds to a quote (Step.ref prefixes, e.g. "coupon"): it follows orders priced by them.
    refs: tuple[str, ...] = ()
    load: Callable[[AsyncSession, Ask], Awaitable[Any]] | None = None
    context: Callable[[Any, PricingContext, Ask], PricingContext] | None = None
    steps: tuple[tuple[int, StepFn], ...] = ()  # (position, step): see POSITIONS
    decide: Callable[[Any, Sequence[CartLine], PricingContext, Chain, Ask], Decision] | None = None
    hold: Callable[[AsyncSession, Order, Quote, Any, Ask], Awaitable[None]] | None = None
    cancelled: Callable[[AsyncSession, Order], Awaitable[None]] | None = None
    paid: Callable[[AsyncSession, Order], Awaitable[None]] | None = None
    # (part, quote, ask) -> (tender name, fen) it pays of the quote's payable, or None: checkout/tenders.py.
    tender: Callable[[Any, Quote, Ask], tuple[str, int] | None] | None = None

    def owns(self, steps: Any) -> bool:
        """Whether an order's stored steps (dicts with `ref`) or a quote's steps carry one of its refs."""
        for st in steps or ():
            ref = st.get("ref", "") if isinstance(st, dict) else st.ref
            if ref and ref.split(":", 1)[0] in self.refs:
                return True
        return False


# Where the chain's steps sit (DESIGN.md's order); a contribution places its steps between them.
POSITIONS = {
    "goods": 0,
    "activity": 10,
    "tiered": 20,
    "member": 30,  # limited-time discount and member price: the better one
    "reduction": 40,  # 满减/满折, then 满赠
    "coupon": 50,
    "points": 60,
    "shipping": 90,
}

_registered: dict[str, Contribution] = {}
_chain_cache: dict[str, Chain] = {}


def register(c: Contribution) -> Contribution:
    """Plug a domain's contribution into checkout (once per name); the chain is rebuilt on next use."""
    if c.name in _registered and _registered[c.name] != c:
        raise RuntimeError(f"checkout contribution {c.name!r} registered twice")
    _registered[c.name] = c
    _chain_cache.clear()
    return c


def unregister(name: str) -> None:
    """Tests only: remove a contribution registered for one test."""
    _registered.pop(name, None)
    _chain_cache.clear()


def registered() -> list[Contribution]:
    """Every contribution, in registration order."""
    return list(_registered.values())


def chain(base: tuple[tuple[int, StepFn], ...]) -> Chain:
    """Checkout's own steps and every contribution's, in position order (ties: registration order)."""
    got = _chain_cache.get("chain")
    if got is None:
        placed = list(base) + [p for c in _registered.values() for p in c.steps]
        got = tuple(fn for _, fn in sorted(placed, key=lambda p: p[0]))
        _chain_cache["chain"] = got
    return got


__all__ = ["POSITIONS", "Ask", "Chain", "Contribution", "Decision", "Runner", "Step", "chain", "register"]
