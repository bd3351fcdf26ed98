"""The chain's steps on exact figures, and the public bugs they must not repeat."""

from __future__ import annotations

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


def line(sku: int, price_fen: int, qty: int = 1, **kw) -> CartLine:
    return CartLine(sku, sku, kw.pop("category_id", None), f"商品{sku}", "默认", price_fen, qty, **kw)


CTX = PricingContext(shipping_fee_fen=800)


def test_percent_coupon_on_a_percent_promotion_multiplies_and_never_makes_the_order_free():
    """Saleor #17453: 50% promotion + 50% coupon was 100% off; here it is 75% off."""
    ctx = PricingContext(
        shipping_fee_fen=0,
        limited=(LimitedDiscount(1, 1, percent_bp=5000),),
        coupon=CouponSpec(9, "半价券", "percent", percent_bp=5000),
    )
    q = price([line(1, 10_000)], ctx)
    assert [(s.kind, s.amount_fen) for s in q.steps] == [
        ("goods", 10_000),
        ("limited", -5000),
        ("coupon", -2500),
        ("shipping", 0),
    ]
    assert q.payable_fen == 2500


def test_once_per_order_coupon_lands_on_the_cheapest_covered_unit_not_the_cheapest_in_the_cart():
    """Saleor #12107: the once-per-order discount went to the cheapest line even when out of scope."""
    coupon = CouponSpec(
        9, "A 商品减10", "amount", amount_fen=1000, scope=Scope("products", frozenset({2})), once_per_order=True
    )
    q = price([line(1, 500, 2), line(2, 3000, 2)], PricingContext(shipping_fee_fen=0, coupon=coupon))
    assert [p.coupon_fen for p in q.lines] == [0, 1000]


def test_percent_once_per_order_takes_one_unit_only():
    coupon = CouponSpec(9, "单件5折", "percent", percent_bp=5000, once_per_order=True)
    q = price([line(1, 3000, 3)], PricingContext(shipping_fee_fen=0, coupon=coupon))
    assert q.coupon_fen == 1500


def test_order_level_discounts_split_by_largest_remainder_and_sum_exactly():
    red = FullReduction(1, "满100减10", (ReductionTier(10_000, amount_fen=1000),))
    q = price(
        [line(1, 3333, 1), line(2, 3333, 1), line(3, 3334, 1)], PricingContext(shipping_fee_fen=0, reductions=(red,))
    )
    assert [p.discount_fen for p in q.lines] == [333, 333, 334]


def test_full_reduction_takes_the_highest_tier_reached_and_hints_the_next():
    red = FullReduction(1, "满减", (ReductionTier(10_000, amount_fen=2000), ReductionTier(30_000, amount_fen=5000)))
    q = price([line(1, 12_000)], PricingContext(shipping_fee_fen=0, reductions=(red,)))
    assert q.discount_fen == 2000
    assert q.hints == ("再买180元减50元",)


def test_the_hint_names_money_in_two_decimals_or_whole_yuan():
    """The demo's nudge read "再买153.1元减30元"."""
    red = FullReduction(1, "满199减30", (ReductionTier(19_900, amount_fen=3000),))
    assert price([line(1, 4590)], PricingContext(shipping_fee_fen=0, reductions=(red,))).hints == (
        "再买153.10元减30元",
    )
    odd = FullReduction(1, "满199减30.5", (ReductionTier(19_900, amount_fen=3050),))
    assert price([line(1, 9900)], PricingContext(shipping_fee_fen=0, reductions=(odd,))).hints == (
        "再买100元减30.50元",
    )


def test_count_tier_9折_and_its_hint():
    red = FullReduction(1, "满2件9折", (ReductionTier(2, percent_bp=1000),), basis="count")
    assert price([line(1, 5000)], PricingContext(shipping_fee_fen=0, reductions=(red,))).hints == ("再买1件享9折",)
    assert price([line(1, 5000, 2)], PricingContext(shipping_fee_fen=0, reductions=(red,))).discount_fen == 1000


def test_tiered_price_1_for_50_3_for_120_5_for_200():
    tiers = TieredPrice(1, 1, ((1, 5000), (3, 4000), (5, 4000)))
    ctx = PricingContext(shipping_fee_fen=0, tiered=(tiers,))
    assert price([line(1, 5000, 2)], ctx).payable_fen == 10_000
    assert price([line(1, 5000, 3)], ctx).payable_fen == 12_000
    assert price([line(1, 5000, 5)], ctx).payable_fen == 20_000


