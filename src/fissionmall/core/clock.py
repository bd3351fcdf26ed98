"""The app clock. Nothing calls datetime.now() directly, so tests and the dev
clock (`POST /api/admin/v1/dev/clock`) can move time for every domain at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    """The current time, timezone-aware UTC, shifted by the dev offset."""
    return datetime.now(UTC) + _offset


def advance(seconds: float) -> datetime:
    global _offset
    if seconds < 0:
        raise ValueError("the clock only moves forward")
    _offset += timedelta(seconds=seconds)
    return now()


def set_offset(seconds: float) -> None:
    global _offset
    _offset = timedelta(seconds=seconds)


def offset_seconds() -> float:
    return _offset.total_seconds()


def reset() -> None:
    set_offset(0)
