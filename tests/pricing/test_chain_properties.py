"""Properties of the price chain over random carts and random rule sets."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from fissionmall.pricing.choice import best_coupon
from fissionmall.pricing.rules import (
    CartLine,
    CouponSpec,
    FreeShipping,
    FullGift,
    FullReduction,
    LimitedDiscount,
    PricingContext,
    ReductionTier,
    Scope,
    TieredPrice,
    price,
)

SKUS = list(range(1, 7))


@st.composite
def carts(draw):
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=6, unique=True))
    out = []
    for sku in skus:
        act = draw(st.one_of(st.none(), st.integers(0, 20_000))) if draw(st.integers(0, 4)) == 0 else None
        out.append(
            CartLine(
                sku_id=sku,
                product_id=sku,
                category_id=sku % 3,
                title=f"商品{sku}",
                sku_name="默认",
                unit_price_fen=draw(st.integers(0, 50_000)),
                qty=draw(st.integers(1, 20)),
                activity_price_fen=act,
            )
        )
    return out


scopes = st.one_of(
    st.just(Scope()),
    st.builds(
        Scope,
        kind=st.sampled_from(["products", "categories"]),
        ids=st.frozensets(st.integers(0, 6), max_size=4),
        exclude=st.booleans(),
    ),
)
tier = st.builds(
    ReductionTier,
    threshold=st.integers(1, 200_000),
    amount_fen=st.integers(0, 50_000),
    percent_bp=st.one_of(st.just(0), st.integers(1, 9_999)),
)
coupons = st.builds(
    CouponSpec,
    coupon_id=st.integers(1, 100),
    name=st.just("券"),
    kind=st.sampled_from(["amount", "percent"]),
    threshold_fen=st.integers(0, 100_000),
    amount_fen=st.integers(0, 50_000),
    percent_bp=st.integers(0, 10_000),
    max_discount_fen=st.one_of(st.none(), st.integers(0, 30_000)),
    scope=scopes,
    once_per_order=st.booleans(),
)
gift_line = CartLine(99, 99, None, "赠品", "默认", 3000, 1)


@st.composite
def contexts(draw):
    return PricingContext(
        shipping_fee_fen=draw(st.integers(0, 2000)),
        free_shipping=draw(st.booleans()),
        tiered=tuple(
            TieredPrice(
                i, sku, tuple(draw(st.lists(st.tuples(st.integers(1, 10), st.integers(0, 50_000)), max_size=3)))
            )
            for i, sku in enumerate(draw(st.lists(st.sampled_from(SKUS), max_size=2, unique=True)), 1)
        ),
        limited=tuple(
            LimitedDiscount(
                10 + i,
                sku,
                draw(st.one_of(st.none(), st.integers(0, 50_000))),
                draw(st.one_of(st.none(), st.integers(0, 10_000))),
            )
            for i, sku in enumerate(draw(st.lists(st.sampled_from(SKUS), max_size=2, unique=True)))
        ),
        member_rate_bp=draw(st.one_of(st.none(), st.integers(0, 10_000))),
        member_prices=draw(st.dictionaries(st.sampled_from(SKUS), st.integers(0, 50_000), max_size=2)),
        member_day_bp=draw(st.one_of(st.none(), st.integers(0, 10_000))),
        member_stacks_with_limited=draw(st.booleans()),
        reductions=tuple(
            FullReduction(20 + i, "满减", tuple(draw(st.lists(tier, min_size=1, max_size=3))), b, draw(scopes))
            for i, b in enumerate(draw(st.lists(st.sampled_from(["amount", "count"]), max_size=2)))
        ),
        gifts=tuple(
            FullGift(
                30 + i, "满赠", draw(st.integers(1, 100_000)), gift_line, "amount", draw(scopes), draw(st.booleans())
            )
            for i in range(draw(st.integers(0, 1)))
        ),
        free_shipping_rules=tuple(
            FreeShipping(40 + i, "满额包邮", draw(st.integers(0, 100_000)), draw(scopes))
            for i in range(draw(st.integers(0, 1)))
        ),
        coupon=draw(st.one_of(st.none(), coupons)),
        points_fen=draw(st.integers(0, 10_000)),
        points_cap_bp=draw(st.integers(0, 10_000)),
    )


@settings(max_examples=300, deadline=None)
@given(carts(), contexts())
def test_payable_never_negative_and_parts_sum_to_the_order(cart, ctx):
    q = price(cart, ctx)
    assert q.payable_fen >= 0
    assert sum(s.amount_fen for s in q.steps) == q.total_fen
    assert sum(p.payable_fen for p in q.lines) == q.payable_fen
    assert sum(p.discount_fen for p in q.lines) == q.discount_fen
    for p in q.lines:
        assert 0 <= p.discount_fen <= p.subtotal_fen  # a line is never below 0 nor above its list price
        assert 0 <= p.coupon_fen + p.points_fen <= p.discount_fen
        assert p.shipping_fen >= 0
    coupon_rows = [s.amount_fen for s in q.steps if s.kind == "coupon"]
    assert -sum(coupon_rows) == q.coupon_fen


@settings(max_examples=300, deadline=None)
@given(carts(), contexts())
def test_discounts_never_raise_a_price_and_same_input_gives_same_output(cart, ctx):
    q = price(cart, ctx)
    assert q == price(list(cart), ctx)
    assert all(s.amount_fen <= 0 for s in q.steps if s.kind not in ("goods", "shipping"))
    bare = price(cart, PricingContext(shipping_fee_fen=ctx.shipping_fee_fen, free_shipping=ctx.free_shipping))
    assert q.payable_fen <= bare.payable_fen


@settings(max_examples=300, deadline=None)
@given(carts(), contexts(), st.sampled_from(["coupon", "points", "limited", "tiered", "reductions", "free"]))
def test_removing_a_rule_never_makes_the_order_cheaper(cart, ctx, which):
    """Each of these only ever cuts the price: without it, the order costs at least as much."""
    fields = {
        "coupon": {"coupon": None},
        "points": {"points_fen": 0},
        "free": {"free_shipping_rules": ()},
        "limited": {"limited": ()},
        "tiered": {"tiered": ()},
        "reductions": {"reductions": ()},
    }[which]
    if which in ("limited", "tiered", "reductions"):
        # An earlier cut lowers the base a later threshold sees (99 misses 满100减20), so a price rule is
        # judged with the threshold rules after it off: that is where monotony holds, and should.
        ctx = replace(ctx, coupon=None, free_shipping_rules=(), points_fen=0, gifts=())
        if which != "reductions":
            ctx = replace(ctx, reductions=())
    with_rule = price(cart, ctx)
    without = price(cart, replace(ctx, **fields))
    assert without.payable_fen >= with_rule.payable_fen


@settings(max_examples=200, deadline=None)
@given(carts(), contexts(), st.lists(coupons, max_size=5, unique_by=lambda c: c.coupon_id))
def test_best_coupon_is_the_cheapest_choice_and_matches_pricing_with_it(cart, ctx, offered):
    ctx = replace(ctx, coupon=None)
    choice = best_coupon(cart, ctx, offered)
    plain = price(cart, ctx).payable_fen
    cheapest = min([plain] + [price(cart, replace(ctx, coupon=c)).payable_fen for c in offered])
    assert choice.quote.payable_fen == cheapest
    if choice.chosen is not None:
        assert choice.quote == price(cart, replace(ctx, coupon=choice.chosen))
    assert len(choice.usable) + len(choice.unusable) == len(offered)
