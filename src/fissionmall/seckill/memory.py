"""What one process remembers between flash-sale requests, so a storm costs no query per attempt.

The sold-out hint (a spent pool answered from memory for half a second), the item ids known not to
exist (junk ids kept off the database), outcome counts when there is no Redis (the console's board),
and the queue of SQLite writers. All of it is per process and may be forgotten at any time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

from fissionmall.core.db import Database

_SOLD_OUT_HINT_SECONDS = 0.5
_MISSING_HINT_SECONDS = 5
_sold_out_until: dict[int, float] = {}
_missing: dict[int, float] = {}  # item ids known not to exist, to keep junk ids off the database
_local_stats: dict[int, Counter[str]] = {}
_writers: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


def _now() -> float:
    return asyncio.get_running_loop().time()


def sold_out(item_id: int) -> bool:
    """Whether this process saw the item's pool spent a moment ago."""
    return _sold_out_until.get(item_id, 0) > _now()


def hint_sold_out(item_id: int) -> None:
    """A storm on a spent pool is answered from memory for a moment; a cancellation shows within it."""
    _sold_out_until[item_id] = _now() + _SOLD_OUT_HINT_SECONDS


def forget_sold_out(item_id: int) -> None:
    """Units came back (a raised pool, a cancelled order): they sell at once, not after the hint expires."""
    _sold_out_until.pop(item_id, None)


def known_missing(item_id: int) -> bool:
    """Whether this process found a moment ago that no such item exists."""
    return _missing.get(item_id, 0) > _now()


def hint_missing(item_id: int) -> None:
    """Remember for a few seconds that the item does not exist."""
    _missing[item_id] = _now() + _MISSING_HINT_SECONDS


def count(item_id: int, outcome: str) -> None:
    """Count an attempt's outcome here (embedded mode: the board's figures without Redis)."""
    _local_stats.setdefault(item_id, Counter())[outcome] += 1


def local_counts(item_id: int) -> dict[str, int]:
    """The outcomes this process counted for the item."""
    return dict(_local_stats.get(item_id, Counter()))


def forget_hints() -> None:
    """Drop this process's per-item hints (sold out, unknown) and outcome counts: for a database emptied
    under a running process, as the tests do between cases, where item ids start again."""
    _sold_out_until.clear()
    _missing.clear()
    _local_stats.clear()


def writer(db: Database) -> Any:
    """SQLite takes one writer at a time anyway: queue attempts here, not for pooled connections."""
    if not db.is_sqlite:
        return contextlib.nullcontext()
    loop = asyncio.get_running_loop()
    if loop not in _writers:
        _writers.clear()  # one loop per process in production; tests start a new one per test
        _writers[loop] = asyncio.Lock()
    return _writers[loop]
