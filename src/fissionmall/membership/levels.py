"""The level editor: levels and their benefits (CRUD), the default ladder saved on first use, the base
level that always exists. Every change queues the members' levels to be worked out again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import cache, clock, jobs
from fissionmall.core.db import is_postgres
from fissionmall.core.errors import AppError
from fissionmall.coupons import service as coupons
from fissionmall.membership import rules
from fissionmall.membership.errors import MembershipError
from fissionmall.membership.models import MemberLevel, MemberProfile
from fissionmall.membership.rules import LevelSpec
from fissionmall.membership.schemas import LevelAdmin, LevelCreate, LevelPublic, LevelUpdate

RECOMPUTE = "membership.recompute"


def spec_of(row: MemberLevel) -> LevelSpec:
    """A saved level as the rules see it."""
    return LevelSpec(
        name=row.name,
        rank=row.rank,
        threshold_fen=row.threshold_fen,
        discount_bp=row.discount_bp,
        points_multiplier_bp=row.points_multiplier_bp,
        birthday_template_id=row.birthday_template_id,
        free_shipping=row.free_shipping,
        priority_service=row.priority_service,
        id=row.id,
    )


# The names of the levels this process read last, by rank: the customer list's filter offers them
# (its contributor answers without a session).
seen_names: dict[int, str] = {lv.rank: lv.name for lv in rules.DEFAULT_LEVELS}


async def rows(s: AsyncSession, *, lock: bool = False) -> list[MemberLevel]:
    """The saved levels by rank (locked on PostgreSQL when an edit checks them together)."""
    q = select(MemberLevel).order_by(MemberLevel.rank)
    if lock and is_postgres(s):
        q = q.with_for_update()
    got = list((await s.scalars(q)).all())
    if got:
        seen_names.clear()
        seen_names.update({r.rank: r.name for r in got})
    return got


async def ensure_levels(s: AsyncSession) -> list[MemberLevel]:
    """The saved levels; the default ladder is saved first when there are none (a race saves it once)."""
    got = await rows(s)
    if got:
        return got
    now = clock.now()
    ins = pg_insert(MemberLevel) if is_postgres(s) else sqlite_insert(MemberLevel)
    for lv in rules.DEFAULT_LEVELS:
        values = {k: v for k, v in lv.__dict__.items() if k != "id"}
        await s.execute(ins.values(**values, created_at=now, updated_at=now).on_conflict_do_nothing())
    await cache.bump(s, LEVELS)
    return await rows(s)


LEVELS = "member_levels"
# Every checkout and paid order reads the ladder: kept per process, versioned (core/cache.py); every edit
# of a level bumps it in its own transaction.
_ladder: cache.Value[tuple[LevelSpec, ...]] = cache.Value(LEVELS)


async def _load_ladder(s: AsyncSession) -> tuple[LevelSpec, ...]:
    got = await rows(s)
    return tuple(spec_of(r) for r in got) if got else tuple(rules.DEFAULT_LEVELS)


async def specs(s: AsyncSession) -> list[LevelSpec]:
    """The levels as the rules see them: the saved ones, or the default ladder before any is saved."""
    return list(await _ladder.get(s, _load_ladder))


def base_of(levels: Sequence[LevelSpec]) -> LevelSpec:
    """The base level: the lowest rank."""
    return rules.by_rank(levels)[0]


def _refuse(code: str | None) -> None:
    if code is not None:
        raise AppError(MembershipError[code])


async def _check_template(s: AsyncSession, template_id: int | None) -> None:
    if template_id is None:
        return
    try:
        await coupons.get_template(s, template_id=template_id)
    except AppError:
        raise AppError(MembershipError.BIRTHDAY_TEMPLATE_NOT_FOUND, field="birthday_template_id") from None


async def _queue_recompute(s: AsyncSession) -> None:
    # Every edit of the ladder ends here: the cached ladder moves with it.
    await cache.bump(s, LEVELS)
    await jobs.schedule(s, RECOMPUTE, {}, due_at=clock.now())


async def create_level(s: AsyncSession, *, data: LevelCreate) -> MemberLevel:
    """Add a level above the base (rank and threshold unique, a higher rank needs a higher threshold)."""
    await ensure_levels(s)
    saved = await rows(s, lock=True)
    spec = LevelSpec(**data.model_dump())
    _refuse(rules.benefit_refusal(spec, base=False))
    _refuse(rules.order_refusal([*(spec_of(r) for r in saved), spec]))
    await _check_template(s, data.birthday_template_id)
    now = clock.now()
    row = MemberLevel(**data.model_dump(), created_at=now, updated_at=now)
    s.add(row)
    await s.flush()
    await _queue_recompute(s)
    return row


async def get_level(s: AsyncSession, *, level_id: int) -> MemberLevel:
    """A saved level, or LEVEL_NOT_FOUND."""
    await ensure_levels(s)
    row = await s.get(MemberLevel, level_id, populate_existing=True)
    if row is None:
        raise AppError(MembershipError.LEVEL_NOT_FOUND)
    return row


async def update_level(s: AsyncSession, *, level_id: int, data: LevelUpdate) -> MemberLevel:
    """Change a level's name, place or benefits; the base level keeps rank 0 and threshold 0."""
    row = await get_level(s, level_id=level_id)
    saved = await rows(s, lock=True)
    base = saved[0].id == row.id
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if base and "rank" in changes and changes["rank"] != row.rank:
        raise AppError(MembershipError.BASE_LEVEL_FIXED)
    spec = replace(spec_of(row), **changes)
    _refuse(rules.benefit_refusal(spec, base=base))
    _refuse(rules.order_refusal([spec if r.id == row.id else spec_of(r) for r in saved]))
    if "birthday_template_id" in changes:
        await _check_template(s, changes["birthday_template_id"])
    for k, v in changes.items():
        setattr(row, k, v)
    row.updated_at = clock.now()
    await s.flush()
    await _queue_recompute(s)
    return row


