"""No English reaches a shopper or a merchant through a refusal: a walk over the source (ast) finds every
code raised, every error-code member named and every message written beside a code, and each reads Chinese
with no English sentence in it. (test_error_codes.py checks every raised code is in the served table.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from fissionmall import registry
from fissionmall.core import codes
from fissionmall.core.errors import ErrorCode, error_enums
from tests.platform.test_error_codes import RAISERS, SRC, _raised_codes

CJK = re.compile(r"[\u4e00-\u9fff]")
# Two or more English words in a row: "Not Found", "the signature does not verify". A lone token a Chinese
# sentence names (CSRF, SKU, YYYY-MM-DD, a code) is not a sentence.
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?: +[A-Za-z]{2,})+")
# Raised to WeChat Pay's servers, not to people: a refused notification is answered {"code": "FAIL",
# "message"} to WeChat and logged; the console shows its outcome in Chinese (ops/admin.py NOTE_OUTCOME_ZH).
TO_WECHAT_SERVERS = {"BadNotification", "NotificationRejected"}


def _english(text: str) -> str | None:
    m = ENGLISH_SENTENCE.search(text)
    return m.group(0) if m else None


def _calls() -> list[tuple[str, ast.Call]]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = str(path.relative_to(SRC))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if name in RAISERS:
                    out.append((f"{rel}:{node.lineno}", node))
    return out


def _literal_text(node: ast.expr) -> str | None:
    """The written part of a message: a string constant, or an f-string's constant pieces."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


@pytest.fixture(scope="module")
def enums() -> dict[str, type[ErrorCode]]:
    registry.import_all("errors")
    return {e.__name__: e for e in error_enums() if not e.__module__.startswith("tests.")}


def test_every_declared_text_is_chinese_without_an_english_sentence(enums):
    for enum in enums.values():
        for m in enum:
            assert CJK.search(m.text), f"{enum.__name__}.{m.name}: {m.text!r}"
            assert _english(m.text) is None, f"{enum.__name__}.{m.name}: {m.text!r}"


def test_every_raised_code_reads_chinese_in_the_served_table():
    raised = _raised_codes()
    assert len(raised) > 150
    table = codes.table()
    for code, where in raised.items():
        text = table.get(code, "")
        assert CJK.search(text) and _english(text) is None, (code, text, where[:3])


def test_every_error_code_member_the_source_names_exists_with_chinese_text(enums):
    """`Enum.MEMBER` anywhere (raised, returned, passed as `code=`): a typo is an AttributeError on the day
    that refusal happens, and a shopper gets a 500 instead of the Chinese text."""
    named: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in enums:
                if node.attr.isupper():
                    named.setdefault(f"{node.value.id}.{node.attr}", []).append(f"{rel}:{node.lineno}")
    assert len(named) > 150, len(named)  # the walk sees the members (a broken walk would pass on nothing)
    for ref, where in named.items():
        enum, member = ref.split(".")
        assert member in enums[enum].__members__, f"{ref} is not declared ({where[:3]})"
        text = enums[enum][member].text
        assert CJK.search(text) and _english(text) is None, (ref, text)


def test_every_message_written_beside_a_code_is_chinese():
    calls = _calls()
    assert len(calls) > 150
    wrong: set[tuple[str, str]] = set()
    for where, call in calls:
        name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
        if name in TO_WECHAT_SERVERS:
            continue
        messages = call.args[1:2] + [k.value for k in call.keywords if k.arg == "message"]
        for message in messages:
            text = _literal_text(message)
            if text is not None and not CJK.search(text):
                wrong.add((where, text))
            # and any words written inside it: `str(err.get("message") or f"fallback {n}")`
            for node in ast.walk(message):
                if (text := _literal_text(node)) is not None and _english(text):
                    wrong.add((where, text))
    assert not wrong, f"a refusal's message in English: {sorted(wrong)}"


