"""split_refund: every refund of a split-tender order divided over the tenders, exactly, to the fen."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fissionmall.checkout.tenders import split_refund
from fissionmall.orders import tenders as ot

FEN = st.integers(min_value=0, max_value=10**10)


@st.composite
def paid_and_refunds(draw: st.DrawFn) -> tuple[list[tuple[str, int]], list[int]]:
    """Tenders with what each paid (the gateway last, maybe 0) and a sequence of refunds that ends by
    refunding everything left (cut points of the total, as line-by-line refunds are)."""
    n = draw(st.integers(min_value=1, max_value=4))
    paid = [(f"t{i}", draw(FEN)) for i in range(n)] + [("gateway", draw(FEN))]
    total = sum(fen for _, fen in paid)
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=total), max_size=12)))
    bounds = [0, *cuts, total]
    return paid, [b - a for a, b in itertools.pairwise(bounds)]


@settings(max_examples=400, deadline=None)
@given(paid_and_refunds())
def test_refunds_split_in_proportion_and_return_each_tender_exactly_what_it_paid(case) -> None:
    paid, refunds = case
    left = dict(paid)
    back = {name: 0 for name, _ in paid}
    for amount in refunds:
        parts = split_refund(amount, list(left.items()))
        assert [n for n, _ in parts] == [n for n, _ in paid]
        assert sum(fen for _, fen in parts) == amount
        for name, fen in parts:
            assert 0 <= fen <= left[name]
            left[name] -= fen
            back[name] += fen
    assert back == dict(paid)  # the last refund closed every tender to the fen
    assert all(v == 0 for v in left.values())


@given(st.lists(FEN, min_size=1, max_size=5), st.data())
def test_a_share_is_its_exact_proportion_rounded_down_or_up(weights, data) -> None:
    # Largest remainder, in integers: |share - amount * w / W| < 1, i.e. |share * W - amount * w| < W.
    left = [(f"t{i}", w) for i, w in enumerate(weights)]
    total = sum(weights)
    amount = data.draw(st.integers(min_value=0, max_value=total))
    for (_, w), (_, share) in zip(left, split_refund(amount, left), strict=True):
        if total:
            assert abs(share * total - amount * w) < total


def test_more_than_is_left_is_refused() -> None:
    with pytest.raises(ValueError):
        split_refund(101, [("card", 50), ("gateway", 50)])
    with pytest.raises(ValueError):
        split_refund(-1, [("gateway", 50)])


def test_the_order_bookkeeping_moves_a_refund_from_pending_to_refunded() -> None:
    rows = ot.entries([("card", 300)], 1000)
    assert rows == [
        {"tender": "card", "amount_fen": 300, "refunded_fen": 0, "pending_fen": 0},
        {"tender": "gateway", "amount_fen": 700, "refunded_fen": 0, "pending_fen": 0},
    ]
    parts = [{"tender": n, "amount_fen": f} for n, f in split_refund(500, ot.left_of(rows))]
    assert parts == [{"tender": "card", "amount_fen": 150}, {"tender": "gateway", "amount_fen": 350}]
    held = ot.reserved(rows, parts)
    assert ot.left_of(held) == [("card", 150), ("gateway", 350)]
    assert ot.left_of(ot.released(held, parts)) == [("card", 300), ("gateway", 700)]
    done = ot.given_back(held, parts)
    assert [(t["refunded_fen"], t["pending_fen"]) for t in done] == [(150, 0), (350, 0)]
    with pytest.raises(ValueError):
        ot.given_back(done, parts)  # the same reservation cannot be given back twice
    assert ot.entries([("card", 1000)], 1000) == [
        {"tender": "card", "amount_fen": 1000, "refunded_fen": 0, "pending_fen": 0}
    ]  # nothing left for the gateway: no gateway entry
    assert ot.entries([], 1000) is None  # a plain order stores nothing
