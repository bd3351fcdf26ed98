"""The error-code table: every declared code is well-formed and Chinese, no code reads two ways, and every
code the source raises has a text in the table the shop and the console read."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fissionmall import registry
from fissionmall.core import codes
from fissionmall.core import errors as core_errors
from fissionmall.core.errors import AppError, Conflict, ErrorCode, NotFound, error_enums, error_table, not_found

SRC = Path(__file__).parents[2] / "src" / "fissionmall"
UPPER_SNAKE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
CJK = re.compile(r"[\u4e00-\u9fff]")
# WeChat not answering or not verifying is not the caller's fault: these few are answered 5xx, on purpose.
UPSTREAM_STATUSES = {502, 503}
# What we answer WeChat Pay's servers with ({"code": "FAIL"}) and what its fake answers: not our refusals.
WECHAT_PROTOCOL = {"FAIL", "SUCCESS", "PARAM_ERROR", "SIGN_ERROR", "NOT_FOUND", "SYSTEM_ERROR"}
# Constructors whose first argument is an error code.
RAISERS = {
    "AppError",
    "Conflict",
    "NotFound",
    "TooMany",
    "Unauthorized",
    "Forbidden",
    "BadNotification",
    "NotificationRejected",
    "WechatPayError",
}


@pytest.fixture(scope="module")
def members() -> list[ErrorCode]:
    registry.import_all("errors")
    return [m for enum in error_enums() for m in enum if not enum.__module__.startswith("tests.")]


def test_every_domain_keeps_its_codes_in_an_errors_module(members):
    declared = {type(m).__module__ for m in members}
    for domain in ("accounts", "addresses", "catalog", "seckill", "groupbuy", "distribution", "wechat", "risk"):
        assert f"fissionmall.{domain}.errors" in declared, domain
    assert "fissionmall.core.errors" in declared


def test_every_member_is_its_own_upper_snake_name_with_chinese_text_and_an_error_status(members):
    for m in members:
        assert m.value == m.name, m
        assert UPPER_SNAKE.match(m.value), m
        assert CJK.search(m.text), f"{m.value} has no Chinese text: {m.text!r}"
        assert 400 <= m.status < 500 or m.status in UPSTREAM_STATUSES, (m.value, m.status)


def test_no_code_is_declared_twice_with_another_text_or_status(members):
    seen: dict[str, ErrorCode] = {}
    for m in members:
        first = seen.setdefault(m.value, m)
        assert (first.text, first.status) == (m.text, m.status), (
            f"{m.value}: {type(first).__name__} says {first.text!r}/{first.status}, "
            f"{type(m).__name__} says {m.text!r}/{m.status}"
        )


def test_a_member_gives_a_refusal_its_text_and_status_and_an_explicit_one_still_wins():
    class Sample(ErrorCode):
        SAMPLE_GONE = "SAMPLE_GONE", "样例已删除", 410
        SAMPLE_BAD = "SAMPLE_BAD", "样例有误"

    try:
        gone = AppError(Sample.SAMPLE_GONE, limit=3)
        assert (gone.code, gone.message, gone.status, gone.detail) == ("SAMPLE_GONE", "样例已删除", 410, {"limit": 3})
        assert type(gone.code) is str  # the body serialises the plain code
        assert AppError(Sample.SAMPLE_GONE, "第 3 个样例已删除").message == "第 3 个样例已删除"
        assert AppError(Sample.SAMPLE_GONE, status=409).status == 409
        assert Conflict(Sample.SAMPLE_BAD).status == 409  # a 400-default member keeps the class's status
        assert error_table()["SAMPLE_GONE"] == "样例已删除"
    finally:
        core_errors._ENUMS.remove(Sample)


def test_not_found_gives_a_declared_code_with_chinese_text():
    e = not_found("product")
    assert isinstance(e, NotFound) and e.code == "PRODUCT_NOT_FOUND" and e.status == 404
    assert e.message == codes.table()["PRODUCT_NOT_FOUND"] and CJK.search(e.message)
    assert CJK.search(not_found("nothing_declared").message)


def _raised_codes() -> dict[str, list[str]]:
    """Every code the source raises literally: `Raiser("CODE")`, `Raiser(Enum.CODE)`, `not_found("x")`,
    and a body built by hand, `{"code": "X"}`."""
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Dict):  # a body built by hand: {"code": "X", "message": ...}
                for k, v in zip(node.keys, node.values, strict=True):
                    if isinstance(k, ast.Constant) and k.value == "code" and isinstance(v, ast.Constant):
                        # UPPER_SNAKE only: a SKU's 商家编码 ({"code": "BB-11", …}) is no refusal
                        if isinstance(v.value, str) and UPPER_SNAKE.match(v.value) and v.value not in WECHAT_PROTOCOL:
                            found.setdefault(v.value, []).append(f"{rel}:{node.lineno}")
                continue
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            arg = node.args[0]
            code = None
            if name in RAISERS:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    code = arg.value
                elif isinstance(arg, ast.Attribute) and arg.attr.isupper() and arg.attr != "CODE":
                    code = arg.attr
            elif name == "not_found" and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                code = f"{arg.value.upper()}_NOT_FOUND"
            if code is not None and UPPER_SNAKE.match(code):
                found.setdefault(code, []).append(f"{rel}:{node.lineno}")
    return found


def test_every_code_the_source_raises_has_a_text_in_the_served_table():
    raised = _raised_codes()
    assert len(raised) > 150  # the scan sees the raises (a broken scan would pass on nothing)
    for code in ("OUT_OF_STOCK", "ORDER_STATE_INVALID", "GROUP_FULL", "PRODUCT_NOT_FOUND", "SIGNATURE_MISSING"):
        assert code in raised, code
    table = codes.table()
    missing = {c: where for c, where in raised.items() if c not in table}
    assert not missing, f"raised but not in any errors.py enum: {missing}"


def test_the_codes_returned_rather_than_raised_are_in_the_table_too():
    from fissionmall.groupbuy import rules as groupbuy_rules
    from fissionmall.groupbuy import source as groupbuy
    from fissionmall.seckill import rules as seckill_rules

    table = codes.table()
    assert set(seckill_rules.REFUSALS) <= set(table)
    assert groupbuy.SHIP_REFUSAL in table and groupbuy.REFUND_REFUSAL in table
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    window = groupbuy_rules.Window(t0, t0 + timedelta(days=1))
    for now in (t0 - timedelta(seconds=1), t0 + timedelta(days=2)):
        refusal = groupbuy_rules.window_refusal(window, now)
        assert refusal is not None and refusal in table
    assert "LOST" in table  # a polled flash-sale attempt's failure reason
