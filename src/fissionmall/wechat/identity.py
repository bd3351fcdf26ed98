"""What WeChat tells us about who a shopper is, kept the way it must be: unionid as is, the session key
and the phone number sealed (wechat/vault.py), the phone also as a keyed hash for lookups.

`POST /api/v1/me/phone {code}` (wechat/router.py) turns a getPhoneNumber code into the shopper's number
through `phonenumber.getuserphonenumber`; `GET /me` shows it masked (138****8000). In dev without WeChat
settings a code `sandbox-<number>` stands for that number, as the login sandbox does for openids.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.errors import AccountsError
from fissionmall.accounts.models import Customer
from fissionmall.core import extras
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError, NotFound
from fissionmall.settings import Settings, get_settings
from fissionmall.wechat import vault
from fissionmall.wechat.errors import WechatError

SESSION_KEY = "wechat-session-key"
PHONE = "customer-phone"
_SANDBOX_PHONE = re.compile(r"^sandbox-(\+?\d{5,15})$")


def seal_session_key(secret_key: str, openid: str, session_key: str) -> str:
    """The session_key sealed for the customer row of this openid."""
    return vault.seal(secret_key, SESSION_KEY, session_key, bound_to=openid)


def session_key_of(secret_key: str, c: Customer) -> str | None:
    """The shopper's last session_key (for decrypting `wx` data they send), or None."""
    if not c.session_key_enc:
        return None
    try:
        return vault.unseal(secret_key, SESSION_KEY, c.session_key_enc, bound_to=c.openid)
    except vault.VaultError:
        return None


def phone_of(secret_key: str, c: Customer) -> tuple[str, str] | None:
    """(country code, number) of the shopper's phone, or None."""
    if not c.phone_enc:
        return None
    try:
        cc, _, number = vault.unseal(secret_key, PHONE, c.phone_enc, bound_to=str(c.id)).partition(" ")
    except vault.VaultError:
        return None
    return cc, number


async def fetch_phone(settings: Settings, code: str) -> tuple[str, str]:
    """(pure number, country code) behind a getPhoneNumber code."""
    if settings.wechat_login_configured:
        from fissionmall.wechat.miniprogram import client_for

        info = await client_for(settings).phone_number(code)
        return info["purePhoneNumber"], info["countryCode"]
    m = _SANDBOX_PHONE.match(code)
    if settings.dev and m:
        return m.group(1).lstrip("+"), "86"
    if settings.dev:
        raise AppError(WechatError.WECHAT_PHONE_CODE_INVALID)
    raise AppError(WechatError.WECHAT_NOT_CONFIGURED)


async def set_phone(db: Database, *, settings: Settings, customer_id: int, number: str, country_code: str) -> str:
    """Store the shopper's phone (sealed, plus its lookup hash); returns it masked."""
    async with db.tx() as s:
        c = await s.get(Customer, customer_id)
        if c is None:
            raise NotFound(AccountsError.CUSTOMER_NOT_FOUND)
        c.phone_enc = vault.seal(settings.secret_key, PHONE, f"{country_code} {number}", bound_to=str(c.id))
        c.phone_hash = vault.phone_hash(settings.secret_key, number, country_code)
    return vault.mask_phone(number)


async def customers_with_phone(s: AsyncSession, *, number: str, country_code: str = "86") -> list[int]:
    """The shoppers who gave this number (however it is written): an identity key for risk checks."""
    h = vault.phone_hash(get_settings().secret_key, number, country_code)
    return list((await s.scalars(select(Customer.id).where(Customer.phone_hash == h).order_by(Customer.id))).all())


@extras.contributes(extras.ME)
async def _me_phone(s: AsyncSession, customer_id: int) -> dict[str, Any]:
    c = await s.get(Customer, customer_id)
    phone = phone_of(get_settings().secret_key, c) if c is not None else None
    return {"phone": vault.mask_phone(phone[1]) if phone else None}


@extras.contributes("orders.customers_by_phone")
async def _orders_by_phone(s: AsyncSession, number: str) -> dict[str, Any]:
    """The console's order search by the shopper's own (WeChat-verified) phone (orders/tools.py)."""
    try:
        return {"customer_ids": await customers_with_phone(s, number=number)}
    except ValueError:
        return {}
