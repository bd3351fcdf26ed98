"""A saved amount or discount shows in its console field as text the field's parser reads back to the same
integer: editing a coupon or a promotion and saving it again never moves its money."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fissionmall.web.forms import MAX_FEN, fen_from_yuan, off_bp_from_zhe, yuan_field, zhe_field


@given(st.integers(min_value=0, max_value=MAX_FEN))
def test_a_yuan_field_reads_back_to_the_same_fen(fen: int) -> None:
    assert fen_from_yuan(yuan_field(fen)) == fen


@given(st.integers(min_value=1, max_value=9_999))
def test_a_zhe_field_reads_back_to_the_same_discount(off_bp: int) -> None:
    assert off_bp_from_zhe(zhe_field(off_bp)) == off_bp


def test_the_fields_read_as_a_merchant_types_them() -> None:
    assert [yuan_field(f) for f in (1990, 2000, 5, 0, None)] == ["19.9", "20", "0.05", "0", ""]
    assert yuan_field(1_234_567) == "12345.67"  # a float's '%g' showed (and saved again) 12345.7
    assert yuan_field(100_000_000) == "1000000"  # and this one as 1e+06, which no 元 field accepts
    assert [zhe_field(b) for b in (1500, 1000, 125)] == ["8.5", "9", "9.875"]
