from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import StringConstraints

from fissionmall.accounts import service
from fissionmall.accounts.deps import Admin, CurrentCustomer, DbDep, SettingsDep, current_admin
from fissionmall.accounts.wechat import SandboxWechat, WechatClient
from fissionmall.core import extras
from fissionmall.core.errors import AppError, TooMany
from fissionmall.core.kv import get_kv
from fissionmall.core.schemas import ApiModel
from fissionmall.core.security import client_ip, issue_token
from fissionmall.settings import Settings

router = APIRouter(tags=["account"])
admin_router = APIRouter(tags=["admin: account"])

_wechat = SandboxWechat()


def _wechat_client(settings: Settings) -> WechatClient | None:
    """The real code2Session client when an app id and secret are set; the sandbox twin in dev."""
    if settings.wechat_login_configured:
        from fissionmall.wechat.miniprogram import client_for

        return client_for(settings)
    return _wechat if settings.dev else None


class WechatLoginIn(ApiModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    ref: Annotated[str, StringConstraints(max_length=64)] | None = None


class LoginUser(ApiModel):
    id: int
    is_new: bool
    nickname: str


class LoginOut(ApiModel):
    token: str
    user: LoginUser


class MeOut(ApiModel):
    id: int
    nickname: str
    avatar_url: str | None
    level: int
    points: int
    wallet_fen: int
    is_distributor: bool
    paid_member_until: str | None


@router.post("/auth/wechat-login", response_model=LoginOut)
async def wechat_login(body: WechatLoginIn, request: Request, settings: SettingsDep, db: DbDep) -> LoginOut:
    """Log in with a wx.login() code (sandbox: any code maps to openid `sandbox-<code>`)."""
    ip = client_ip(request, settings.trusted_proxies)
    if not await get_kv().allow(f"login:ip:{ip}", limit=settings.login_rate_per_minute, window_seconds=60):
        raise TooMany("RATE_LIMITED", "too many logins from this address; wait a minute")
    client = _wechat_client(settings)
    if client is None:
        raise AppError("WECHAT_NOT_CONFIGURED", "WeChat login is not configured", status=503)
    session = await client.code2session(body.code)
    device = request.headers.get("x-device-id")
    customer, is_new = await service.login_customer(
        db, openid=session.openid, ref=body.ref, ip=ip, device_id=device[:128] if device else None
    )
    token = issue_token(
        settings.secret_key, kind="customer", subject=customer.id, ttl_seconds=settings.token_ttl_seconds
    )
    return LoginOut(token=token, user=LoginUser(id=customer.id, is_new=is_new, nickname=customer.nickname))


@router.get("/me", response_model=MeOut)
async def me(caller: CurrentCustomer, db: DbDep) -> MeOut:
    """The shopper's profile; tools add their fields (distribution: is_distributor). Points, wallet and
    membership fill in as those tools land."""
    async with db.read() as s:
        c = await service.get_customer(s, caller.id)
        assert c is not None
        added = await extras.gather(extras.ME, s=s, customer_id=caller.id)
    fields: dict[str, Any] = {"points": 0, "wallet_fen": 0, "is_distributor": False, "paid_member_until": None}
    return MeOut(id=c.id, nickname=c.nickname, avatar_url=c.avatar_url, level=c.level, **{**fields, **added})


class AdminLoginIn(ApiModel):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class AdminLoginOut(ApiModel):
    token: str
    role: str


@admin_router.post("/auth/login", response_model=AdminLoginOut)
async def admin_login(body: AdminLoginIn, request: Request, settings: SettingsDep, db: DbDep) -> AdminLoginOut:
    ip = client_ip(request, settings.trusted_proxies)
    if not await get_kv().allow(f"admin-login:ip:{ip}", limit=settings.login_rate_per_minute, window_seconds=60):
        raise TooMany("RATE_LIMITED", "too many login attempts; wait a minute")
    async with db.read() as s:
        a = await service.authenticate_admin(s, username=body.username, password=body.password)
    token = issue_token(settings.secret_key, kind="admin", subject=a.id, ttl_seconds=settings.admin_token_ttl_seconds)
    return AdminLoginOut(token=token, role=a.role)


class AdminMe(ApiModel):
    id: int
    username: str
    role: str


@admin_router.get("/me", response_model=AdminMe)
async def admin_me(admin: Annotated[Admin, Depends(current_admin)]) -> AdminMe:
    return AdminMe(id=admin.id, username=admin.username, role=admin.role)
