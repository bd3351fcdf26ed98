"""Shared API types: money in strict integer fen, times with offset, cursor pages.

The bounds here are the database's: a value a schema accepts is one every column it lands in can hold
and every page that shows it can render (docs/architecture.md, "API input rules").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from fissionmall.core.errors import AppError, CoreError
from fissionmall.settings import get_settings

T = TypeVar("T")

MAX_FEN = 10_000_000_000  # 1亿元: a sanity bound, so an absurd figure is a 4xx, not an overflow
MAX_BIGINT = 2**63 - 1  # what a BIGINT column (ids, money) holds

# Strict: 12.5 or "12" for a money field is a client bug worth refusing, not coercing.
Fen = Annotated[int, Field(strict=True, ge=0, le=MAX_FEN)]
Bp = Annotated[int, Field(strict=True, ge=0, le=10_000)]

# Every time a request sends lies in this window (bounds included). Far-future "never ends" habits
# (9999-12-31) overflow when shown in the shop's zone and far-past ones come out in local mean time
# (+08:05:43); "never ends" is an explicit null where the field allows it.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def in_window(d: datetime) -> bool:
    """Whether an aware datetime lies in [EARLIEST, LATEST] (comparing aware times cannot overflow)."""
    return EARLIEST <= d <= LATEST


def _check_window(d: datetime) -> datetime:
    if not in_window(d):
        raise PydanticCustomError(
            "datetime_out_of_window",
            "the time must lie between {earliest} and {latest}",
            {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
        )
    return d


# The type of every datetime a request sends: with an offset, inside the window.
DateTimeIn = Annotated[
    AwareDatetime,
    AfterValidator(_check_window),
    Field(description="ISO 8601 with an offset, between 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z"),
]


@lru_cache
def _tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def to_local(d: datetime) -> datetime:
    """`d` in the shop's zone. A row from before these bounds (year 9999, year 1) stays in UTC instead:
    converting it could overflow or pick up a local-mean-time offset, and a page must still render."""
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    if in_window(d):
        return d.astimezone(_tz())
    try:
        return d.astimezone(UTC)
    except OverflowError:
        return d


def _iso(d: datetime) -> str:
    return to_local(d).isoformat()


# Shown in the shop's time zone (Asia/Shanghai by default), always with its offset.
ApiDateTime = Annotated[datetime, PlainSerializer(_iso, return_type=str)]

# Control characters have no place in shop text: NUL is refused by PostgreSQL text columns (a 500 once),
# the rest garble pages and logs. Tab, CR and LF are kept for multi-line text; lone surrogates cannot be
# encoded as UTF-8 at all.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def bad_text_at(value: Any, loc: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """Where (a path of keys and indexes) the first string holding a control character lies, or None.
    Dict keys count as text too."""
    if isinstance(value, str):
        return loc if _BAD_CHARS.search(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and _BAD_CHARS.search(k):
                return (*loc, k)
            found = bad_text_at(v, (*loc, k))
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = bad_text_at(v, (*loc, i))
            if found is not None:
                return found
    return None


INVALID_CHARACTER_MSG = "text must not contain control characters (other than tab and line breaks)"


class ApiModel(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class ApiIn(ApiModel):
    """A request body checked for control characters by the model itself, for the front doors that do not
    pass through the app's middleware (core/inputs.py checks every other request once)."""

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        where = bad_text_at(data)
        if where is not None:
            raise PydanticCustomError(
                "invalid_character", INVALID_CHARACTER_MSG + " (at {where})", {"where": ".".join(map(str, where))}
            )
        return data


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("null_not_allowed", "null is not allowed here: leave the field out to keep it")
    return value


# A field of an update (PUT) that may be left out (None: unchanged) but never sent as null, because the
# column behind it cannot be empty. Fields whose column can be empty are plain `X | None`: null clears.
Patch = Annotated[T | SkipJsonSchema[None], BeforeValidator(_not_null)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def parse_cursor(cursor: str | None) -> int | None:
    """Cursors are opaque to clients; today they are the last id seen, so no larger than a BIGINT."""
    if cursor in (None, ""):
        return None
    # ASCII digits only: int() would also take "+5", " 5", "5_0" and other scripts' digits.
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 19):
        raise AppError(CoreError.CURSOR_INVALID)
    value = int(cursor)
    if not 1 <= value <= MAX_BIGINT:
        raise AppError(CoreError.CURSOR_INVALID)
    return value


def page_limit(limit: int | None, *, default: int = 20, maximum: int = 100) -> int:
    if limit is None:
        return default
    if limit < 1 or limit > maximum:
        raise AppError(CoreError.LIMIT_INVALID, f"每页数量须在 1 到 {maximum} 之间")
    return limit


# Path ids are bounded so an absurd id is a 422, not a database overflow.
IdPath = Annotated[int, Path(ge=1, le=2**62)]
