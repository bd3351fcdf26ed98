from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fissionmall.pricing.rules import CartLine, PricingContext, price, refund_amount, unit_amounts

lines = st.lists(
    st.builds(
        CartLine,
        sku_id=st.integers(1, 10**6),
        product_id=st.integers(1, 1000),
        category_id=st.none(),
        title=st.just("商品"),
        sku_name=st.just("默认"),
        unit_price_fen=st.integers(0, 10**6),
        qty=st.integers(1, 999),
    ),
    min_size=1,
    max_size=20,
)
contexts = st.builds(PricingContext, shipping_fee_fen=st.integers(0, 5000), free_shipping=st.booleans())


@given(lines, contexts)
def test_quote_parts_sum_to_totals_and_are_never_negative(cart, ctx):
    q = price(cart, ctx)
    assert q.payable_fen >= 0
    assert sum(p.payable_fen for p in q.lines) == q.payable_fen
    assert sum(st.amount_fen for st in q.steps) == q.total_fen
    assert q.shipping_fen == (0 if ctx.free_shipping else ctx.shipping_fee_fen)
    for p, c in zip(q.lines, cart, strict=True):
        assert p.subtotal_fen == c.unit_price_fen * c.qty
        assert p.payable_fen >= 0


@given(lines, contexts)
def test_same_input_same_output(cart, ctx):
    assert price(cart, ctx) == price(list(cart), ctx)


@given(st.integers(0, 10**7), st.integers(1, 999), st.data())
def test_refunding_units_in_any_chunks_returns_exactly_the_line(payable, qty, data):
    chunks, left = [], qty
    while left:
        n = data.draw(st.integers(1, left))
        chunks.append(n)
        left -= n
    done, total = 0, 0
    for n in chunks:
        total += refund_amount(payable, qty, done, n)
        done += n
    assert total == payable
    assert sum(unit_amounts(payable, qty)) == payable


def test_shipping_is_split_over_lines_by_value():
    cart = [CartLine(1, 1, None, "a", "x", 1000, 1), CartLine(2, 1, None, "b", "y", 3000, 1)]
    q = price(cart, PricingContext(shipping_fee_fen=801))
    assert [p.shipping_fen for p in q.lines] == [200, 601]
    assert [(s.kind, s.amount_fen) for s in q.steps] == [("goods", 4000), ("shipping", 801)]
