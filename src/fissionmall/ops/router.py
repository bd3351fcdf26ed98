from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from fissionmall.accounts.deps import Admin, require
from fissionmall.core import jobs
from fissionmall.core.deps import DbDep, SettingsDep
from fissionmall.core.errors import AppError, CoreError, NotFound
from fissionmall.core.schemas import ApiDateTime, ApiModel, IdPath
from fissionmall.ops import service
from fissionmall.ops.errors import OpsError

admin_router = APIRouter(tags=["admin: operations"])
System = Annotated[Admin, Depends(require("system"))]


class ClockAdvance(ApiModel):
    advance_seconds: Annotated[int, Field(strict=True, ge=0, le=366 * 24 * 3600)]


@admin_router.post("/dev/clock")
async def dev_clock(body: ClockAdvance, _: System, db: DbDep, settings: SettingsDep) -> dict[str, Any]:
    """Dev mode only: move the app clock and run due timers."""
    if not settings.dev:
        raise NotFound(CoreError.NOT_FOUND)
    return await service.advance_clock(db, seconds=body.advance_seconds)


class JobAdmin(ApiModel):
    id: int
    handler: str
    status: str
    attempts: int
    last_error: str | None
    payload: dict[str, Any]
    due_at: ApiDateTime
    created_at: ApiDateTime


@admin_router.get("/jobs", response_model=list[JobAdmin])
async def list_jobs(
    _: System, db: DbDep, status: Annotated[str, Query(pattern="^(pending|done|dead)$")] = "dead"
) -> list[jobs.Job]:
    """The job queue; `status=dead` lists dead letters."""
    async with db.read() as s:
        return await service.list_jobs(s, status=status)


@admin_router.post("/jobs/{job_id}/retry")
async def retry_job(job_id: IdPath, _: System, db: DbDep) -> dict[str, Any]:
    async with db.tx() as s:
        if not await jobs.retry_dead(s, job_id):
            raise AppError(OpsError.JOB_NOT_DEAD)
    return {"id": job_id, "status": "pending"}
