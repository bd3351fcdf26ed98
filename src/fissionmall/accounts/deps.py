"""Who is calling: `CurrentCustomer` for /api/v1, `require(permission)` for the admin API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from fissionmall.accounts.models import AdminSession, AdminUser
from fissionmall.accounts.rules import allowed
from fissionmall.accounts.state import customer_state
from fissionmall.core import clock
from fissionmall.core.deps import DbDep, SettingsDep
from fissionmall.core.errors import CoreError, Forbidden, Unauthorized
from fissionmall.core.security import client_ip, read_token

ADMIN_COOKIE = "fm_admin"


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


@dataclass(frozen=True)
class Caller:
    id: int
    ip: str
    device_id: str | None


async def current_customer(request: Request, settings: SettingsDep, db: DbDep) -> Caller:
    """The shopper whose bearer token signs this request (401 without one, 403 when blocked)."""
    token = _bearer(request)
    if token is None:
        raise Unauthorized(CoreError.AUTH_REQUIRED)
    claims = read_token(settings.secret_key, token, kind="customer")
    customer_id = int(claims["sub"])
    state = await customer_state(db, customer_id=customer_id)
    if state is None:
        raise Unauthorized(CoreError.TOKEN_INVALID)
    if state:
        raise Forbidden(CoreError.ACCOUNT_BLOCKED)
    device = request.headers.get("x-device-id")
    return Caller(
        id=customer_id, ip=client_ip(request, settings.trusted_proxies), device_id=device[:128] if device else None
    )


CurrentCustomer = Annotated[Caller, Depends(current_customer)]


async def maybe_customer(request: Request, settings: SettingsDep, db: DbDep) -> Caller | None:
    """The shopper when a token came with the call, else None: share pages are public."""
    if not request.headers.get("authorization"):
        return None
    return await current_customer(request, settings, db)


MaybeCustomer = Annotated[Caller | None, Depends(maybe_customer)]


@dataclass(frozen=True)
class Admin:
    id: int
    username: str
    role: str
    session_id: str = ""  # the login this request comes from (AdminSession.id): logout ends it


async def current_admin(request: Request, settings: SettingsDep, db: DbDep) -> Admin:
    """The admin behind the bearer token or console cookie. The token's session row is read on every
    request (no cache), so a logout or password change refuses the token from the very next request, in
    this process and every other one."""
    token = _bearer(request) or request.cookies.get(ADMIN_COOKIE)
    if token is None:
        raise Unauthorized(CoreError.AUTH_REQUIRED)
    claims = read_token(settings.secret_key, token, kind="admin")
    sid = claims.get("sid")
    if not isinstance(sid, str) or not sid:
        # A token from before sessions could be revoked: it cannot be ended, so it is not accepted.
        raise Unauthorized(CoreError.TOKEN_INVALID)
    async with db.read() as s:
        row = (
            await s.execute(
                select(AdminUser, AdminSession)
                .join(AdminSession, AdminSession.admin_id == AdminUser.id)
                .where(AdminSession.id == sid)
            )
        ).first()
    if row is None or str(row[0].id) != claims.get("sub"):
        raise Unauthorized(CoreError.TOKEN_INVALID)
    a, session = row
    if session.revoked_at is not None:
        raise Unauthorized(CoreError.SESSION_ENDED)
    if session.expires_at <= clock.now():
        raise Unauthorized(CoreError.TOKEN_EXPIRED)
    if not a.is_active:
        raise Unauthorized(CoreError.TOKEN_INVALID)
    return Admin(id=a.id, username=a.username, role=a.role, session_id=session.id)


def require(permission: str) -> Callable[..., Awaitable[Admin]]:
    """A dependency that lets through admins whose role grants `permission`."""

    async def dep(admin: Annotated[Admin, Depends(current_admin)]) -> Admin:
        if not allowed(admin.role, permission):
            raise Forbidden(CoreError.PERMISSION_DENIED)
        return admin

    return dep