async def delete_level(s: AsyncSession, *, level_id: int) -> None:
    """Remove a level above the base; its members get the level their growth reaches without it."""
    row = await get_level(s, level_id=level_id)
    saved = await rows(s, lock=True)
    if saved[0].id == row.id:
        raise AppError(MembershipError.BASE_LEVEL_UNDELETABLE)
    await s.execute(
        update(MemberProfile)
        .where(MemberProfile.level_id == row.id)
        .values(level_id=None)
        .execution_options(synchronize_session=False)
    )
    await s.delete(row)
    await s.flush()
    await _queue_recompute(s)


def to_public(lv: LevelSpec, *, base: bool) -> LevelPublic:
    """A level as the shop reads it, with its benefits in words."""
    return LevelPublic(
        id=lv.id or 0,
        name=lv.name,
        rank=lv.rank,
        threshold_fen=lv.threshold_fen,
        discount_bp=lv.discount_bp,
        points_multiplier_bp=lv.points_multiplier_bp,
        free_shipping=lv.free_shipping,
        priority_service=lv.priority_service,
        has_birthday_gift=lv.birthday_template_id is not None,
        is_base=base,
        benefits=rules.benefit_texts(lv, base=base),
    )


async def to_admin(s: AsyncSession, *, levels: Sequence[MemberLevel]) -> list[LevelAdmin]:
    """Levels with their member counts (the base level counts every shopper holding no higher one)."""
    counts = dict(
        (await s.execute(select(MemberProfile.level_id, func.count()).group_by(MemberProfile.level_id))).all()
    )
    everyone = await rows(s)
    base_id = everyone[0].id if everyone else None
    out = []
    for r in levels:
        pub = to_public(spec_of(r), base=r.id == base_id)
        n = int(counts.get(r.id, 0)) + (int(counts.get(None, 0)) if r.id == base_id else 0)
        out.append(LevelAdmin(**pub.model_dump(), birthday_template_id=r.birthday_template_id, members=n))
    return out
