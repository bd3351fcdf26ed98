"""WeChat mini-program endpoints: log in with a wx.login() code, the shopper's phone, the subscribe templates.

WeChat Pay's callbacks (payments, refunds, transfer results) are payments' (payments/router.py). The
login route keeps the "account" tag it has always had in the API description.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import StringConstraints

from fissionmall.accounts import service as accounts
from fissionmall.accounts.deps import CurrentCustomer
from fissionmall.accounts.wechat import SandboxWechat, WechatClient
from fissionmall.core.deps import DbDep, SettingsDep
from fissionmall.core.errors import AppError, CoreError, TooMany
from fissionmall.core.kv import get_kv
from fissionmall.core.schemas import ApiModel
from fissionmall.core.security import client_ip, issue_token
from fissionmall.settings import Settings
from fissionmall.wechat import identity
from fissionmall.wechat.errors import WechatError
from fissionmall.wechat.miniprogram import client_for

router = APIRouter()

_wechat = SandboxWechat()


def _wechat_client(settings: Settings) -> WechatClient | None:
    """The real code2Session client when an app id and secret are set; the sandbox twin in dev."""
    if settings.wechat_login_configured:
        return client_for(settings)
    return _wechat if settings.dev else None


class WechatLoginCreate(ApiModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    ref: Annotated[str, StringConstraints(max_length=64)] | None = None


class LoginUserPublic(ApiModel):
    id: int
    is_new: bool
    nickname: str


class LoginPublic(ApiModel):
    token: str
    user: LoginUserPublic


@router.post("/auth/wechat-login", response_model=LoginPublic, tags=["account"])
async def wechat_login(body: WechatLoginCreate, request: Request, settings: SettingsDep, db: DbDep) -> LoginPublic:
    """Log in with a wx.login() code (sandbox: any code maps to openid `sandbox-<code>`)."""
    ip = client_ip(request, settings.trusted_proxies)
    if not await get_kv().allow(f"login:ip:{ip}", limit=settings.login_rate_per_minute, window_seconds=60):
        raise TooMany(CoreError.RATE_LIMITED)
    client = _wechat_client(settings)
    if client is None:
        raise AppError(WechatError.WECHAT_NOT_CONFIGURED)
    session = await client.code2session(body.code)
    device = request.headers.get("x-device-id")
    session_key_enc = None
    if session.session_key:
        session_key_enc = identity.seal_session_key(settings.secret_key, session.openid, session.session_key)
    customer, is_new = await accounts.login_customer(
        db,
        openid=session.openid,
        ref=body.ref,
        ip=ip,
        device_id=device[:128] if device else None,
        unionid=session.unionid,
        session_key_enc=session_key_enc,
    )
    token = issue_token(
        settings.secret_key, kind="customer", subject=customer.id, ttl_seconds=settings.token_ttl_seconds
    )
    return LoginPublic(token=token, user=LoginUserPublic(id=customer.id, is_new=is_new, nickname=customer.nickname))


PHONE_RATE_PER_MINUTE = 5  # each getuserphonenumber call is billed to the merchant


class PhoneUpdate(ApiModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class PhonePublic(ApiModel):
    phone: str  # masked: 138****8000
    country_code: str


@router.post("/me/phone", response_model=PhonePublic, tags=["wechat"])
async def set_phone(body: PhoneUpdate, caller: CurrentCustomer, settings: SettingsDep, db: DbDep) -> PhonePublic:
    """The shopper's phone from a getPhoneNumber `code` (bindgetphonenumber's `e.detail.code`)."""
    if not await get_kv().allow(f"wechat-phone:{caller.id}", limit=PHONE_RATE_PER_MINUTE, window_seconds=60):
        raise TooMany(CoreError.RATE_LIMITED)
    number, cc = await identity.fetch_phone(settings, body.code)
    masked = await identity.set_phone(db, settings=settings, customer_id=caller.id, number=number, country_code=cc)
    return PhonePublic(phone=masked, country_code=cc)


class SubscribeTemplatesPublic(ApiModel):
    templates: dict[str, str]  # event → template id, for wx.requestSubscribeMessage({tmplIds})
    miniprogram_state: str


@router.get("/wechat/subscribe-templates", response_model=SubscribeTemplatesPublic, tags=["wechat"])
async def subscribe_templates(settings: SettingsDep) -> SubscribeTemplatesPublic:
    """The template ids per event, so the mini-program asks the shopper to subscribe before the moment
    it matters (e.g. OrderShipped's before paying). Events with no template are absent."""
    templates = {
        event: str(t["template_id"])
        for event, t in settings.wechat_subscribe_templates.items()
        if t.get("template_id") and settings.wechat_login_configured
    }
    return SubscribeTemplatesPublic(templates=templates, miniprogram_state=settings.wechat_miniprogram_state)
