"""WeChat's rules for subscribe message (订阅消息) data, and the placeholders each of our events offers.

Pure functions, no settings: the settings check templates with them when they load, the sender
shapes and checks each value with them before sending, and the mini-program fake refuses with them
what WeChat refuses (47003). A data key names its type by its prefix: `thing1`, `character_string2`.
It sits at the top level, beside settings.py, and imports nothing of ours: settings may import it
without a cycle (core and wechat both import settings).
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# WeChat's limits, per type ("订阅消息参数值内容限制说明").
LIMITS = {
    "thing": 20,  # any characters
    "number": 32,  # digits, may have a decimal point
    "letter": 32,  # letters only
    "symbol": 5,  # symbols only
    "character_string": 32,  # digits, letters, symbols (no Chinese)
    "phone_number": 17,  # digits and symbols
    "car_number": 8,  # first and last may be Chinese, the rest letters or digits
    "name": 10,  # Chinese (or up to 20 letters)
    "phrase": 5,  # Chinese only
    "amount": 16,  # a currency symbol, up to 10 digits, 2 decimals, optional 元
    "time": 40,
    "date": 40,
}
# Types whose value may be shortened to fit; the others are refused when they do not fit.
CUT = {"thing", "character_string", "letter", "symbol", "name", "phrase"}

_HAN = r"\u3400-\u9fff"
_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
_DAY = r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日)"
_TIME_POINT = rf"(?:{_DAY} )?{_CLOCK}"
_DATE_POINT = rf"{_DAY}(?: {_CLOCK})?"
_PATTERNS = {
    "number": re.compile(r"^\d+(?:\.\d+)?$"),
    "letter": re.compile(r"^[A-Za-z]+$"),
    "symbol": re.compile(rf"^[^0-9A-Za-z{_HAN}\s]+$"),
    "character_string": re.compile(rf"^[^{_HAN}]+$"),
    "phone_number": re.compile(r"^[0-9+\-()\s]+$"),
    "car_number": re.compile(rf"^[{_HAN}A-Za-z0-9][A-Za-z0-9]{{0,6}}[{_HAN}A-Za-z0-9]?$"),
    "name": re.compile(rf"^(?:[{_HAN}·]{{1,10}}|[A-Za-z .\-]{{1,20}})$"),
    "phrase": re.compile(rf"^[{_HAN}]{{1,5}}$"),
    "amount": re.compile(r"^[¥￥$]?\d{1,10}(?:\.\d{1,2})?元?$"),
    "time": re.compile(rf"^{_TIME_POINT}(?: ?~ ?{_TIME_POINT})?$"),
    "date": re.compile(rf"^{_DATE_POINT}(?: ?~ ?{_DATE_POINT})?$"),
}


def field_type(key: str) -> str:
    return key.rstrip("0123456789")


def problem(key: str, value: str) -> str | None:
    """Why WeChat would refuse this value for this key (None: it would not)."""
    kind = field_type(key)
    if kind not in LIMITS:
        return f"{key}: unknown field type {kind!r}"
    if not value.strip():
        return f"{key}: empty"
    limit = 20 if kind == "name" and value.isascii() else LIMITS[kind]
    if len(value) > limit:
        return f"{key}: longer than {limit} characters"
    pattern = _PATTERNS.get(kind)
    if pattern is not None and not pattern.match(value):
        return f"{key}: not a valid {kind} value"
    return None


def wechat_time(value: datetime, tz: str, *, with_clock: bool = True) -> str:
    """`2026-12-01 20:30` in the shop's time zone (`date` fields: `2026-12-01`)."""
    aware = value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))
    local = aware.astimezone(ZoneInfo(tz))
    return local.strftime("%Y-%m-%d %H:%M" if with_clock else "%Y-%m-%d")


