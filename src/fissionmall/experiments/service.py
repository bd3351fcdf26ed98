"""Experiments: CRUD, the live set (process cache), a shopper's arm, exposures once, keeping the winner.

While an experiment runs, the promotions named in its arms' plans price only for the shoppers of their
arm; shoppers outside the test (not covered, not signed in) get the control arm's plan, or none of
them when no arm is the control. A coupon template in a plan is issued once to each shopper of its arm
when they are exposed. Keeping the winner ends the test: the winner's promotions price for everyone
(nothing hides them any more), the other arms' promotions and coupon templates are paused, and the
winner's coupon templates go on being issued to every shopper exposed from then on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.catalog.models import Product
from fissionmall.core import cache, clock
from fissionmall.core.db import keyset_page
from fissionmall.core.errors import AppError, Conflict, NotFound
from fissionmall.coupons import service as coupons
from fissionmall.coupons.models import CouponTemplate
from fissionmall.coupons.schemas import TemplateUpdate
from fissionmall.experiments import rules
from fissionmall.experiments.errors import ExperimentsError
from fissionmall.experiments.models import Experiment, ExperimentArm, Exposure
from fissionmall.experiments.schemas import ArmIn, ExperimentCreate, ExperimentUpdate
from fissionmall.promotions import service as promotions
from fissionmall.promotions.models import Promotion
from fissionmall.promotions.schemas import PromotionUpdate

EXPERIMENTS = "experiments"


@dataclass(frozen=True)
class LiveArm:
    id: int
    weight: int
    control: bool
    promotion_ids: frozenset[int]
    template_ids: tuple[int, ...]
    name: str = ""


@dataclass(frozen=True)
class LiveExperiment:
    id: int
    product_id: int | None
    coverage_bp: int
    starts_at: datetime
    ends_at: datetime
    arms: tuple[LiveArm, ...]
    kept: LiveArm | None = None  # ended with a winner: only its coupon templates are still issued

    def running(self, now: datetime) -> bool:
        return self.kept is None and self.starts_at <= now < self.ends_at

    def arm_of(self, customer_id: int | None) -> LiveArm | None:
        """The shopper's arm; None outside the test (then the control's plan applies, if any)."""
        if customer_id is None:
            return None
        i = rules.assign(self.id, customer_id, weights=[a.weight for a in self.arms], coverage_bp=self.coverage_bp)
        return None if i is None else self.arms[i]

    def control(self) -> LiveArm | None:
        return next((a for a in self.arms if a.control), None)

    def hidden_for(self, customer_id: int | None) -> frozenset[int]:
        """The promotions this shopper must not get: every arm's but their own (or the control's)."""
        mine = self.arm_of(customer_id) or self.control()
        return frozenset().union(*(a.promotion_ids for a in self.arms if a is not mine))


def plan_of(a: ArmIn) -> dict[str, list[int]]:
    """An arm's plan as stored (ids sorted, no repeats)."""
    return {
        "promotion_ids": sorted(set(a.plan.promotion_ids)),
        "coupon_template_ids": sorted(set(a.plan.coupon_template_ids)),
    }


def _live_arm(a: ExperimentArm) -> LiveArm:
    return LiveArm(
        a.id,
        a.weight,
        a.control,
        frozenset(int(i) for i in a.plan.get("promotion_ids", [])),
        tuple(int(i) for i in a.plan.get("coupon_template_ids", [])),
        a.name,
    )


async def _load_live(s: AsyncSession) -> tuple[datetime, tuple[LiveExperiment, ...]]:
    now = clock.now()
    rows = await s.scalars(
        select(Experiment).where((Experiment.status == "active") | (Experiment.winner_arm_id.is_not(None)))
    )
    out = []
    for e in rows.all():
        arms = tuple(_live_arm(a) for a in e.arms)
        kept = next((a for a in arms if a.id == e.winner_arm_id), None) if e.status == "ended" else None
        if e.status == "ended" and (kept is None or not kept.template_ids):
            continue
        out.append(LiveExperiment(e.id, e.product_id, e.coverage_bp, e.starts_at, e.ends_at, arms, kept))
    return now, tuple(out)


_live: cache.Value[tuple[datetime, tuple[LiveExperiment, ...]]] = cache.Value(EXPERIMENTS)


async def live(s: AsyncSession) -> list[LiveExperiment]:
    """Active experiments (running, yet to start, or past their end with no winner kept) and ended ones
    whose kept winner still issues coupons (process cache)."""
    now = clock.now()
    _, held = await _live.get(s, _load_live, valid=lambda h: h[0] <= now)
    return list(held)


