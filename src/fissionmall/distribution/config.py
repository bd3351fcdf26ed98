"""The shop's distribution settings: one validated JSON row, read by every workflow, saved by an operator."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock
from fissionmall.distribution.ledger import insert_ignore
from fissionmall.distribution.models import DistributionConfig
from fissionmall.distribution.schemas import ConfigUpdate
from fissionmall.distribution.settlement import ensure_settlement_scheduled


async def get_config(s: AsyncSession) -> ConfigUpdate:
    """The shop's distribution settings (defaults until an operator saves them)."""
    row = await s.get(DistributionConfig, 1)
    return ConfigUpdate.model_validate(row.data) if row else ConfigUpdate()


async def save_config(s: AsyncSession, *, data: ConfigUpdate, admin_id: int | None) -> ConfigUpdate:
    """Replace the settings (already validated: ≤ 2 levels, rates within the cap)."""
    values = {"data": data.model_dump(mode="json"), "updated_at": clock.now(), "updated_by": admin_id}
    if not await insert_ignore(s, DistributionConfig, {"id": 1, **values}):
        await s.execute(update(DistributionConfig).where(DistributionConfig.id == 1).values(**values))
    await ensure_settlement_scheduled(s)
    return data
