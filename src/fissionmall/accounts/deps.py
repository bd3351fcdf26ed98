"""Who is calling: `CurrentCustomer` for /api/v1, `require(permission)` for the admin API."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from fissionmall.accounts.models import AdminUser, Customer
from fissionmall.accounts.rules import allowed
from fissionmall.core.db import Database, get_db
from fissionmall.core.errors import Forbidden, Unauthorized
from fissionmall.core.security import client_ip, read_token
from fissionmall.settings import Settings, get_settings

ADMIN_COOKIE = "fm_admin"


# async: a plain `def` dependency is run in the threadpool on every request (measured ~10% of a checkout).
async def settings_dep() -> Settings:
    return get_settings()


async def db_dep() -> Database:
    return get_db()


SettingsDep = Annotated[Settings, Depends(settings_dep)]
DbDep = Annotated[Database, Depends(db_dep)]


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
    token = _bearer(request)
    if token is None:
        raise Unauthorized("AUTH_REQUIRED", "log in first (Authorization: Bearer <token>)")
    claims = read_token(settings.secret_key, token, kind="customer")
    customer_id = int(claims["sub"])
    state = await customer_state(db, customer_id)
    if state is None:
        raise Unauthorized("TOKEN_INVALID", "the account behind this token no longer exists")
    if state:
        raise Forbidden("ACCOUNT_BLOCKED", "this account is blocked")
    device = request.headers.get("x-device-id")
    return Caller(
        id=customer_id, ip=client_ip(request, settings.trusted_proxies), device_id=device[:128] if device else None
    )


CurrentCustomer = Annotated[Caller, Depends(current_customer)]

# customer id -> (is_blocked, cached at monotonic time). Reading the customer row on every request cost a
# transaction per call; a few seconds of staleness for a block is an acceptable price.
_STATE_TTL = 5.0
_state_cache: dict[int, tuple[bool, float]] = {}


async def customer_state(db: Database, customer_id: int) -> bool | None:
    """None if the customer does not exist, else whether they are blocked."""
    hit = _state_cache.get(customer_id)
    now = time.monotonic()
    if hit is not None and now - hit[1] < _STATE_TTL:
        return hit[0]
    async with db.read() as s:
        blocked = await s.scalar(select(Customer.is_blocked).where(Customer.id == customer_id))
    if blocked is None:
        _state_cache.pop(customer_id, None)
        return None
    if len(_state_cache) > 100_000:
        _state_cache.clear()
    _state_cache[customer_id] = (bool(blocked), now)
    return bool(blocked)


def forget_customer_state(customer_id: int | None = None) -> None:
    """Drop cached block states (all, or one customer's), e.g. right after blocking someone."""
    if customer_id is None:
        _state_cache.clear()
    else:
        _state_cache.pop(customer_id, None)


@dataclass(frozen=True)
class Admin:
    id: int
    username: str
    role: str


async def current_admin(request: Request, settings: SettingsDep, db: DbDep) -> Admin:
    token = _bearer(request) or request.cookies.get(ADMIN_COOKIE)
    if token is None:
        raise Unauthorized("AUTH_REQUIRED", "admin login required")
    claims = read_token(settings.secret_key, token, kind="admin")
    async with db.read() as s:
        a = await s.get(AdminUser, int(claims["sub"]))
    if a is None or not a.is_active:
        raise Unauthorized("TOKEN_INVALID", "the admin account is gone or disabled")
    return Admin(id=a.id, username=a.username, role=a.role)


def require(permission: str) -> Callable[..., Awaitable[Admin]]:
    """A dependency that lets through admins whose role grants `permission`."""

    async def dep(admin: Annotated[Admin, Depends(current_admin)]) -> Admin:
        if not allowed(admin.role, permission):
            raise Forbidden("PERMISSION_DENIED", f"your role ({admin.role}) may not do this ({permission})")
        return admin

    return dep