def shape(key: str, value: Any, tz: str) -> str:
    """The value as WeChat wants it for this key: times formatted, cuttable types cut to their limit."""
    kind = field_type(key)
    if isinstance(value, datetime):
        return wechat_time(value, tz, with_clock=kind != "date")
    text = str(value)
    if kind in ("time", "date") and "T" in text:
        # An ISO timestamp from an event payload (`2026-12-01T12:30:00+00:00`).
        try:
            return wechat_time(datetime.fromisoformat(text), tz, with_clock=kind == "time")
        except ValueError:
            pass
    if kind in CUT:
        text = text[: 20 if kind == "name" and text.isascii() else LIMITS[kind]]
    return text


# ---- what each event offers a template ---------------------------------------------------------

_COMMON = {"now"}
_ORDER = {"order_id", "order_no", "payable_yuan", "title", "created_at"}
_PAID = _ORDER | {"paid_yuan", "paid_at"}
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "OrderPaid": frozenset(_COMMON | _PAID | {"customer_id", "source", "payment_id", "paid_fen"}),
    "OrderShipped": frozenset(_COMMON | _PAID | {"customer_id", "carrier", "tracking_no", "shipped_at"}),
    "OrderRefunded": frozenset(_COMMON | _PAID | {"refund_id", "amount_fen", "amount_yuan", "kind"}),
    "GroupSucceeded": frozenset(_COMMON | {"group_id", "activity_id", "leader_id", "size", "virtual_members"}),
    "SeckillNotify": frozenset(_COMMON | {"why", "item_id", "sku_id", "session_id"}),
    "CommissionAccrued": frozenset(_COMMON | _PAID | {"customer_id", "level", "amount_fen", "amount_yuan"}),
}
EVENTS = tuple(PLACEHOLDERS)
# Fields that hold a moment; they print as WeChat writes times.
MOMENTS = {"now", "created_at", "paid_at", "shipped_at"}


def placeholders(fmt: str) -> set[str]:
    """The names a format string uses (`{order_no}`, `{paid_at:%H}` → order_no, paid_at). ValueError if malformed."""
    names = set()
    for _, name, _, _ in string.Formatter().parse(fmt):
        if name is None:
            continue
        base = re.split(r"[.\[]", name, maxsplit=1)[0]
        if not base or base.isdigit():
            raise ValueError(f"{fmt!r}: a placeholder must be a name, e.g. {{order_no}}")
        names.add(base)
    return names


def normalize_page(page: str) -> str:
    """A mini-program page as WeChat takes it: no leading slash (`pages/x/y`)."""
    return page.strip().lstrip("/")


def check_templates(templates: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Refuse a template WeChat would refuse, or that would be sent with an empty value. Returns them
    with pages normalised. Raises ValueError naming every problem."""
    problems: list[str] = []
    out: dict[str, dict[str, Any]] = {}
    for event, t in templates.items():
        if event not in PLACEHOLDERS:
            problems.append(f"{event}: not an event (one of {', '.join(EVENTS)})")
            continue
        if not isinstance(t, dict) or not str(t.get("template_id") or "").strip():
            problems.append(f"{event}: template_id is required")
            continue
        data = t.get("data")
        if not isinstance(data, dict) or not data:
            problems.append(f'{event}: data maps each template field to a value, e.g. {{"thing1": "{{title}}"}}')
            continue
        offered = PLACEHOLDERS[event]
        fields = {**data, "page": str(t.get("page") or "")}
        for key, fmt in fields.items():
            if key != "page" and field_type(key) not in LIMITS:
                problems.append(f"{event}.{key}: unknown field type (one of {', '.join(LIMITS)})")
                continue
            try:
                used = placeholders(str(fmt))
            except ValueError as exc:
                problems.append(f"{event}.{key}: {exc}")
                continue
            if key != "page" and not used and not str(fmt).strip():
                problems.append(f"{event}.{key}: empty")
            for name in sorted(used - offered):
                problems.append(f"{event}.{key}: {{{name}}} is not offered by {event} ({', '.join(sorted(offered))})")
            if key != "page" and not used and (p := problem(key, str(fmt))):
                problems.append(f"{event}.{p}")
        out[event] = {**t, "page": normalize_page(str(t.get("page") or ""))}
    if problems:
        raise ValueError("subscribe templates refused: " + "; ".join(problems))
    return out
