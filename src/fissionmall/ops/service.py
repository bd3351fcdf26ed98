"""Operations: the job queue as the console sees it, and the dev clock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock, jobs
from fissionmall.core.db import Database


async def job_counts(s: AsyncSession) -> dict[str, int]:
    """Jobs by status (the jobs page's figures)."""
    rows = await s.execute(select(jobs.Job.status, func.count()).group_by(jobs.Job.status))
    return {st: int(n) for st, n in rows.all()}


async def list_jobs(s: AsyncSession, *, status: str, limit: int = 50) -> list[jobs.Job]:
    """The newest jobs in one status."""
    q = select(jobs.Job).where(jobs.Job.status == status).order_by(jobs.Job.id.desc()).limit(limit)
    return list((await s.scalars(q)).all())


async def advance_clock(db: Database, *, seconds: float) -> dict[str, Any]:
    """Dev only: move the app clock forward and run every job that became due."""
    clock.advance(seconds)
    ran = await jobs.run_due(db)
    return {"now": clock.now().isoformat(), "offset_seconds": clock.offset_seconds(), "jobs_run": ran}
