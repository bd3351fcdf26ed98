"""Shared API types: money in strict integer fen, times with offset, cursor pages."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Generic, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from fissionmall.core.errors import AppError
from fissionmall.settings import get_settings

T = TypeVar("T")

MAX_FEN = 10_000_000_000  # 1亿元: a sanity bound, so an absurd figure is a 4xx, not an overflow

# Strict: 12.5 or "12" for a money field is a client bug worth refusing, not coercing.
Fen = Annotated[int, Field(strict=True, ge=0, le=MAX_FEN)]
Bp = Annotated[int, Field(strict=True, ge=0, le=10_000)]


@lru_cache
def _tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def _iso(d: datetime) -> str:
    return d.astimezone(_tz()).isoformat()


# Shown in the shop's time zone (Asia/Shanghai by default), always with its offset.
ApiDateTime = Annotated[datetime, PlainSerializer(_iso, return_type=str)]


class ApiModel(BaseModel):
    model_config = ConfigDict(from_attributes=True, extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def parse_cursor(cursor: str | None) -> int | None:
    """Cursors are opaque to clients; today they are the last id seen."""
    if cursor in (None, ""):
        return None
    try:
        value = int(cursor)
    except ValueError:
        raise AppError("CURSOR_INVALID", "the cursor is not valid") from None
    if value <= 0:
        raise AppError("CURSOR_INVALID", "the cursor is not valid")
    return value


def page_limit(limit: int | None, *, default: int = 20, maximum: int = 100) -> int:
    if limit is None:
        return default
    if limit < 1 or limit > maximum:
        raise AppError("LIMIT_INVALID", f"limit must be between 1 and {maximum}")
    return limit


# Path ids are bounded so an absurd id is a 422, not a database overflow.
IdPath = Annotated[int, Path(ge=1, le=2**62)]