async def variant_of(s: AsyncSession, *, customer_id: int | None, at: datetime) -> str | None:
    """The arm of an experiment running at `at` that this shopper was shown by then, as analytics stores
    it ("<experiment id>:<arm name>"); the oldest experiment's when several test them; None outside any."""
    if customer_id is None:
        return None
    running = {e.id: e for e in await live(s) if e.kept is None and e.starts_at <= at < e.ends_at}
    if not running:
        return None
    row = (
        await s.execute(
            select(Exposure.experiment_id, Exposure.arm_id)
            .where(Exposure.experiment_id.in_(sorted(running)), Exposure.customer_id == customer_id, Exposure.at <= at)
            .order_by(Exposure.experiment_id)
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    arm = next((a for a in running[row[0]].arms if a.id == row[1]), None)
    return f"{row[0]}:{arm.name if arm else row[1]}"[:64]


async def hidden_promotions(s: AsyncSession, *, customer_id: int | None) -> frozenset[int]:
    """The promotions the active experiments keep from this shopper (None: an anonymous page). Before
    the start, and after the end until a winner is kept, everyone sees what outsiders see (the control)."""
    now = clock.now()
    hidden: frozenset[int] = frozenset()
    for e in await live(s):
        if e.kept is None:
            hidden |= e.hidden_for(customer_id if e.running(now) else None)
    return hidden


# ---- CRUD ----------------------------------------------------------------------------------------


def _check_arms(arms: Sequence[ArmIn]) -> None:
    names = [a.name for a in arms]
    if len(set(names)) != len(names) or sum(a.control for a in arms) > 1:
        raise AppError(ExperimentsError.ARMS_INVALID)
    for key in ("promotion_ids", "coupon_template_ids"):
        ids = [i for a in arms for i in set(getattr(a.plan, key))]
        if len(set(ids)) != len(ids):
            raise AppError(ExperimentsError.PLAN_DUPLICATE)


async def _check_plans(s: AsyncSession, arms: Sequence[ArmIn], *, experiment_id: int | None) -> None:
    promo_ids = {i for a in arms for i in a.plan.promotion_ids}
    tpl_ids = {i for a in arms for i in a.plan.coupon_template_ids}
    if promo_ids and len((await s.scalars(select(Promotion.id).where(Promotion.id.in_(promo_ids)))).all()) != len(
        promo_ids
    ):
        raise AppError(ExperimentsError.PLAN_PROMOTION_NOT_FOUND)
    found = (await s.scalars(select(CouponTemplate.id).where(CouponTemplate.id.in_(tpl_ids)))).all() if tpl_ids else []
    if len(found) != len(tpl_ids):
        raise AppError(ExperimentsError.PLAN_TEMPLATE_NOT_FOUND)
    others = await s.scalars(
        select(Experiment).where(Experiment.status == "active", Experiment.id != (experiment_id or 0))
    )
    for e in others.all():
        for a in e.arms:
            if promo_ids & set(a.plan.get("promotion_ids", [])) or tpl_ids & set(a.plan.get("coupon_template_ids", [])):
                raise Conflict(ExperimentsError.PLAN_IN_OTHER_EXPERIMENT, experiment_id=e.id)


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise AppError(ExperimentsError.EXPERIMENT_WINDOW_INVALID)


def _arms_rows(arms: Iterable[ArmIn]) -> list[ExperimentArm]:
    return [
        ExperimentArm(position=i, name=a.name, weight=a.weight, control=a.control, plan=plan_of(a))
        for i, a in enumerate(arms)
    ]


async def create(s: AsyncSession, *, data: ExperimentCreate) -> Experiment:
    """A new experiment with its arms (checked: window, arms, plans that exist and no other test holds)."""
    _check_window(data.starts_at, data.ends_at)
    _check_arms(data.arms)
    if data.product_id is not None and await s.get(Product, data.product_id) is None:
        raise AppError(ExperimentsError.EXPERIMENT_PRODUCT_NOT_FOUND)
    await _check_plans(s, data.arms, experiment_id=None)
    now = clock.now()
    e = Experiment(
        name=data.name,
        product_id=data.product_id,
        coverage_bp=data.coverage_bp,
        min_sample=data.min_sample,
        max_cost_bp=data.max_cost_bp,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        created_at=now,
        updated_at=now,
        arms=_arms_rows(data.arms),
    )
    s.add(e)
    await s.flush()
    await cache.bump(s, EXPERIMENTS)
    return e


async def get(s: AsyncSession, *, experiment_id: int) -> Experiment:
    """An experiment by id with its arms, or EXPERIMENT_NOT_FOUND."""
    e = await s.get(Experiment, experiment_id, populate_existing=True)
    if e is None:
        raise NotFound(ExperimentsError.EXPERIMENT_NOT_FOUND)
    return e


async def exposures(s: AsyncSession, *, experiment_id: int) -> int:
    """How many shoppers have been exposed."""
    return int(await s.scalar(select(func.count()).where(Exposure.experiment_id == experiment_id)) or 0)


async def update(s: AsyncSession, *, experiment_id: int, data: ExperimentUpdate) -> Experiment:
    """Edit an active experiment; its arms only before the first exposure (coverage may change any time)."""
    e = await get(s, experiment_id=experiment_id)
    if e.status != "active":
        raise Conflict(ExperimentsError.EXPERIMENT_ENDED)
    changes = data.model_dump(exclude_unset=True)
    _check_window(changes.get("starts_at", e.starts_at), changes.get("ends_at", e.ends_at))
    if data.arms is not None:
        if await exposures(s, experiment_id=e.id):
            raise Conflict(ExperimentsError.EXPERIMENT_STARTED)
        _check_arms(data.arms)
        await _check_plans(s, data.arms, experiment_id=e.id)
        e.arms = _arms_rows(data.arms)  # the old rows are orphans: deleted
    for k in ("name", "starts_at", "ends_at", "coverage_bp", "min_sample", "max_cost_bp"):
        if k in changes:
            setattr(e, k, changes[k])
    e.updated_at = clock.now()
    await s.flush()
    await cache.bump(s, EXPERIMENTS)
    return e


async def delete(s: AsyncSession, *, experiment_id: int) -> None:
    """Delete an experiment nobody was exposed to (else EXPERIMENT_IN_USE: end it instead)."""
    e = await get(s, experiment_id=experiment_id)
    if await exposures(s, experiment_id=e.id):
        raise Conflict(ExperimentsError.EXPERIMENT_IN_USE)
    await s.delete(e)
    await s.flush()
    await cache.bump(s, EXPERIMENTS)


async def list_experiments(
    s: AsyncSession, *, before_id: int | None, limit: int
) -> tuple[list[Experiment], str | None]:
    """Experiments, newest first."""
    stmt = select(Experiment).order_by(Experiment.id.desc())
    if before_id is not None:
        stmt = stmt.where(Experiment.id < before_id)
    return await keyset_page(s, stmt, limit=limit)


async def keep_winner(s: AsyncSession, *, experiment_id: int, arm_id: int) -> Experiment:
    """End the test keeping one arm: its plan applies to every shopper, the other arms' plans are paused."""
    e = await get(s, experiment_id=experiment_id)
    if e.status != "active":
        raise Conflict(ExperimentsError.EXPERIMENT_ENDED)
    winner = next((a for a in e.arms if a.id == arm_id), None)
    if winner is None:
        raise AppError(ExperimentsError.EXPERIMENT_ARM_NOT_FOUND)
    kept_promos = set(winner.plan.get("promotion_ids", []))
    kept_tpls = set(winner.plan.get("coupon_template_ids", []))
    for a in e.arms:
        for pid in a.plan.get("promotion_ids", []):
            if pid not in kept_promos and await s.get(Promotion, pid) is not None:
                await promotions.update_promotion(s, promotion_id=pid, data=PromotionUpdate(status="paused"))
        for tid in a.plan.get("coupon_template_ids", []):
            if tid not in kept_tpls and await s.get(CouponTemplate, tid) is not None:
                await coupons.update_template(s, template_id=tid, data=TemplateUpdate(status="paused"))
    now = clock.now()
    e.status, e.winner_arm_id, e.ended_at, e.updated_at = "ended", winner.id, now, now
    await s.flush()
    await cache.bump(s, EXPERIMENTS)
    return e


# ---- exposure ------------------------------------------------------------------------------------


def _insert_ignore(s: AsyncSession, values: dict[str, Any]) -> Any:
    if s.get_bind().dialect.name == "postgresql":
        return postgresql.insert(Exposure).values(**values).on_conflict_do_nothing().returning(Exposure.arm_id)
    return sqlite.insert(Exposure).values(**values).on_conflict_do_nothing().returning(Exposure.arm_id)


async def _issue(s: AsyncSession, *, experiment_id: int, arm: LiveArm, customer_id: int) -> None:
    for tid in arm.template_ids:
        try:
            async with s.begin_nested():
                await coupons.grant(
                    s,
                    template_id=tid,
                    customer_id=customer_id,
                    source="experiment",
                    grant_key=f"experiment:{experiment_id}:{tid}:{customer_id}",
                )
        except (AppError, IntegrityError):
            pass  # sold out, paused or already given (a racing request too): the shopper still counts


async def expose(s: AsyncSession, *, experiment: LiveExperiment, customer_id: int) -> bool:
    """Record the shopper's arm once (True the first time) and issue the arm's coupon templates then.
    After the winner was kept its coupons go to every shopper (no exposure is recorded any more)."""
    if experiment.kept is not None:
        await _issue(s, experiment_id=experiment.id, arm=experiment.kept, customer_id=customer_id)
        return False
    arm = experiment.arm_of(customer_id)
    if arm is None:
        return False
    at = clock.now()
    got = await s.execute(
        _insert_ignore(s, {"experiment_id": experiment.id, "customer_id": customer_id, "arm_id": arm.id, "at": at})
    )
    if got.first() is None:
        return False
    await _issue(s, experiment_id=experiment.id, arm=arm, customer_id=customer_id)
    return True


async def _badge_hidden(s: AsyncSession) -> frozenset[int]:
    return await hidden_promotions(s, customer_id=None)


promotions.register_badge_filter(_badge_hidden)
