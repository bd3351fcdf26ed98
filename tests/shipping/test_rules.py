"""The pure 运费模板 rules, against a reference computation written here on its own, and the price chain's
shipping step that uses them."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from fissionmall.core import regions
from fissionmall.pricing.rules import CartLine, FreeShipping, PricingContext, price
from fissionmall.shipping import rules as ship
from fissionmall.shipping.errors import ShippingError

PROVINCES = [p.code for p in regions.provinces()][:8]
KNOWN = {p.code for p in regions.provinces()}

charges = st.builds(
    ship.Charge,
    first_units=st.integers(1, 3000),
    first_fee_fen=st.integers(0, 3000),
    additional_units=st.integers(1, 2000),
    additional_fee_fen=st.integers(0, 2000),
)


@st.composite
def templates(draw: st.DrawFn, tid: int) -> ship.Template:
    codes = draw(st.permutations(PROVINCES))
    cut = draw(st.integers(0, 4))
    rules = tuple(
        ship.Charge(c.first_units, c.first_fee_fen, c.additional_units, c.additional_fee_fen, regions=(code,))
        for code, c in zip(codes[:cut], draw(st.lists(charges, min_size=cut, max_size=cut)), strict=True)
    )
    free = tuple(
        draw(
            st.lists(
                st.builds(
                    ship.FreeRule,
                    min_amount_fen=st.one_of(st.none(), st.integers(0, 20000)),
                    min_count=st.one_of(st.none(), st.integers(1, 6)),
                    regions=st.sampled_from([(), (codes[0],)]),
                ),
                max_size=2,
            )
        )
    )
    return ship.Template(
        id=tid,
        name=f"模板{tid}",
        mode=draw(st.sampled_from([ship.PIECE, ship.WEIGHT])),
        default=draw(charges),
        rules=rules,
        free=free,
        is_default=tid == 1,
    )


def reference_fee(book: ship.Book, items: list[ship.Item]) -> int:
    """Written apart from the rules: per template, the rule of the province, first fee once, each started
    additional unit, nothing when a free condition for the region is met; summed over templates."""
    total = 0
    by_template: dict[int, list[ship.Item]] = {}
    for it in items:
        tid = book.sku_template.get(it.sku_id) or book.default_id
        by_template.setdefault(tid, []).append(it)
    for tid, its in by_template.items():
        t = book.templates[tid]
        rule = t.default
        if book.destination is not None:
            for r in t.rules:
                if book.destination[:2] + "0000" in r.regions:
                    rule = r
        pieces = sum(i.qty for i in its)
        amount = sum(i.amount_fen for i in its)
        units = sum(i.qty * book.sku_weight_g.get(i.sku_id, 0) for i in its) if t.mode == "weight" else pieces
        free = False
        for f in t.free:
            if f.regions and (book.destination is None or book.destination[:2] + "0000" not in f.regions):
                continue
            if (f.min_amount_fen is not None and amount >= f.min_amount_fen) or (
                f.min_count is not None and pieces >= f.min_count
            ):
                free = True
        if free:
            continue
        more = max(0, units - rule.first_units)
        total += rule.first_fee_fen + math.ceil(more / rule.additional_units) * rule.additional_fee_fen
    return total


@st.composite
def worlds(draw: st.DrawFn) -> tuple[ship.Book, list[ship.Item]]:
    ts = [draw(templates(1)), draw(templates(2))]
    n = draw(st.integers(1, 5))
    items = [
        ship.Item(sku_id=i + 1, title=f"商品{i}", qty=draw(st.integers(1, 9)), amount_fen=draw(st.integers(0, 50000)))
        for i in range(n)
    ]
    book = ship.Book(
        templates={t.id: t for t in ts},
        default_id=1,
        sku_template={it.sku_id: draw(st.sampled_from([None, 1, 2])) for it in items},
        sku_weight_g={it.sku_id: draw(st.integers(0, 5000)) for it in items},
        destination=draw(st.one_of(st.none(), st.sampled_from([c[:2] + "0100" for c in PROVINCES]))),
    )
    return book, items


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_the_fee_is_the_reference_fee_never_negative_and_split_over_the_items(world):
    book, items = world
    got = ship.charge(book, items)
    assert got.fee_fen == reference_fee(book, items)
    assert got.fee_fen >= 0 and all(sh >= 0 for sh in got.shares)
    assert sum(got.shares) == got.fee_fen
    assert sum(g.fee_fen for g in got.groups) == got.fee_fen


@settings(max_examples=150, deadline=None)
@given(worlds())
def test_the_preview_step_charges_the_fee_and_explains_it(world):
    book, items = world
    cart = [CartLine(it.sku_id, it.sku_id, None, it.title, "默认", it.amount_fen // it.qty, it.qty) for it in items]
    q = price(cart, PricingContext(shipping_fee_fen=999, shipping=book))
    step = next(s for s in q.steps if s.kind == "shipping")
    expected = reference_fee(book, [ship.Item(c.sku_id, c.title, c.qty, c.unit_price_fen * c.qty) for c in cart])
    assert step.amount_fen == expected == q.shipping_fen
    assert q.total_fen == q.goods_fen - q.discount_fen + expected
    if expected:
        assert step.label.startswith(f"运费 ¥{ship.short_yuan(expected)}（")
    else:
        assert "包邮" in step.label


def _t(tid: int = 1, **kw) -> ship.Template:
    return ship.Template(id=tid, name=kw.pop("name", f"模板{tid}"), **kw)


def test_first_piece_and_additional_pieces_read_in_the_label():
    t = _t(default=ship.Charge(1, 800, 1, 400))
    got = ship.charge(ship.Book({1: t}, 1), [ship.Item(1, "茶", 2, 5000)])
    assert got.fee_fen == 1200 and got.label == "运费 ¥12（首件¥8 + 续件¥4）"


def test_free_above_an_amount_reads_in_the_label():
    t = _t(default=ship.Charge(1, 800, 1, 400), free=(ship.FreeRule(min_amount_fen=9900),))
    got = ship.charge(ship.Book({1: t}, 1), [ship.Item(1, "茶", 2, 9900)])
    assert got.fee_fen == 0 and got.label == "包邮（满¥99）"


def test_the_province_rule_prices_an_address_in_it_and_the_default_rule_elsewhere():
    t = _t(default=ship.Charge(1, 800, 1, 0), rules=(ship.Charge(1, 2000, 1, 1000, regions=("650000",)),))
    items = [ship.Item(1, "茶", 2, 100)]
    assert ship.charge(ship.Book({1: t}, 1, destination="650102"), items).fee_fen == 3000
    assert ship.charge(ship.Book({1: t}, 1, destination="440106"), items).fee_fen == 800


def test_weight_counts_grams_and_each_started_additional_kilo():
    t = _t(mode=ship.WEIGHT, default=ship.Charge(1000, 1000, 1000, 500))
    book = ship.Book({1: t}, 1, sku_weight_g={1: 700})
    got = ship.charge(book, [ship.Item(1, "米", 3, 100)])  # 2100 g: first kilo + 2 started kilos
    assert got.fee_fen == 2000 and got.label == "运费 ¥20（首重1kg¥10 + 续重¥10）"


def test_a_sku_without_weight_weighs_nothing_and_pays_the_first_fee():
    t = _t(mode=ship.WEIGHT, default=ship.Charge(1000, 1000, 1000, 500))
    assert ship.charge(ship.Book({1: t}, 1), [ship.Item(1, "米", 30, 100)]).fee_fen == 1000


def test_a_mixed_cart_pays_each_templates_first_fee_once_and_sums():
    a = _t(1, name="普通", default=ship.Charge(1, 800, 1, 400), is_default=True)
    b = _t(2, name="生鲜", default=ship.Charge(1, 1500, 1, 500))
    book = ship.Book({1: a, 2: b}, 1, sku_template={1: None, 2: 1, 3: 2})
    items = [ship.Item(1, "茶", 1, 100), ship.Item(2, "杯", 1, 100), ship.Item(3, "虾", 2, 100)]
    got = ship.charge(book, items)
    assert got.fee_fen == (800 + 400) + (1500 + 500)
    assert got.label == "运费 ¥32（普通：首件¥8 + 续件¥4；生鲜：首件¥15 + 续件¥5）"
    assert got.shares[2] == 2000 and got.shares[0] + got.shares[1] == 1200


def test_a_template_that_charges_nothing_is_free_everywhere_and_a_gift_line_counts_nothing():
    t = _t(default=ship.Charge(1, 0, 1, 0))
    assert ship.free_everywhere(t)
    assert not ship.free_everywhere(_t(default=ship.Charge(1, 1, 1, 0)))
    assert ship.free_everywhere(_t(default=ship.Charge(1, 800, 1, 0), free=(ship.FreeRule(min_amount_fen=0),)))
    paid = _t(default=ship.Charge(1, 800, 1, 400))
    assert ship.charge(ship.Book({1: paid}, 1), [ship.Item(1, "茶", 1, 1), ship.Item(2, "赠品", 0, 0)]).fee_fen == 800


def test_not_delivered_regions_name_the_products():
    t = _t(default=ship.Charge(1, 800, 1, 0), not_delivered=("540000",))
    other = _t(2, default=ship.Charge(1, 800, 1, 0))
    book = ship.Book({1: t, 2: other}, 1, sku_template={1: 1, 2: 2}, destination="540102")
    assert ship.undeliverable(book, [ship.Item(1, "茶", 1, 1), ship.Item(2, "杯", 1, 1)]) == ["茶"]
    assert ship.undeliverable(ship.Book({1: t}, 1, destination="440106"), [ship.Item(1, "茶", 1, 1)]) == []


def test_overlapping_regions_unknown_codes_negative_fees_and_zero_units_are_refused_with_codes():
    def codes(t: ship.Template) -> set[str]:
        return {p.code for p in ship.problems(t, KNOWN | {"440100"})}

    a = ship.Charge(1, 800, 1, 0, regions=("440000",))
    assert codes(_t(rules=(a, ship.Charge(1, 900, 1, 0, regions=("440000",))))) == {
        ShippingError.SHIPPING_REGION_OVERLAP
    }
    assert codes(_t(rules=(a, ship.Charge(1, 900, 1, 0, regions=("440100",))))) == {
        ShippingError.SHIPPING_REGION_OVERLAP
    }
    assert codes(_t(rules=(a,), not_delivered=("440000",))) == {ShippingError.SHIPPING_REGION_OVERLAP}
    assert codes(_t(rules=(ship.Charge(1, 800, 1, 0, regions=("999999",)),))) == {ShippingError.SHIPPING_REGION_UNKNOWN}
    assert codes(_t(default=ship.Charge(1, -1, 1, 0))) == {ShippingError.SHIPPING_FEE_NEGATIVE}
    assert codes(_t(default=ship.Charge(0, 1, 1, 0))) == {ShippingError.SHIPPING_UNIT_ZERO}
    assert codes(_t(free=(ship.FreeRule(),))) == {ShippingError.SHIPPING_FREE_CONDITION_EMPTY}
    assert codes(_t(rules=(a,), free=(ship.FreeRule(min_count=2, regions=("440000",)),))) == set()


def test_a_promotions_free_shipping_still_waives_the_templates_fee():
    t = _t(default=ship.Charge(1, 800, 1, 400))
    cart = [CartLine(1, 1, None, "茶", "默认", 5000, 2)]
    ctx = PricingContext(
        shipping_fee_fen=0, shipping=ship.Book({1: t}, 1), free_shipping_rules=(FreeShipping(7, "满50包邮", 5000),)
    )
    q = price(cart, ctx)
    assert q.shipping_fen == 0 and next(s for s in q.steps if s.kind == "shipping").ref == "promotion:7"


def test_the_address_text_names_the_province_when_it_has_no_code():
    names = {p.name: p.code for p in regions.provinces()}
    assert ship.province_code(None, "上海市 浦东新区", names) == "310000"
    assert ship.province_code(None, "新疆 乌鲁木齐", names) == "650000"
    assert ship.province_code("440106", "上海市", names) == "440106"
    assert ship.province_code(None, "火星", names) is None
