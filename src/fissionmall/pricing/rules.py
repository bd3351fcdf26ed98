"""The price chain of DESIGN.md as pure functions: no I/O, no ORM, no FastAPI.

A checkout is priced by an ordered list of steps. Each step takes the lines as
priced so far plus the context and returns new lines plus the rows it adds to
the explanation. Order-level amounts (a discount, the shipping fee) are split
over lines by largest remainder, so every line carries its exact share and
refunds and commissions can use per-line figures.

The chain: goods → activity price → tiered price → limited-time / member price
→ full-reduction, full-gift → coupon → points → shipping. Lines sold by an
activity (seckill, group, bargain) and gift lines take no promotion and no
coupon: the activity price is exclusive. Every percentage applies to what the
line costs at that point of the chain, never to the list price, so stacked
percentages multiply instead of adding up to a free order (Saleor #17453).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from fissionmall.core.money import BP, apply_bp, split, yuan, yuan_text
from fissionmall.pricing.errors import PricingError
from fissionmall.shipping import rules as ship


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
    gift_of: int | None = None  # the full-gift promotion that added this line at 0
    image: str | None = field(default=None, compare=False)  # the product's cover, shown beside the line


@dataclass(frozen=True)
class PricedLine:
    line: CartLine
    subtotal_fen: int  # unit price × qty, before any discount
    discount_fen: int = 0  # this line's share of every discount
    shipping_fen: int = 0  # this line's share of the shipping fee
    coupon_fen: int = 0  # the part of discount_fen that is the coupon's share
    points_fen: int = 0  # the part of discount_fen that points paid for

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
    ref: str = ""  # the rule behind the row ("promotion:12", "coupon:34"), for usage figures
    code: str = ""  # a refusal note's code (PricingError), never guessed from the label


# Rows of these kinds are notes (tier hints, why the coupon did not apply), not price steps.
NOTE_KINDS = frozenset({"hint", "coupon_refused"})


# ---- rules the context carries (built by promotions/ and coupons/ from their tables) ----------------


@dataclass(frozen=True)
class Scope:
    """Which lines a rule covers: all, or products / categories by id, included or excluded."""

    kind: str = "all"  # all | products | categories
    ids: frozenset[int] = frozenset()
    exclude: bool = False

    def covers(self, line: CartLine) -> bool:
        if self.kind == "all":
            return True
        key = line.product_id if self.kind == "products" else line.category_id
        return (key in self.ids) != self.exclude


@dataclass(frozen=True)
class TieredPrice:
    """阶梯价: the unit price of one SKU by quantity bought, e.g. ((1, 5000), (3, 4000), (5, 4000))."""

    rule_id: int
    sku_id: int
    tiers: tuple[tuple[int, int], ...]  # (min_qty, unit_price_fen)
    label: str = "阶梯价"


@dataclass(frozen=True)
class LimitedDiscount:
    """限时折扣 on one SKU: a fixed unit price, or a percentage off."""

    rule_id: int
    sku_id: int
    price_fen: int | None = None
    percent_bp: int | None = None  # off: 2000 = 20% off (8折)
    label: str = "限时折扣"


@dataclass(frozen=True)
class ReductionTier:
    threshold: int  # fen (basis amount) or items (basis count)
    amount_fen: int = 0
    percent_bp: int = 0  # off


@dataclass(frozen=True)
class FullReduction:
    """满减 / 满折: the best tier reached by the covered lines, by amount or by item count."""

    rule_id: int
    name: str
    tiers: tuple[ReductionTier, ...]
    basis: str = "amount"  # amount | count
    scope: Scope = Scope()


@dataclass(frozen=True)
class FullGift:
    """满赠: a gift line at 0 once the covered lines reach the threshold (and the gift stock lasts)."""

    rule_id: int
    name: str
    threshold: int
    gift: CartLine  # the gift SKU as a cart line (its list price is shown, it sells at 0)
    basis: str = "amount"
    scope: Scope = Scope()
    in_stock: bool = True


@dataclass(frozen=True)
class FreeShipping:
    """满额包邮: covered lines reaching the threshold (after promotions, before the coupon) ship free."""

    rule_id: int
    name: str
    threshold_fen: int
    scope: Scope = Scope()


@dataclass(frozen=True)
class CouponSpec:
    coupon_id: int
    name: str
    kind: str  # amount | percent
    threshold_fen: int = 0
    amount_fen: int = 0
    percent_bp: int = 0  # off
    max_discount_fen: int | None = None  # cap for percent coupons
    scope: Scope = Scope()
    once_per_order: bool = False  # the discount applies to one unit: the cheapest covered one


@dataclass(frozen=True)
class PricingContext:
    shipping_fee_fen: int  # the flat fee, when the shop has no shipping template (`shipping` None)
    free_shipping: bool = False
    shipping: ship.Book | None = None  # the shop's 运费模板 and where the order goes (checkout fills it)
    tiered: tuple[TieredPrice, ...] = ()
    limited: tuple[LimitedDiscount, ...] = ()
    # Membership hook: the member's rate (9500 = 95折); None when the shopper has no member price.
    # Contributions combine theirs with min() (a level's rate and a paid plan's: the better one), so
    # the order they run in does not matter.
    member_rate_bp: int | None = None
    # A paid member's fixed unit prices by SKU (会员价); the better of this and the rate applies per line.
    member_prices: Mapping[int, int] = field(default_factory=dict)
    # 会员日: an extra rate on what the member price left (8000 = 8折), for members only (a shopper with
    # a member rate or member prices); None on other days.
    member_day_bp: int | None = None
    member_stacks_with_limited: bool = False  # default: the better of member vs limited-time, not both
    reductions: tuple[FullReduction, ...] = ()
    gifts: tuple[FullGift, ...] = ()
    free_shipping_rules: tuple[FreeShipping, ...] = ()
    coupon: CouponSpec | None = None
    points_fen: int = 0  # the money value of the points the shopper spends (loyalty converts)
    points_cap_bp: int = BP  # points pay at most this share of the goods payable
    # A checkout contribution's own rules for its own steps, by the contribution's name.
    parts: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Quote:
    lines: tuple[PricedLine, ...]
    steps: tuple[Step, ...] = field(default_factory=tuple)
    notes: tuple[Step, ...] = field(default_factory=tuple)
    # What checkout shows beside the price (coupon lists, tier hints), filled in by the services.
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

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

    @property
    def coupon_fen(self) -> int:
        return sum(p.coupon_fen for p in self.lines)

    @property
    def hints(self) -> tuple[str, ...]:
        return tuple(n.label for n in self.notes if n.kind == "hint")

    @property
    def coupon_refusal(self) -> str | None:
        return next((n.label for n in self.notes if n.kind == "coupon_refused"), None)

    @property
    def coupon_refusal_code(self) -> str | None:
        return next((n.code for n in self.notes if n.kind == "coupon_refused"), None)


Lines = tuple[PricedLine, ...]
StepFn = Callable[[Lines, PricingContext], tuple[Lines, list[Step]]]
short_yuan = ship.short_yuan  # 12.00 -> '12', 12.50 -> '12.5': how amounts read in a label


def _left(p: PricedLine) -> int:
    return p.subtotal_fen - p.discount_fen


def _promotable(p: PricedLine) -> bool:
    """Activity-priced lines and gifts take no promotion and no coupon."""
    return p.line.activity_price_fen is None and p.line.gift_of is None


def _discount(lines: Lines, idx: Sequence[int], total: int, attr: str | None = None) -> Lines:
    """Split `total` over lines `idx` by what each still costs (never more than a line has left)."""
    out = list(lines)
    shares = split(total, [_left(lines[i]) for i in idx])
    for i, sh in zip(idx, shares, strict=True):
        p = out[i]
        p = replace(p, discount_fen=p.discount_fen + sh)
        if attr:
            p = replace(p, **{attr: getattr(p, attr) + sh})
        out[i] = p
    return tuple(out)


def goods_step(lines: Lines, ctx: PricingContext) -> tuple[Lines, list[Step]]:
    total = sum(p.subtotal_fen for p in lines)
    return lines, [Step("goods", "商品金额", total)]


def activity_step(lines: Lines, ctx: PricingContext) -> tuple[Lines, list[Step]]:
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


def tiered_step(lines: Lines, ctx: PricingContext) -> tuple[Lines, list[Step]]:
    """Step 2: 阶梯价, the unit price of the highest quantity tier reached (only ever lower than list)."""
    by_sku = {t.sku_id: t for t in sorted(ctx.tiered, key=lambda t: t.rule_id, reverse=True)}
    out, rows = list(lines), []
    for i, p in enumerate(lines):
        rule = by_sku.get(p.line.sku_id)
        if rule is None or not _promotable(p):
            continue
        reached = [price_ for q, price_ in sorted(rule.tiers) if q <= p.line.qty]
        nxt = [(q, pr) for q, pr in sorted(rule.tiers) if q > p.line.qty]
        if nxt:
            q, pr = nxt[0]
            rows.append(Step("hint", f"{p.line.title}再买{q - p.line.qty}件，每件{yuan_text(pr)}元", 0))
        if not reached:
            continue
        cut = min(max(0, (p.line.unit_price_fen - reached[-1]) * p.line.qty), _left(p))
        if cut:
            out[i] = replace(p, discount_fen=p.discount_fen + cut)
            rows.append(Step("tiered", f"{rule.label}（{p.line.title}）", -cut, f"promotion:{rule.rule_id}"))
    return tuple(out), rows


def member_step(lines: Lines, ctx: PricingContext) -> tuple[Lines, list[Step]]:
    """Step 3: limited-time discount and member price: the better one, or both when configured.

    The member's cut on a line is the better of the member rate and the SKU's member price, then the
    member day's extra rate on what is left; that whole member cut is weighed against the limited-time
    discount (the shopper gets the larger), unless the merchant lets them stack (member on what the
    limited discount left)."""
    by_sku = {d.sku_id: d for d in sorted(ctx.limited, key=lambda d: d.rule_id, reverse=True)}
    is_member = ctx.member_rate_bp is not None or bool(ctx.member_prices)
    out = list(lines)
    limited: dict[str, int] = {}
    member = 0
    day = 0
    for i, p in enumerate(lines):
        if not _promotable(p):
            continue
        left = _left(p)
        rule = by_sku.get(p.line.sku_id)
        lim = 0
        if rule is not None:
            if rule.price_fen is not None:
                lim = max(0, left - rule.price_fen * p.line.qty)
            elif rule.percent_bp:
                lim = apply_bp(left, min(rule.percent_bp, BP))
        mem = dmem = 0
        if is_member:
            base = left - lim if ctx.member_stacks_with_limited else left
            if ctx.member_rate_bp is not None:
                mem = base - apply_bp(base, min(ctx.member_rate_bp, BP))
            price = ctx.member_prices.get(p.line.sku_id)
            if price is not None:
                mem = max(mem, base - min(base, price * p.line.qty))
            if ctx.member_day_bp is not None:
                dmem = (base - mem) - apply_bp(base - mem, min(ctx.member_day_bp, BP))
        if not ctx.member_stacks_with_limited:
            if mem + dmem > lim:
                lim = 0
            else:
                mem = dmem = 0
        if lim and rule is not None:
            key = f"{rule.label}|promotion:{rule.rule_id}"
            limited[key] = limited.get(key, 0) + lim
        member += mem
        day += dmem
        if lim or mem or dmem:
            out[i] = replace(p, discount_fen=p.discount_fen + lim + mem + dmem)
    rows = [Step("limited", k.split("|")[0], -v, k.split("|")[1]) for k, v in limited.items()]
    if member:
        rows.append(Step("member", "会员价", -member, "membership"))
    if day:
        rate = ctx.member_day_bp or BP
        rows.append(
            Step(
                "member",
                f"会员日{short_yuan(rate // 10)}折" if rate % 10 == 0 else "会员日折扣",
                -day,
                "membership:day",
            )
        )
    return tuple(out), rows


def _measure(lines: Lines, idx: Sequence[int], basis: str) -> int:
    if basis == "count":
        return sum(lines[i].line.qty for i in idx)
    return sum(_left(lines[i]) for i in idx)


def _need(gap: int, basis: str) -> str:
    return f"再买{gap}件" if basis == "count" else f"再买{yuan_text(gap)}元"


def _tier_text(t: ReductionTier) -> str:
    if t.percent_bp:
        return f"享{short_yuan((BP - t.percent_bp) // 10)}折" if (BP - t.percent_bp) % 10 == 0 else "享折扣"
    return f"减{yuan_text(t.amount_fen)}元"


def reduction_step(lines: Lines, ctx: PricingContext) -> tuple[Lines, list[Step]]:
    """Step 4: 满减/满折 (each line in at most one), then 满赠. Tier hints for the next tier up."""
    rows: list[Step] = []
    used: set[int] = set()
    for rule in sorted(ctx.reductions, key=lambda r: r.rule_id):
        idx = [i for i, p in enumerate(lines) if _promotable(p) and i not in used and rule.scope.covers(p.line)]
        if not idx:
            continue
        measure = _measure(lines, idx, rule.basis)
        tiers = sorted(rule.tiers, key=lambda t: t.threshold)
        reached = [t for t in tiers if t.threshold <= measure]
        above = [t for t in tiers if t.threshold > measure]
        if above:
            rows.append(Step("hint", f"{_need(above[0].threshold - measure, rule.basis)}{_tier_text(above[0])}", 0))
        if not reached:
            continue
        tier = reached[-1]
        base = sum(_left(lines[i]) for i in idx)
        cut = tier.amount_fen if not tier.percent_bp else apply_bp(base, min(tier.percent_bp, BP))
        cut = min(cut, base)
        used.update(idx)
        if cut:
            lines = _discount(lines, idx, cut)
            rows.append(Step("reduction", rule.name, -cut, f"promotion:{rule.rule_id}"))
    gifts = []
    for g_rule in sorted(ctx.gifts, key=lambda r: r.rule_id):
        idx = [i for i, p in enumerate(lines) if _promotable(p) and g_rule.scope.covers(p.line)]
        measure = _measure(lines, idx, g_rule.basis) if idx else 0
        if not g_rule.in_stock:
            continue
        if measure < g_rule.threshold:
            if idx:
                rows.append(Step("hint", f"{_need(g_rule.threshold - measure, g_rule.basis)}送{g_rule.gift.title}", 0))
            continue
        g = replace(g_rule.gift, unit_price_fen=0, gift_of=g_rule.rule_id, activity_price_fen=None)
        gifts.append(PricedLine(line=g, subtotal_fen=0))
        rows.append(
            Step("gift", f"{g_rule.name}：赠{g_rule.gift.title}×{g_rule.gift.qty}", 0, f"promotion:{g_rule.rule_id}")
        )
    return lines + tuple(gifts), rows


@dataclass(frozen=True)
class Refusal:
    code: PricingError
    text: str  # what the shopper reads ("还差12元可用")


def coupon_applicable(lines: Lines, coupon: CouponSpec) -> tuple[list[int], int, Refusal | None]:
    """The covered lines, their amount left, and why the coupon does not apply (None when it does)."""
    idx = [i for i, p in enumerate(lines) if _promotable(p) and coupon.scope.covers(p.line) and _left(p) > 0]
    if not idx:
        return idx, 0, Refusal(PricingError.COUPON_NOT_APPLICABLE, "所选商品不可用此券")
    base = sum(_left(lines[i]) for i in idx)
    if base < coupon.threshold_fen:
        return (
            idx,
            base,
            Refusal(PricingError.COUPON_BELOW_THRESHOLD, f"还差{yuan_text(coupon.threshold_fen - base)}元可用"),
        )
    return idx, base, None


def coupon_discount(lines: Lines, coupon: CouponSpec) -> tuple[Lines, int]:
    """Apply one coupon to the covered lines (assumed applicable). Returns the lines and the cut."""
    idx, base, _ = coupon_applicable(lines, coupon)
    if coupon.once_per_order:
        # One unit only: the cheapest covered unit, chosen among the covered lines (Saleor #12107).
        def unit(i: int) -> int:
            return min(split(_left(lines[i]), [1] * lines[i].line.qty))

        target = min(idx, key=lambda i: (unit(i), i))
        idx, base = [target], unit(target)
    if coupon.kind == "percent":
        cut = apply_bp(base, min(coupon.percent_bp, BP))
        if coupon.max_discount_fen is not None:
            cut = min(cut, coupon.max_discount_fen)
    else:
        cut = coupon.amount_fen
    cut = min(cut, base)
    if not cut:
        return lines, 0
    if len(idx) == 1:
        i = idx[0]
        out = list(lines)
        out[i] = replace(lines[i], discount_fen=lines[i].discount_fen + cut, coupon_fen=lines[i].coupon_fen + cut)
        return tuple(out), cut
    return _discount(lines, idx, cut, "coupon_fen"), cut


def coupon_step(lines: Lines, ctx: PricingContext) -> tuple[Lines, list[Step]]:
    """Step 5: one coupon per order, on the lines it covers, split by largest remainder."""
    c = ctx.coupon
    if c is None:
        return lines, []
    _, _, refusal = coupon_applicable(lines, c)
    if refusal is not None:
        return lines, [Step("coupon_refused", refusal.text, 0, f"coupon:{c.coupon_id}", refusal.code)]
    lines, cut = coupon_discount(lines, c)
    if not cut:
        return lines, []
    return lines, [Step("coupon", f"优惠券：{c.name}", -cut, f"coupon:{c.coupon_id}")]


def points_step(lines: Lines, ctx: PricingContext) -> tuple[Lines, list[Step]]:
    """Step 6: points pay for part of the goods, at most `points_cap_bp` of what is left."""
    if ctx.points_fen <= 0:
        return lines, []
    idx = [i for i, p in enumerate(lines) if _left(p) > 0]
    left = sum(_left(lines[i]) for i in idx)
    cut = min(ctx.points_fen, apply_bp(left, min(ctx.points_cap_bp, BP)))
    if not cut:
        return lines, []
    return _discount(lines, idx, cut, "points_fen"), [Step("points", "积分抵扣", -cut, "points")]


def shipping_step(lines: Lines, ctx: PricingContext) -> tuple[Lines, list[Step]]:
    """Step 7: the shipping fee (by template, else flat) and how it is made up, waived by a free-shipping
    rule met before the coupon."""
    if not lines:
        return lines, []
    free, label, ref = ctx.free_shipping, "运费（包邮）", ""
    if not free:
        for rule in sorted(ctx.free_shipping_rules, key=lambda r: r.rule_id):
            # Judged after promotions but before the coupon and points: a coupon never costs free shipping.
            covered = [p for p in lines if _promotable(p) and rule.scope.covers(p.line)]
            measure = sum(_left(p) + p.coupon_fen + p.points_fen for p in covered)
            if covered and measure >= rule.threshold_fen:
                free, label, ref = True, f"运费（{rule.name}）", f"promotion:{rule.rule_id}"
                break
    if ctx.shipping is not None and not free:
        got = ship.charge(ctx.shipping, ship.items_of(lines))  # 满额包邮 judged as the promotions' above
        fee, label, shares = got.fee_fen, got.label, list(got.shares)
    else:
        fee = 0 if free else ctx.shipping_fee_fen
        shares = split(fee, [p.subtotal_fen for p in lines])
        label = "运费" if fee else label
    out = tuple(replace(p, shipping_fen=p.shipping_fen + sh) for p, sh in zip(lines, shares, strict=True))
    return out, [Step("shipping", label, fee, ref)]


# goods_step only states the sum; activity_step is the first step that changes a price (DESIGN.md).
CHAIN: list[StepFn] = [
    goods_step,
    activity_step,
    tiered_step,
    member_step,
    reduction_step,
    coupon_step,
    points_step,
    shipping_step,
]


def _run(lines: Lines, ctx: PricingContext, chain: Sequence[StepFn]) -> tuple[Lines, list[Step]]:
    steps: list[Step] = []
    for fn in chain:
        lines, rows = fn(lines, ctx)
        steps.extend(rows)
    return lines, steps


def _start(cart: Sequence[CartLine]) -> Lines:
    return tuple(PricedLine(line=c, subtotal_fen=c.unit_price_fen * c.qty) for c in cart)


def _quote(lines: Lines, steps: list[Step]) -> Quote:
    return Quote(
        lines=lines,
        steps=tuple(s for s in steps if s.kind not in NOTE_KINDS),
        notes=tuple(s for s in steps if s.kind in NOTE_KINDS),
    )


def price(cart: Sequence[CartLine], ctx: PricingContext, chain: Sequence[StepFn] | None = None) -> Quote:
    """Price a cart through the chain. Same input, same output."""
    lines, steps = _run(_start(cart), ctx, chain if chain is not None else CHAIN)
    return _quote(lines, steps)


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
