"""Experiments over the admin API: CRUD, results, keeping the winner (marketing permissions)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from fissionmall.accounts.deps import Admin, require
from fissionmall.core.deps import Cursor, DbDep, Limit
from fissionmall.core.schemas import IdPath, Page, page_limit, parse_cursor
from fissionmall.experiments import results, service
from fissionmall.experiments.schemas import (
    ExperimentAdmin,
    ExperimentCreate,
    ExperimentUpdate,
    KeepWinner,
    ResultsAdmin,
    experiment_out,
)

admin_router = APIRouter(tags=["admin: experiments"])

MarketingRead = Annotated[Admin, Depends(require("marketing.read"))]
MarketingWrite = Annotated[Admin, Depends(require("marketing"))]


@admin_router.get("/experiments", response_model=Page[ExperimentAdmin])
async def list_experiments(_: MarketingRead, db: DbDep, limit: Limit = None, cursor: Cursor = None) -> Any:
    async with db.read() as s:
        rows, nxt = await service.list_experiments(s, before_id=parse_cursor(cursor), limit=page_limit(limit))
        return Page(items=[experiment_out(e) for e in rows], next_cursor=nxt)


@admin_router.post("/experiments", response_model=ExperimentAdmin, status_code=201)
async def create(body: ExperimentCreate, _: MarketingWrite, db: DbDep) -> ExperimentAdmin:
    """A/B test: two to six weighted arms, each a plan of promotions and/or coupon templates."""
    async with db.tx() as s:
        return experiment_out(await service.create(s, data=body))


@admin_router.get("/experiments/{experiment_id}", response_model=ExperimentAdmin)
async def get(experiment_id: IdPath, _: MarketingRead, db: DbDep) -> ExperimentAdmin:
    async with db.read() as s:
        return experiment_out(await service.get(s, experiment_id=experiment_id))


@admin_router.put("/experiments/{experiment_id}", response_model=ExperimentAdmin)
async def update(experiment_id: IdPath, body: ExperimentUpdate, _: MarketingWrite, db: DbDep) -> ExperimentAdmin:
    """Edit an experiment: arms only before its first visitor; coverage any time (nobody changes arm)."""
    async with db.tx() as s:
        return experiment_out(await service.update(s, experiment_id=experiment_id, data=body))


@admin_router.delete("/experiments/{experiment_id}", status_code=204)
async def delete(experiment_id: IdPath, _: MarketingWrite, db: DbDep) -> Response:
    async with db.tx() as s:
        await service.delete(s, experiment_id=experiment_id)
    return Response(status_code=204)


@admin_router.get("/experiments/{experiment_id}/results", response_model=ResultsAdmin)
async def get_results(experiment_id: IdPath, _: MarketingRead, db: DbDep) -> Any:
    """Visitors, conversions, revenue per visitor per arm; SRM, z-test, Welch; the verdict and guardrails."""
    async with db.read() as s:
        e = await service.get(s, experiment_id=experiment_id)
        return results.analyse(e, await results.figures(s, e=e))


@admin_router.post("/experiments/{experiment_id}/keep-winner", response_model=ExperimentAdmin)
async def keep_winner(experiment_id: IdPath, body: KeepWinner, _: MarketingWrite, db: DbDep) -> ExperimentAdmin:
    """End the test with one arm: its plan applies to everyone, the other arms' promotions and coupons pause."""
    async with db.tx() as s:
        return experiment_out(await service.keep_winner(s, experiment_id=experiment_id, arm_id=body.arm_id))
