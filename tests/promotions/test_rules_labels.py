"""The 规则 a merchant and a shopper read for a limited-time discount (promotions.rules.label)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from fissionmall.promotions.rules import label


def _limited(*items: dict[str, int]) -> SimpleNamespace:
    return SimpleNamespace(kind="limited_discount", items=list(items))


@pytest.mark.parametrize(
    ("items", "text"),
    [
        ([{"sku_id": 1, "percent_bp": 2000}], "限时 8折"),
        ([{"sku_id": 1, "percent_bp": 2000}, {"sku_id": 2, "percent_bp": 1500}], "限时 8折起"),
        ([{"sku_id": 1, "percent_bp": 1500}], "限时 8.5折"),
        ([{"sku_id": 1, "price_fen": 6900}, {"sku_id": 2, "price_fen": 7120}], "限时价 ¥69 起"),
        ([{"sku_id": 1, "price_fen": 7120}], "限时价 ¥71.20"),
        ([{"sku_id": 1, "price_fen": 6900}, {"sku_id": 2, "percent_bp": 2000}], "限时折扣"),
    ],
)
def test_a_limited_discount_says_how_deep_it_cuts(items: list[dict[str, int]], text: str) -> None:
    assert label(_limited(*items)) == text
