"""Console forms: what an operator types, read into the admin API's own schemas.

One reader for amounts in 元, rates in % and discounts in 折, and one mapping of Pydantic's refusals to
Chinese messages beside the field, so every console form accepts exactly what the API accepts. Part of the
console kit (re-exported by `web.console`); imports no domain.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fissionmall.core.schemas import MAX_FEN, in_window


def chinese(text: str) -> bool:
    """Whether a message is in the operator's language (has a CJK character)."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


_YUAN = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,2})?$")
_RATE = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
_ZHE = re.compile(r"^[0-9](\.[0-9]{1,3})?$")
_WHOLE = re.compile(r"^[0-9]{1,18}$")


def _typed(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()  # full-width digits and points, as phones type them


def fen_from_yuan(text: str) -> int | None:
    """'19.90' → 1990, exactly (decimal, never float). None for anything that is not a price."""
    t = _typed(text).lstrip("¥").strip()
    if not _YUAN.match(t):
        return None
    fen = int(Decimal(t) * 100)
    return fen if fen <= MAX_FEN else None


def _trimmed(units: int, scale: int) -> str:
    """`units` / `scale` written exactly, without trailing zeros: (1990, 100) → '19.9', (2000, 100) → '20'."""
    whole, part = divmod(units, scale)
    return f"{whole}.{part:0{len(str(scale)) - 1}d}".rstrip("0") if part else str(whole)


def yuan_field(fen: int | None) -> str:
    """What a 元 field shows for a saved amount ('' for none): fen_from_yuan reads it back to the same fen
    (integer arithmetic: a float's '%g' kept six digits, so ¥12,345.67 showed, and saved again, as 12345.7)."""
    return _trimmed(fen, 100) if fen is not None and fen >= 0 else ""


def zhe_field(off_bp: int) -> str:
    """What a 折 field shows for a discount of `off_bp` off (1500 → '8.5'): off_bp_from_zhe's inverse."""
    return _trimmed(10_000 - off_bp, 1000)


def bp_from_percent(text: str) -> int | None:
    """'12.5' (%) → 1250 basis points. None for anything that is not a rate from 0 to 100%."""
    t = _typed(text).rstrip("%％").strip()
    if not _RATE.match(t):
        return None
    bp = int(Decimal(t) * 100)
    return bp if bp <= 10_000 else None


def off_bp_from_zhe(text: str) -> int | None:
    """'9' or '9折' (pay 90%) → 1000 basis points off. None for anything that is not a discount."""
    t = _typed(text).removesuffix("折").strip()
    if not _ZHE.match(t):
        return None
    return int(10_000 - Decimal(t) * 1000)


def whole_number(text: str) -> int | None:
    """'12' → 12 (full-width digits too). None for anything that is not a whole number of at most 18 digits."""
    t = _typed(text)
    return int(t) if _WHOLE.match(t) else None


class FormInvalid(Exception):
    """A console form its schema refused: a Chinese message per field, shown beside the field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("form invalid")
        self.errors = errors

    @property
    def message(self) -> str:
        """All the messages in one line, for a page that shows one alert above the form."""
        return "；".join(dict.fromkeys(self.errors.values()))


M = TypeVar("M", bound=BaseModel)
_UNREADABLE = {  # what an unreadable value is called when the form names it no better, and what to type
    "money": ("金额", "请填写金额（元），例如 19.90"),
    "rate": ("比例", "请填写 0 到 100 之间的百分比"),
    "zhe": ("折扣", "请填写 0 到 9.9 之间的折数，例如 9折"),
    "whole": ("数量", "请填写整数"),
}
_PARSERS: dict[str, Callable[[str], int | None]] = {
    "money": fen_from_yuan,
    "rate": bp_from_percent,
    "zhe": off_bp_from_zhe,
    "whole": whole_number,
}


def _convert(value: Any, kinds: Mapping[str, str], unread: dict[str, str], path: str) -> Any:
    """Read the typed text of money, rate and discount fields at any depth (nested rows and lists)."""
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            kind = kinds.get(str(k))
            if kind and isinstance(v, str):
                if not v.strip():
                    out[k] = None
                    continue
                parsed = _PARSERS[kind](v)
                if parsed is None:
                    unread[here] = kind
                out[k] = v if parsed is None else parsed  # unread text stays, so the schema refuses it too
            else:
                out[k] = _convert(v, kinds, unread, here)
        return out
    if isinstance(value, list):
        return [_convert(v, kinds, unread, f"{path}.{i}") for i, v in enumerate(value)]
    return value


def _message(err: Mapping[str, Any], label: str) -> str:
    kind, ctx = str(err.get("type", "")), err.get("ctx") or {}
    if (
        kind == "missing"
        or (kind.endswith("_type") and err.get("input") is None)
        or (kind == "string_too_short" and ctx.get("min_length") == 1)
    ):
        return f"请填写{label}"
    if kind in ("string_too_long", "too_long"):
        unit = "个字" if kind == "string_too_long" else "项"
        return f"{label}最多 {ctx.get('max_length')} {unit}"
    if kind == "too_short":
        n = ctx.get("min_length")
        return f"至少需要一个{label}" if n == 1 else f"{label}至少 {n} 项"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{label}不能小于 {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"{label}不能大于 {ctx.get('le', ctx.get('lt'))}"
    if kind.startswith("int_"):
        return f"{label}须为整数"
    if kind.startswith(("datetime", "date", "timezone")):
        return f"{label}时间格式不正确"
    if kind in ("literal_error", "enum", "string_pattern_mismatch"):
        return f"请选择{label}"
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    return msg if chinese(msg) else f"{label}填写有误"


def _label(path: str, labels: Mapping[str, str], default: str) -> str:
    """A field's name for the operator: by its dotted path, else its own name (`price_fen`), else its top."""
    parts = path.split(".")
    return next((labels[n] for n in (path, parts[-1], parts[0]) if n in labels), default)


def field_errors(exc: ValidationError, labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """Pydantic's refusals in the operator's words, keyed by the field's dotted path (`skus.0.price_fen`).

    `labels` names the fields by dotted path or by their own name; an unnamed field is called by its path."""
    out: dict[str, str] = {}
    for err in exc.errors():
        if err.get("type") == "none_required":
            continue  # the `None` branch of an optional field (`X | None`, `Patch[X]`): the other branch says why
        # A union's branch is named in the location ("list[ItemUpdate]", "constrained-int"); the operator
        # knows only the field, so the path keeps field names and row numbers.
        loc = [x for x in err.get("loc", ()) if isinstance(x, int) or str(x).isidentifier()]
        path = ".".join(str(x) for x in loc) or "form"
        out.setdefault(path, _message(err, _label(path, labels or {}, path)))
    return out


def form_to(
    schema: type[M],
    form: Mapping[str, Any],
    *,
    money: Iterable[str] = (),
    rate: Iterable[str] = (),
    zhe: Iterable[str] = (),
    whole: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
) -> M:
    """Validate a console form through the admin API's own schema, so the console accepts what the API does.

    `form` is the body as typed (text, with nested rows as dicts and lists); fields named in `money` are
    read as 元 and become fen, in `rate` as % and become basis points, in `zhe` as 折 and become basis
    points off, in `whole` as whole numbers (a blank one becomes null). Raises `FormInvalid` with a Chinese
    message per field; an `AppError` raised by the schema's own checks passes through as it is."""
    kinds = {
        **dict.fromkeys(money, "money"),
        **dict.fromkeys(rate, "rate"),
        **dict.fromkeys(zhe, "zhe"),
        **dict.fromkeys(whole, "whole"),
    }
    unread: dict[str, str] = {}
    body = _convert(dict(form), kinds, unread, "")
    errors: dict[str, str] = {}
    for path, kind in unread.items():
        what, hint = _UNREADABLE[kind]
        errors[path] = f"{_label(path, labels or {}, what)}格式不正确，{hint}"
    try:
        data = schema.model_validate(body)
    except ValidationError as exc:
        raise FormInvalid({**field_errors(exc, labels), **errors}) from None
    if errors:  # a schema that takes text where an amount belongs still gets no unreadable amount
        raise FormInvalid(errors)
    return data


# ---- several mistakes in one submit, and times typed in the shop's zone -------------------------------

_LOCAL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$")


def local_datetime(text: str, zone: tzinfo) -> datetime | None:
    """'2026-05-01T10:00' (a datetime-local picker's value) read as the shop's wall clock → an aware datetime.

    None for anything that is not such a time (a blank, a typo, 2026-02-30); whether it lies in the window
    the API accepts is the schema's to say."""
    m = _LOCAL.match(_typed(text))
    if not m:
        return None
    try:
        y, mo, d, h, mi, sec = (int(g or 0) for g in m.groups())
        return datetime(y, mo, d, h, mi, sec, tzinfo=zone)
    except ValueError:
        return None


def picker_value(d: datetime | None, zone: tzinfo) -> str:
    """An aware datetime as a datetime-local picker shows it in the shop's zone ('' for none)."""
    if d is None:
        return ""
    try:
        return d.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    except (OverflowError, ValueError):  # a row from before the API's window: shown as it is stored
        return d.strftime("%Y-%m-%dT%H:%M")


class FormErrors:
    """A form's own mistakes, field by field, gathered so that one submit reports every one of them.

    Keys are the schema's dotted paths (`amount_fen`, `items.0.sku_id`), the same as `form_to` uses, so a
    template shows each message beside its field whoever found it."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, path: str, message: str) -> None:
        """Note a mistake (the first one said about a field stands)."""
        self.errors.setdefault(path, message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def when(self, path: str, text: str, zone: tzinfo, label: str) -> datetime | None:
        """A datetime-local picker's value in the shop's zone; a blank is None, anything unreadable or outside
        the window the API accepts is noted against `path` (and read as None)."""
        if not text.strip():
            return None
        d = local_datetime(text, zone)
        if d is None:
            self.add(path, f"{label}格式不正确，请用日期时间选择器选择")
        elif not in_window(d):
            self.add(path, f"{label}须在 2000 年到 2100 年之间")
            return None
        return d

    def validate(self, schema: type[M], form: Mapping[str, Any], **kinds: Any) -> M:
        """`form_to`, then every mistake at once: the form's own, then the schema's about the other fields."""
        try:
            data = form_to(schema, form, **kinds)
        except FormInvalid as exc:
            raise FormInvalid({**exc.errors, **self.errors}) from None
        if self.errors:
            raise FormInvalid(dict(self.errors))
        return data
