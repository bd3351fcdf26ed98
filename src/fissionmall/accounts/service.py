"""Shoppers (WeChat login) and admin users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.models import AdminUser, Customer
from fissionmall.accounts.rules import ROLES
from fissionmall.accounts.state import blocked_changed
from fissionmall.core import clock, jobs
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError, NotFound, Unauthorized
from fissionmall.core.security import hash_password, verify_password


async def login_customer(
    db: Database, *, openid: str, ref: str | None, ip: str | None, device_id: str | None
) -> tuple[Customer, bool]:
    """Find or create the shopper behind an openid. Returns (customer, is_new)."""
    for _ in range(2):  # two first logins of one openid at once: the loser retries and finds the winner
        try:
            async with db.tx() as s:
                now = clock.now()
                c = await s.scalar(select(Customer).where(Customer.openid == openid))
                is_new = c is None
                if c is None:
                    c = Customer(
                        openid=openid,
                        nickname=f"微信用户{openid[-4:]}",
                        created_at=now,
                        last_login_at=now,
                        first_ref=ref,
                    )
                    s.add(c)
                    await s.flush()
                    await jobs.publish(s, "CustomerRegistered", {"customer_id": c.id, "ref": ref})
                elif ref:
                    # A returning shopper who came through a share link: the distribution tool may bind them.
                    await jobs.publish(s, "CustomerLoggedIn", {"customer_id": c.id, "ref": ref})
                if c.is_blocked:
                    raise AppError("ACCOUNT_BLOCKED", "this account is blocked", status=403)
                c.last_login_at, c.last_ip, c.last_device_id = now, ip, device_id or c.last_device_id
                return c, is_new
        except IntegrityError:
            continue
    raise AppError("LOGIN_CONFLICT", "please try again", status=409)


async def get_customer(s: AsyncSession, customer_id: int) -> Customer | None:
    return await s.get(Customer, customer_id)


async def create_admin(s: AsyncSession, *, username: str, password: str, role: str = "owner") -> AdminUser:
    """Create an admin user (argon2-hashed password)."""
    if role not in ROLES:
        raise AppError("ROLE_UNKNOWN", f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise AppError("PASSWORD_TOO_SHORT", "admin passwords need at least 8 characters")
    if await s.scalar(select(AdminUser.id).where(AdminUser.username == username)) is not None:
        raise AppError("USERNAME_TAKEN", "that username is taken", status=409)
    a = AdminUser(username=username, password_hash=hash_password(password), role=role, created_at=clock.now())
    s.add(a)
    await s.flush()
    return a


async def authenticate_admin(s: AsyncSession, *, username: str, password: str) -> AdminUser:
    a = await s.scalar(select(AdminUser).where(AdminUser.username == username))
    # Verify against a dummy hash when the user is unknown, so timing does not reveal usernames.
    ok = verify_password(a.password_hash if a else _DUMMY_HASH, password)
    if a is None or not ok or not a.is_active:
        raise Unauthorized("LOGIN_FAILED", "wrong username or password")
    return a


_DUMMY_HASH = hash_password("not-a-real-password")


async def set_blocked(db: Database, *, customer_id: int, blocked: bool) -> Customer:
    """Block or unblock a shopper: every shopper call is refused ACCOUNT_BLOCKED (within about a second on
    every server process, at once on this one), the flash-sale attempt included."""
    async with db.tx() as s:
        c = await s.get(Customer, customer_id)
        if c is None:
            raise NotFound("CUSTOMER_NOT_FOUND", "no such customer")
        c.is_blocked = blocked
    await blocked_changed()  # after the commit, so a process that reloads sees the new row
    return c


async def blocked_customers(db: Database, *, limit: int = 200) -> list[Customer]:
    async with db.read() as s:
        q = select(Customer).where(Customer.is_blocked.is_(True)).order_by(Customer.id.desc()).limit(limit)
        return list((await s.scalars(q)).all())
