"""SQL statement and transaction counters for the benchmark: on only with `FISSIONMALL_SQL_STATS=1`.

Off (the default) nothing here is installed: no listener, no file, no route. On, every statement the
engine sends (an executemany counts once: it is one call to the driver) and every commit and rollback
is counted per process, by the statement's first word, and the totals are written every
`WRITE_SECONDS` to `<var_dir>/sql-stats/<pid>.json` (and once more at shutdown). The bench sums the
files of all server processes at the start and end of its measured window, so the figures hold for
`--workers 2` as well, and no HTTP route exposes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

WRITE_SECONDS = 0.1

counts: Counter[str] = Counter()


def install(engine: AsyncEngine) -> None:
    sync = engine.sync_engine

    @event.listens_for(sync, "before_cursor_execute")
    def _statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        counts["statements"] += 1
        head = statement.lstrip()[:12].split(None, 1)
        counts["stmt:" + (head[0].upper() if head else "?")] += 1

    @event.listens_for(sync, "commit")
    def _commit(_conn: Any) -> None:
        counts["commits"] += 1

    @event.listens_for(sync, "rollback")
    def _rollback(_conn: Any) -> None:
        counts["rollbacks"] += 1


def snapshot() -> dict[str, int]:
    return dict(counts)


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{os.getpid()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(snapshot()))
    os.replace(tmp, path)  # a reader never sees half a file


async def writer(directory: Path, stop: asyncio.Event) -> None:
    """Keep this process's file current until `stop`, then write it one last time."""
    try:
        while not stop.is_set():
            write(directory)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=WRITE_SECONDS)
    finally:
        write(directory)


def read_all(directory: Path) -> dict[str, int]:
    """The sum over every process's file (what the bench reads)."""
    total: Counter[str] = Counter()
    for f in directory.glob("*.json"):
        with contextlib.suppress(OSError, ValueError):
            total.update(json.loads(f.read_text()))
    return dict(total)
