"""储值套餐: the merchant's packages (CRUD), the active ones the shop lists, and the spending-order setting."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock
from fissionmall.core.errors import NotFound
from fissionmall.core.money import yuan_text
from fissionmall.wallet.errors import WalletError
from fissionmall.wallet.models import WalletPackage, WalletSettings
from fissionmall.wallet.schemas import PackageCreate, PackageUpdate


def label_of(pay_fen: int, bonus_fen: int) -> str:
    """充500送100 (or 充500 without a bonus)."""
    return f"充{yuan_text(pay_fen)}" + (f"送{yuan_text(bonus_fen)}" if bonus_fen else "")


def default_name(pay_fen: int, bonus_fen: int) -> str:
    """储值500送100: the name a package gets when the merchant gives none."""
    return f"储值{yuan_text(pay_fen)}" + (f"送{yuan_text(bonus_fen)}" if bonus_fen else "")


async def list_packages(s: AsyncSession, *, active_only: bool = False) -> list[WalletPackage]:
    """Packages in the merchant's order (sort, then id); the shop's are the active ones."""
    q = select(WalletPackage).order_by(WalletPackage.sort_order, WalletPackage.id)
    if active_only:
        q = q.where(WalletPackage.active.is_(True))
    return list((await s.scalars(q)).all())


async def get_package(s: AsyncSession, *, package_id: int, active_only: bool = False) -> WalletPackage:
    """A package; PACKAGE_NOT_FOUND if none (or, with `active_only`, if it is off sale)."""
    p = await s.get(WalletPackage, package_id)
    if p is None or (active_only and not p.active):
        raise NotFound(WalletError.PACKAGE_NOT_FOUND, field="package_id")
    return p


async def create_package(s: AsyncSession, *, data: PackageCreate) -> WalletPackage:
    """Add a package."""
    now = clock.now()
    p = WalletPackage(
        name=data.name or default_name(data.pay_fen, data.bonus_fen),
        pay_fen=data.pay_fen,
        bonus_fen=data.bonus_fen,
        active=data.active,
        sort_order=data.sort,
        created_at=now,
        updated_at=now,
    )
    s.add(p)
    await s.flush()
    return p


async def update_package(s: AsyncSession, *, package_id: int, data: PackageUpdate) -> WalletPackage:
    """Change a package (top-ups bought before keep what they bought)."""
    p = await get_package(s, package_id=package_id)
    fields = data.model_dump(exclude_unset=True)
    for k, v in fields.items():
        setattr(p, "sort_order" if k == "sort" else k, v)
    p.updated_at = clock.now()
    await s.flush()
    return p


async def delete_package(s: AsyncSession, *, package_id: int) -> None:
    """Remove a package (its top-ups keep their snapshot)."""
    p = await get_package(s, package_id=package_id)
    await s.delete(p)
    await s.flush()


async def spend_bonus_first(s: AsyncSession) -> bool:
    """Whether a payment spends 赠送 before 本金 (the default is 本金 first)."""
    return bool(await s.scalar(select(WalletSettings.bonus_first).where(WalletSettings.id == 1)))


async def set_bonus_first(s: AsyncSession, *, bonus_first: bool) -> bool:
    """Set the spending order; returns it."""
    row = await s.get(WalletSettings, 1)
    if row is None:
        s.add(WalletSettings(id=1, bonus_first=bonus_first, updated_at=clock.now()))
    else:
        row.bonus_first = bonus_first
        row.updated_at = clock.now()
    await s.flush()
    return bonus_first


def admin_view(p: WalletPackage) -> dict[str, object]:
    """A package as the admin API answers it."""
    return {
        "id": p.id,
        "name": p.name,
        "pay_fen": p.pay_fen,
        "bonus_fen": p.bonus_fen,
        "active": p.active,
        "sort": p.sort_order,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def public_view(p: WalletPackage) -> dict[str, object]:
    """A package as the shop lists it."""
    return {
        "id": p.id,
        "name": p.name,
        "pay_fen": p.pay_fen,
        "bonus_fen": p.bonus_fen,
        "label": label_of(p.pay_fen, p.bonus_fen),
    }