def test_member_and_limited_take_the_better_one_unless_configured_to_stack():
    ctx = PricingContext(shipping_fee_fen=0, limited=(LimitedDiscount(1, 1, percent_bp=1000),), member_rate_bp=8000)
    assert price([line(1, 10_000)], ctx).payable_fen == 8000
    assert (
        price([line(1, 10_000)], PricingContext(**{**ctx.__dict__, "member_stacks_with_limited": True})).payable_fen
        == 7200
    )


def test_member_price_member_rate_and_member_day_take_the_better_then_the_day_on_what_is_left():
    # 9.5折 on 100.00 is 95.00; the SKU's member price 90.00 is better; the member day's 8折 on 90.00: 72.00.
    ctx = PricingContext(shipping_fee_fen=0, member_rate_bp=9500, member_prices={1: 9000}, member_day_bp=8000)
    q = price([line(1, 10_000), line(2, 10_000)], ctx)
    assert [(s.label, s.amount_fen, s.ref) for s in q.steps if s.kind == "member"] == [
        ("会员价", -1000 - 500, "membership"),
        ("会员日8折", -1800 - 1900, "membership:day"),
    ]
    assert q.payable_fen == 7200 + 7600
    # A shopper who is no member gets no member-day price.
    assert price([line(1, 10_000)], PricingContext(shipping_fee_fen=0, member_day_bp=8000)).payable_fen == 10_000
    # The whole member cut (price and day: 28.00) is weighed against a 30% limited-time discount: limited wins.
    lim = PricingContext(**{**ctx.__dict__, "limited": (LimitedDiscount(5, 1, percent_bp=3000),)})
    assert price([line(1, 10_000)], lim).payable_fen == 7000


def test_a_coupon_after_a_member_discount_is_computed_on_the_member_price():
    """Xboard #259: member discount and coupon both taken from the list price; here in sequence."""
    ctx = PricingContext(
        shipping_fee_fen=0, member_rate_bp=9000, coupon=CouponSpec(9, "券", "percent", percent_bp=1000)
    )
    assert price([line(1, 10_000)], ctx).payable_fen == 8100  # 100 × 0.9 × 0.9, not 100 − 10 − 10


def test_activity_lines_take_no_promotion_and_no_coupon():
    red = FullReduction(1, "满减", (ReductionTier(1000, amount_fen=500),))
    ctx = PricingContext(shipping_fee_fen=0, reductions=(red,), coupon=CouponSpec(9, "券", "amount", amount_fen=100))
    q = price([line(1, 5000, activity_price_fen=3000, activity_label="秒杀价")], ctx)
    assert [(s.kind, s.amount_fen) for s in q.steps] == [("goods", 5000), ("activity", -2000), ("shipping", 0)]
    assert q.coupon_refusal == "所选商品不可用此券"


def test_gift_line_at_zero_and_free_shipping_judged_before_the_coupon():
    gift = FullGift(2, "满99赠", 9900, line(7, 2500))
    free = FreeShipping(3, "满99包邮", 9900)
    coupon = CouponSpec(9, "满99减20", "amount", threshold_fen=9900, amount_fen=2000)
    q = price(
        [line(1, 9900)], PricingContext(shipping_fee_fen=800, gifts=(gift,), free_shipping_rules=(free,), coupon=coupon)
    )
    assert [p.line.sku_id for p in q.lines] == [1, 7]
    assert q.lines[1].payable_fen == 0 and q.lines[1].line.gift_of == 2
    assert q.payable_fen == 7900  # 99 - 20, shipping still free
    assert q.shipping_fen == 0


def test_best_coupon_picks_the_biggest_saving_and_explains_the_others():
    cart = [line(1, 8800)]
    offered = [
        CouponSpec(1, "满100减20", "amount", threshold_fen=10_000, amount_fen=2000),
        CouponSpec(2, "无门槛5元", "amount", amount_fen=500),
        CouponSpec(3, "9折", "percent", percent_bp=1000, max_discount_fen=600),
        CouponSpec(4, "别的商品", "amount", amount_fen=500, scope=Scope("products", frozenset({5}))),
    ]
    choice = best_coupon(cart, CTX, offered)
    assert choice.chosen is not None and choice.chosen.coupon_id == 3
    assert [(c.coupon_id, s) for c, s in choice.usable] == [(3, 600), (2, 500)]
    assert [(c.coupon_id, why) for c, why in choice.unusable] == [(1, "还差12元可用"), (4, "所选商品不可用此券")]
