"""A worker process for the fault test: claims a job, signals it, then hangs until killed.

Run as `python -m tests.platform.fault_worker <db_url> <marker_file>`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import jobs
from fissionmall.core.db import Database
from fissionmall.core.jobs import Event, Job

MARKER_ENV = "FM_FAULT_MARKER"


@jobs.handler("test.fault_probe")
async def fault_probe(s: AsyncSession, job: Job) -> None:
    """Writes its effect, then (in the doomed worker) hangs before the transaction can commit."""
    s.add(Event(type="FaultProbeHandled", payload={"job_id": job.id}, created_at=job.created_at))
    await s.flush()
    marker = os.environ.get(MARKER_ENV)
    if marker:
        Path(marker).write_text("claimed")  # noqa: ASYNC240 - a one-off signal file, in a test worker
        await asyncio.sleep(3600)


async def main(url: str) -> None:
    db = Database(url)
    await jobs.run_due(db)


if __name__ == "__main__":
    os.environ[MARKER_ENV] = sys.argv[2]
    asyncio.run(main(sys.argv[1]))
