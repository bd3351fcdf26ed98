"""What an operator reads when the console refuses something: Chinese, never a service's English sentence."""

from __future__ import annotations

from fissionmall.core.errors import AppError, Conflict
from fissionmall.web.admin import error_text


def test_a_known_code_reads_in_the_operators_words():
    assert error_text(Conflict("GROUP_FORMING", "this order cannot ship yet")) == "拼团还在进行中，成团后才能发货"


def test_a_chinese_service_message_is_shown_with_its_code():
    assert error_text(AppError("LEADER_DISCOUNT_TOO_HIGH", "团长优惠不能高于拼团价")) == (
        "团长优惠不能高于拼团价（LEADER_DISCOUNT_TOO_HIGH）"
    )


def test_an_english_message_never_reaches_the_operator():
    text = error_text(AppError("SOMETHING_NEW", "the thing cannot be done"))
    assert text == "操作未成功（SOMETHING_NEW）" and "thing" not in text
