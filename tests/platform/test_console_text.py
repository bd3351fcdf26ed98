"""What an operator reads when the console refuses something: Chinese, never a service's English sentence."""

from __future__ import annotations

from fissionmall.core import codes
from fissionmall.core.errors import AppError, Conflict
from fissionmall.groupbuy.errors import GroupbuyError
from fissionmall.orders.errors import OrdersError
from fissionmall.web.console import error_text


def test_a_known_code_reads_as_the_shared_table_says():
    text = error_text(Conflict("GROUP_FORMING", "this order cannot ship yet"))
    assert text == codes.table()["GROUP_FORMING"] == GroupbuyError.GROUP_FORMING.text and "成团后才能发货" in text


def test_an_orders_code_reads_from_its_enum_never_the_english_message():
    text = error_text(Conflict("ORDER_STATE_INVALID", "cannot ship an order that is cancelled"))
    assert text == OrdersError.ORDER_STATE_INVALID.text and "cancelled" not in text


def test_a_chinese_service_message_is_shown_with_its_code():
    assert error_text(AppError("SOMETHING_NEW", "团长优惠不能高于拼团价")) == "团长优惠不能高于拼团价（SOMETHING_NEW）"


def test_a_more_specific_chinese_message_beats_the_tables_text():
    exc = Conflict(GroupbuyError.PURCHASE_LIMIT_REACHED, "本活动每人限购 2 件")
    assert error_text(exc) == "本活动每人限购 2 件（PURCHASE_LIMIT_REACHED）"
    assert error_text(Conflict(GroupbuyError.PURCHASE_LIMIT_REACHED)) == "已达活动限购数量"


def test_an_english_message_never_reaches_the_operator():
    text = error_text(AppError("SOMETHING_NEW", "the thing cannot be done"))
    assert text == "操作未成功（SOMETHING_NEW）" and "thing" not in text