def test_the_walk_catches_an_english_message_and_an_undeclared_member(tmp_path: Path, enums):
    source = 'raise AppError("SOMETHING_BAD", "the thing is bad")\nx = CoreError.NO_SUCH_MEMBER\n'
    tree = ast.parse(source)
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert _english(_literal_text(call.args[1]) or "") == "the thing is bad"
    attr = next(n for n in ast.walk(tree) if isinstance(n, ast.Attribute))
    assert attr.attr not in enums["CoreError"].__members__
    assert _english("有效期截止日期格式应为 YYYY-MM-DD") is None and _english("缺少 CSRF 令牌") is None


# Codes the shop makes itself, each with its Chinese text where it is made (ui.js BUILTIN_TEXT, seckill.js).
SHOP_OWN_CODES = {"NETWORK": "网络不给力", "QUEUED": "排队中"}
STATIC = SRC / "web" / "static"
_KEY = re.compile(r"^\s*([A-Z][A-Z0-9_]+)\s*:", re.M)
_QUOTED = re.compile(r"'([A-Z][A-Z0-9_]+)'")


def _shop_named_codes() -> dict[str, list[str]]:
    """Every code the shop's and the console's scripts single out: `err.code === 'X'`, a table of their own
    words keyed by code (`ERRORS = {X: …}`, `{X: …}[err.code]`), a list a code is looked up in."""
    found: dict[str, list[str]] = {}
    for path in sorted(STATIC.rglob("*.js")):
        if "vendor" in path.parts:
            continue
        text, rel = path.read_text(), str(path.relative_to(STATIC))
        named = re.findall(r"code\s*===\s*'([A-Z][A-Z0-9_]+)'", text)
        for block in re.findall(r"ERRORS\s*=\s*\{([^{}]*)\}|\{([^{}]*)\}\[err\.code\]", text):
            named += _KEY.findall("".join(block))
        for block in re.findall(
            r"\[([^\[\]]*)\]\)?\.(?:includes|has)\(err\.code\)|_CODES\s*=\s*new Set\(\[([^\]]*)\]", text
        ):
            named += _QUOTED.findall("".join(block))
        for code in named:
            found.setdefault(code, []).append(rel)
    return found


def test_every_code_the_shop_singles_out_is_one_the_server_declares():
    """A code renamed on the server leaves the shop's own words for it dead: it must still be in the table."""
    named = _shop_named_codes()
    assert {"SOLD_OUT", "REAL_NAME_REQUIRED", "GROUP_NOT_OPEN", "TOKEN_EXPIRED", "ADDRESS_BOOK_FULL"} <= set(named)
    table = codes.table()
    unknown = {c: where for c, where in named.items() if c not in table and c not in SHOP_OWN_CODES}
    assert not unknown, unknown


def test_the_codes_the_shop_makes_itself_carry_chinese_where_they_are_made():
    shop = "".join(p.read_text() for p in sorted((STATIC / "shop").rglob("*.js")))
    for code, text in SHOP_OWN_CODES.items():
        assert code not in codes.table(), code  # else the server's text would be the one to keep
        assert re.search(rf"{code}\W.{{0,60}}{text}|{text}.{{0,60}}\W{code}\W", shop), code


def test_every_reason_code_the_server_records_for_a_shopper_reads_chinese():
    """A reason stored and polled later (a flash-sale attempt's `reason`) is shown through the same table."""
    reasons: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = f"{path.relative_to(SRC)}"
        for node in ast.walk(ast.parse(path.read_text())):
            values: list[ast.expr] = []
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "reason" for t in node.targets):
                values = [node.value]
            elif isinstance(node, ast.Dict):
                values = [v for k, v in zip(node.keys, node.values, strict=True)
                          if isinstance(k, ast.Constant) and k.value == "reason"]  # fmt: skip
            for v in values:
                if isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value.isupper():
                    reasons.setdefault(v.value, []).append(f"{rel}:{node.lineno}")
    assert "LOST" in reasons  # the walk sees them
    table = codes.table()
    for code, where in reasons.items():
        assert CJK.search(table.get(code, "")), (code, where)
