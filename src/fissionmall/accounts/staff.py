"""The shop's staff accounts as the owner keeps them in the console: create, disable or enable, reset a
password, change a role; never leaving the shop without an owner who can log in.

Every change that takes access away (disable, a new password, a new role) ends the staff member's sessions
in the same transaction, so their open console tab or API token is refused from its next request. The
last-owner check locks every active owner's row first: two owners disabling each other at once queue, and
the second finds the first already gone and is refused.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.errors import AccountsError
from fissionmall.accounts.models import AdminSession, AdminUser
from fissionmall.accounts.rules import ROLES
from fissionmall.accounts.service import create_admin
from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError, Conflict, NotFound
from fissionmall.core.security import hash_password

USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,32}$")
# No 0/O, 1/l/I: the owner reads the temporary password out to someone typing it in.
_TEMP_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TEMP_LENGTH = 12


@dataclass(frozen=True)
class StaffRow:
    id: int
    username: str
    role: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    locked: bool


def temporary_password() -> str:
    """A one-time password the owner hands over (the staff member changes it after logging in)."""
    return "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(TEMP_LENGTH))


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise AppError(AccountsError.PASSWORD_TOO_SHORT)
    if len(password) > 200:
        raise AppError(AccountsError.PASSWORD_TOO_LONG)


async def list_staff(s: AsyncSession) -> list[StaffRow]:
    """Every admin account, owners first, with when each last logged in."""
    last = (
        select(AdminSession.admin_id, func.max(AdminSession.created_at).label("at"))
        .group_by(AdminSession.admin_id)
        .subquery()
    )
    rows = await s.execute(
        select(AdminUser, last.c.at).outerjoin(last, last.c.admin_id == AdminUser.id).order_by(AdminUser.id)
    )
    now = clock.now()
    out = [
        StaffRow(
            id=a.id,
            username=a.username,
            role=a.role,
            is_active=a.is_active,
            created_at=a.created_at,
            last_login_at=at,
            locked=a.locked_until is not None and a.locked_until > now,
        )
        for a, at in rows.all()
    ]
    return sorted(out, key=lambda r: (r.role != "owner", r.id))


async def create_staff(db: Database, *, username: str, role: str, password: str | None) -> tuple[AdminUser, str]:
    """A new staff account; returns it with its initial password (the one typed, or a generated one)."""
    if not USERNAME.match(username):
        raise AppError(AccountsError.USERNAME_INVALID)
    password = password or temporary_password()
    _check_password(password)
    async with db.tx() as s:
        a = await create_admin(s, username=username, password=password, role=role)
    return a, password


async def _end_sessions(s: AsyncSession, *, admin_id: int, now: datetime) -> None:
    await s.execute(
        update(AdminSession)
        .where(AdminSession.admin_id == admin_id, AdminSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def _locked_target(s: AsyncSession, *, actor_id: int, admin_id: int, removes_owner: bool) -> AdminUser:
    """The target row, locked; refuses changing oneself and leaving no active owner."""
    if admin_id == actor_id:
        raise Conflict(AccountsError.STAFF_SELF)
    # Lock the owners (in id order, as every caller does) before reading the target, so concurrent
    # changes of owners run one after the other and each counts what the previous one left.
    owners = list(
        (
            await s.scalars(
                select(AdminUser.id)
                .where(AdminUser.role == "owner", AdminUser.is_active.is_(True))
                .order_by(AdminUser.id)
                .with_for_update()
            )
        ).all()
    )
    if actor_id not in owners:  # the actor lost the owner role (or was disabled) meanwhile
        raise AppError(AccountsError.LAST_OWNER, "你已不是可登录的店主，无法修改员工账号。")
    a = await s.get(AdminUser, admin_id, with_for_update=True, populate_existing=True)
    if a is None:
        raise NotFound(AccountsError.ADMIN_NOT_FOUND)
    if removes_owner and a.id in owners and len(owners) <= 1:
        raise Conflict(AccountsError.LAST_OWNER)
    return a


async def set_active(db: Database, *, actor_id: int, admin_id: int, active: bool) -> AdminUser:
    """Disable (its sessions end at once) or enable a staff account."""
    async with db.tx() as s:
        a = await _locked_target(s, actor_id=actor_id, admin_id=admin_id, removes_owner=not active)
        a.is_active = active
        if not active:
            await _end_sessions(s, admin_id=a.id, now=clock.now())
        return a


async def set_role(db: Database, *, actor_id: int, admin_id: int, role: str) -> AdminUser:
    """Give a staff member another role; their sessions end, so the new role applies from their next login."""
    if role not in ROLES:
        raise AppError(AccountsError.ROLE_UNKNOWN)
    async with db.tx() as s:
        a = await _locked_target(s, actor_id=actor_id, admin_id=admin_id, removes_owner=role != "owner")
        if a.role != role:
            a.role = role
            await _end_sessions(s, admin_id=a.id, now=clock.now())
        return a


async def reset_password(db: Database, *, actor_id: int, admin_id: int, password: str | None) -> tuple[AdminUser, str]:
    """Set a new password (the one typed, or a generated temporary one), lift a login lockout and end every
    session of that staff member; returns the password to hand over."""
    password = password or temporary_password()
    _check_password(password)
    new_hash = await asyncio.to_thread(hash_password, password)
    async with db.tx() as s:
        a = await _locked_target(s, actor_id=actor_id, admin_id=admin_id, removes_owner=False)
        a.password_hash = new_hash
        a.login_failures, a.login_window_at, a.locked_until, a.lockouts = 0, None, None, 0
        await _end_sessions(s, admin_id=a.id, now=clock.now())
    return a, password
