"""The price chain of DESIGN.md as pure functions: no I/O, no ORM, no FastAPI.

A checkout is priced by an ordered list of steps. Each step takes the lines as
priced so far plus the context and returns new lines plus the rows it adds to
the explanation. Order-level amounts (a discount, the shipping fee) are split
over lines by largest remainder, so every line carries its exact share and
refunds and commissions can use per-line figures. Later issues add steps
(activity, tiered, member, full-reduction, coupon, points) to `CHAIN`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from fissionmall.core.money import split, yuan


@dataclass(frozen=True)
class CartLine:
    sku_id: int
    product_id: int
    category_id: int | None
    title: str
    sku_name: str
    unit_price_fen: int  # the catalogue price
    qty: int
    activity_price_fen: int | None = None  # seckill / group / bargain price, when the line comes from one
    activity_label: str = ""


@dataclass(frozen=True)
class PricedLine:
    line: CartLine
    subtotal_fen: int  # unit price × qty, before any discount
    discount_fen: int = 0  # this line's share of every discount
    shipping_fen: int = 0  # this line's share of the shipping fee

    @property
    def goods_payable_fen(self) -> int:
        """What the shopper pays for the goods on this line: the commission base."""
        return self.subtotal_fen - self.discount_fen

    @property
    def payable_fen(self) -> int:
        return self.subtotal_fen - self.discount_fen + self.shipping_fen


@dataclass(frozen=True)
class Step:
    kind: str
    label: str  # Chinese, shown as is in the shop and the console
    amount_fen: int  # signed: discounts negative, charges positive


@dataclass(frozen=True)
class PricingContext:
    shipping_fee_fen: int
    free_shipping: bool = False


@dataclass(frozen=True)
class Quote:
    lines: tuple[PricedLine, ...]
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def goods_fen(self) -> int:
        return sum(p.subtotal_fen for p in self.lines)

    @property
    def discount_fen(self) -> int:
        return sum(p.discount_fen for p in self.lines)

    @property
    def shipping_fen(self) -> int:
        return sum(p.shipping_fen for p in self.lines)

    @property
    def total_fen(self) -> int:
        return self.goods_fen - self.discount_fen + self.shipping_fen

    @property
    def payable_fen(self) -> int:
        # Stored value, when it lands, is a tender against total_fen, not a discount.
        return self.total_fen


StepFn = Callable[[tuple[PricedLine, ...], PricingContext], tuple[tuple[PricedLine, ...], list[Step]]]


def activity_step(lines: tuple[PricedLine, ...], ctx: PricingContext) -> tuple[tuple[PricedLine, ...], list[Step]]:
    """Step 1: a line sold by a marketing activity sells at the activity's unit price (never above list)."""
    out, cut, labels = [], 0, []
    for p in lines:
        act = p.line.activity_price_fen
        if act is None or act >= p.line.unit_price_fen:
            out.append(p)
            continue
        d = (p.line.unit_price_fen - act) * p.line.qty
        cut += d
        labels.append(p.line.activity_label or "活动价")
        out.append(replace(p, discount_fen=p.discount_fen + d))
    if not cut:
        return lines, []
    label = labels[0] if len(set(labels)) == 1 else "活动价"
    return tuple(out), [Step("activity", label, -cut)]


def goods_step(lines: tuple[PricedLine, ...], ctx: PricingContext) -> tuple[tuple[PricedLine, ...], list[Step]]:
    total = sum(p.subtotal_fen for p in lines)
    return lines, [Step("goods", "商品金额", total)]


def shipping_step(lines: tuple[PricedLine, ...], ctx: PricingContext) -> tuple[tuple[PricedLine, ...], list[Step]]:
    fee = 0 if ctx.free_shipping else ctx.shipping_fee_fen
    if not lines:
        return lines, []
    shares = split(fee, [p.subtotal_fen for p in lines])
    out = tuple(replace(p, shipping_fen=p.shipping_fen + sh) for p, sh in zip(lines, shares, strict=True))
    label = "运费" if fee else "运费（包邮）"
    return out, [Step("shipping", label, fee)]


# goods_step only states the sum; activity_step is the first step that changes a price (DESIGN.md).
CHAIN: list[StepFn] = [goods_step, activity_step, shipping_step]


def price(cart: Sequence[CartLine], ctx: PricingContext, chain: Sequence[StepFn] | None = None) -> Quote:
    """Price a cart through the chain. Same input, same output."""
    lines = tuple(PricedLine(line=c, subtotal_fen=c.unit_price_fen * c.qty) for c in cart)
    steps: list[Step] = []
    for fn in chain if chain is not None else CHAIN:
        lines, rows = fn(lines, ctx)
        steps.extend(rows)
    return Quote(lines=lines, steps=tuple(steps))


def unit_amounts(payable_fen: int, qty: int) -> list[int]:
    """A line's payable split over its units, so refunding k of n units is exact."""
    return split(payable_fen, [1] * qty)


def refund_amount(payable_fen: int, qty: int, already_refunded_qty: int, refund_qty: int) -> int:
    """What refunding `refund_qty` more units of a line returns; all units together return it all."""
    units = unit_amounts(payable_fen, qty)
    return sum(units[already_refunded_qty : already_refunded_qty + refund_qty])


def describe(step: Step) -> str:
    sign = "-" if step.amount_fen < 0 else ""
    return f"{step.label} {sign}¥{yuan(abs(step.amount_fen))}"
