from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import StringConstraints

from fissionmall.accounts import service
from fissionmall.accounts.deps import Admin, CurrentCustomer, current_admin
from fissionmall.core import extras
from fissionmall.core.deps import DbDep, SettingsDep
from fissionmall.core.errors import CoreError, TooMany
from fissionmall.core.kv import get_kv
from fissionmall.core.schemas import ApiModel
from fissionmall.core.security import client_ip

router = APIRouter(tags=["account"])
admin_router = APIRouter(tags=["admin: account"])


class AccountPublic(ApiModel):
    id: int
    nickname: str
    avatar_url: str | None
    # null until the tool behind it lands and adds it (membership: level; loyalty: points, wallet_fen):
    # a shop shows each only when it is there, never a 0 that means "no such feature".
    level: str | None  # the member level's display name (membership fills it: 普通会员, 黄金会员, …)
    points: int | None
    wallet_fen: int | None
    is_distributor: bool
    paid_member_until: str | None
    phone: str | None = None  # masked (138****8000), from POST /me/phone


@router.get("/me", response_model=AccountPublic)
async def me(caller: CurrentCustomer, db: DbDep) -> AccountPublic:
    """The shopper's profile; tools add their fields (distribution: is_distributor). Points, wallet and
    membership fill in as those tools land."""
    async with db.read() as s:
        c = await service.get_customer(s, customer_id=caller.id)
        assert c is not None
        added = await extras.gather(extras.ME, s=s, customer_id=caller.id)
    fields: dict[str, Any] = {
        "level": None,  # membership's ME contributor names the level
        "points": None,
        "wallet_fen": None,
        "is_distributor": False,
        "paid_member_until": None,
    }
    return AccountPublic(id=c.id, nickname=c.nickname, avatar_url=c.avatar_url, **{**fields, **added})


class AdminLoginCreate(ApiModel):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class AdminLoginPublic(ApiModel):
    token: str
    role: str


def locked_response(exc: service.LoginLocked) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers={"Retry-After": str(exc.retry_after)})


@admin_router.post(
    "/auth/login",
    response_model=AdminLoginPublic,
    responses={429: {"description": "RATE_LIMITED (this address) or LOGIN_LOCKED (this account), with Retry-After"}},
)
async def admin_login(
    body: AdminLoginCreate, request: Request, settings: SettingsDep, db: DbDep
) -> AdminLoginPublic | JSONResponse:
    """Log in; the token names a session that `POST /auth/logout` or a password change ends. Five wrong
    passwords within 15 minutes lock the account (the right password included) for 1, then 5, 15, 60
    minutes: `429 LOGIN_LOCKED` with `detail.retry_after_seconds` and a Retry-After header."""
    ip = client_ip(request, settings.trusted_proxies)
    if not await get_kv().allow(f"admin-login:ip:{ip}", limit=settings.login_rate_per_minute, window_seconds=60):
        raise TooMany(CoreError.RATE_LIMITED)
    try:
        a, session = await service.login_admin(
            db, username=body.username, password=body.password, ttl_seconds=settings.admin_token_ttl_seconds, ip=ip
        )
    except service.LoginLocked as exc:
        return locked_response(exc)
    return AdminLoginPublic(token=service.session_token(settings.secret_key, session), role=a.role)


@admin_router.post("/auth/logout", status_code=204)
async def admin_logout(admin: Annotated[Admin, Depends(current_admin)], db: DbDep) -> Response:
    """End this token's session: it is refused from the next request on."""
    await service.end_session(db, session_id=admin.session_id)
    return Response(status_code=204)


class PasswordChange(ApiModel):
    old_password: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    new_password: Annotated[str, StringConstraints(min_length=8, max_length=200)]


@admin_router.post(
    "/auth/password",
    response_model=AdminLoginPublic,
    responses={429: {"description": "LOGIN_LOCKED: too many wrong passwords for this account"}},
)
async def admin_change_password(
    body: PasswordChange,
    request: Request,
    admin: Annotated[Admin, Depends(current_admin)],
    settings: SettingsDep,
    db: DbDep,
) -> AdminLoginPublic | JSONResponse:
    """Change the caller's password. Every session of the admin ends (other browsers, API tokens, this
    token too); the answer carries a new token for the caller. A wrong `old_password` is `PASSWORD_WRONG`
    and counts towards the login lockout."""
    ip = client_ip(request, settings.trusted_proxies)
    try:
        session = await service.change_password(
            db,
            admin_id=admin.id,
            old_password=body.old_password,
            new_password=body.new_password,
            ttl_seconds=settings.admin_token_ttl_seconds,
            ip=ip,
        )
    except service.LoginLocked as exc:
        return locked_response(exc)
    return AdminLoginPublic(token=service.session_token(settings.secret_key, session), role=admin.role)


class AdminMe(ApiModel):
    id: int
    username: str
    role: str


@admin_router.get("/me", response_model=AdminMe)
async def admin_me(admin: Annotated[Admin, Depends(current_admin)]) -> AdminMe:
    return AdminMe(id=admin.id, username=admin.username, role=admin.role)
