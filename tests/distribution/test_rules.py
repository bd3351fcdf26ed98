"""Commission math as properties over random orders (coupons and full-reduction split over the lines)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fissionmall.core.money import BP, apply_bp, split
from fissionmall.distribution import rules

line_st = st.tuples(st.integers(1, 200_000), st.integers(1, 5))  # unit price, qty


@st.composite
def orders(draw):
    raw = draw(st.lists(line_st, min_size=1, max_size=6))
    subtotals = [p * q for p, q in raw]
    coupon = draw(st.integers(0, sum(subtotals)))
    full_reduction = draw(st.integers(0, sum(subtotals) - coupon))
    # One split of both discounts: two separate largest-remainder splits could each round the same line up
    # and leave it at -1 fen, which no real order has (the chain never takes a line below zero).
    discounts = split(coupon + full_reduction, subtotals)
    lines = [
        rules.LineIn(line_id=i + 1, product_id=100 + i % 2, sku_id=200 + i, qty=q, goods_payable_fen=sub - d)
        for i, ((_, q), sub, d) in enumerate(zip(raw, subtotals, discounts, strict=True))
    ]
    return lines


rates_st = st.tuples(st.integers(0, 3000), st.integers(0, 3000), st.integers(0, 3000)).map(
    lambda t: (t[0], min(t[1], 3000 - min(t[0], 3000)), t[2])
)


@settings(max_examples=300, deadline=None)
@given(orders(), rates_st, st.booleans())
def test_commissions_are_on_paid_amounts_exact_per_line_and_never_over_the_cap(lines, r, has_level2):
    l1, l2, cap = r
    cap = max(cap, l1 + l2)
    cfg = {"level1_rate_bp": l1, "level2_rate_bp": l2}
    rates = {
        ln.line_id: rules.rates_for(cfg, source="normal", product_id=ln.product_id, sku_id=ln.sku_id) for ln in lines
    }
    shares = rules.commissions(lines, rates, levels=2, has_level2=has_level2, cap_bp=cap)
    paid = sum(ln.goods_payable_fen for ln in lines)
    total = sum(s.amount_fen for s in shares)
    assert total <= paid * cap // BP
    by_line = {ln.line_id: ln for ln in lines}
    exact = [(ln.line_id, 1, apply_bp(ln.goods_payable_fen, l1)) for ln in lines]
    if has_level2:
        exact += [(ln.line_id, 2, apply_bp(ln.goods_payable_fen, l2)) for ln in lines]
    exact = [e for e in exact if e[2] > 0]
    if sum(e[2] for e in exact) <= paid * cap // BP:
        assert sorted((s.line_id, s.level, s.amount_fen) for s in shares) == sorted(exact)
    for s in shares:
        assert s.base_fen == by_line[s.line_id].goods_payable_fen  # on the paid amount after every discount
        assert 0 < s.amount_fen <= s.base_fen
        assert s.level in (1, 2) and (has_level2 or s.level == 1)


@settings(max_examples=200, deadline=None)
@given(orders(), st.integers(1, 50_000))
def test_fixed_amounts_are_capped_per_order_and_each_part_only_shrinks(lines, fixed):
    cfg = {"overrides": [{"product_id": 100, "level1_fixed_fen": fixed, "level2_fixed_fen": fixed // 2}]}
    rates = {
        ln.line_id: rules.rates_for(cfg, source="normal", product_id=ln.product_id, sku_id=ln.sku_id) for ln in lines
    }
    shares = rules.commissions(lines, rates, levels=2, has_level2=True, cap_bp=3000)
    paid = sum(ln.goods_payable_fen for ln in lines)
    assert sum(s.amount_fen for s in shares) <= paid * 3000 // BP
    for s in shares:
        ln = next(x for x in lines if x.line_id == s.line_id)
        assert ln.product_id == 100
        assert s.amount_fen <= (fixed if s.level == 1 else fixed // 2) * ln.qty


@given(st.integers(0, 10**6), st.integers(1, 20), st.data())
def test_partial_refunds_reverse_in_proportion_and_a_full_refund_reverses_everything(accrued, qty, data):
    reversed_total, refunded = 0, 0
    while refunded < qty:
        n = data.draw(st.integers(1, qty - refunded))
        part = rules.reversal_fen(
            accrued_fen=accrued, line_qty=qty, refunded_before_qty=refunded, refund_qty=n, reversed_fen=reversed_total
        )
        assert part >= 0
        refunded += n
        reversed_total += part
        assert reversed_total <= accrued
    assert reversed_total == accrued


def test_activity_sources_use_their_own_rates_or_none():
    cfg = {
        "level1_rate_bp": 1000,
        "level2_rate_bp": 500,
        "source_rates": {"groupbuy": {"level1_rate_bp": 300, "level2_rate_bp": 0}, "seckill": None},
        "overrides": [{"sku_id": 7, "level1_rate_bp": 2000}],
    }
    assert rules.rates_for(cfg, source="seckill", product_id=1, sku_id=7) is None
    assert rules.rates_for(cfg, source="groupbuy", product_id=1, sku_id=7) == rules.LineRates(300, 0)
    assert rules.rates_for(cfg, source="normal", product_id=1, sku_id=7) == rules.LineRates(2000, 0)
    assert rules.rates_for(cfg, source="normal", product_id=1, sku_id=8) == rules.LineRates(1000, 500)


def test_bind_modes():
    d = rules.bind_decision
    assert d("first", origin="share_link", current=None, expired=False, target=2) == "bind"
    assert d("first", origin="share_link", current=1, expired=False, target=2) == "keep"
    assert d("first", origin="share_link", current=1, expired=True, target=2) == "rebind"
    assert d("latest", origin="share_link", current=1, expired=False, target=2) == "rebind"
    assert d("registration_only", origin="share_link", current=None, expired=False, target=2) == "keep"
    assert d("registration_only", origin="registration", current=None, expired=False, target=2) == "bind"
    assert d("latest", origin="share_link", current=2, expired=False, target=2) == "keep"


def test_settlement_periods_roll_over_the_year():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    assert rules.next_period("2026-12") == "2027-01"
    end = rules.period_end("2026-12", tz)
    assert (end.year, end.month, end.day, end.hour) == (2027, 1, 1, 0)
