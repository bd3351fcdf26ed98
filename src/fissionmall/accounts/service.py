"""Shoppers (WeChat login) and admin users."""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.accounts.errors import AccountsError
from fissionmall.accounts.models import AdminSession, AdminUser, Customer
from fissionmall.accounts.rules import ROLES
from fissionmall.accounts.state import blocked_changed
from fissionmall.core import clock, jobs
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError, CoreError, NotFound, TooMany, Unauthorized
from fissionmall.core.security import hash_password, issue_token, verify_password

T = TypeVar("T")


async def login_customer(
    db: Database,
    *,
    openid: str,
    ref: str | None,
    ip: str | None,
    device_id: str | None,
    unionid: str | None = None,
    session_key_enc: str | None = None,
) -> tuple[Customer, bool]:
    """Find or create the shopper behind an openid. Returns (customer, is_new). WeChat's unionid and the
    (sealed) session key of this login are kept when given; a login without them keeps the old ones."""
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
                    # device and address: what risk's sign-up check counts (accounts per device, per /24)
                    await jobs.publish(
                        s,
                        "CustomerRegistered",
                        {"customer_id": c.id, "ref": ref, "device_id": device_id, "ip": ip},
                    )
                elif ref:
                    # A returning shopper who came through a share link: the distribution tool may bind them.
                    await jobs.publish(s, "CustomerLoggedIn", {"customer_id": c.id, "ref": ref})
                if c.is_blocked:
                    raise AppError(CoreError.ACCOUNT_BLOCKED)
                c.last_login_at, c.last_ip, c.last_device_id = now, ip, device_id or c.last_device_id
                c.unionid = unionid or c.unionid
                c.session_key_enc = session_key_enc or c.session_key_enc
                return c, is_new
        except IntegrityError:
            continue
    raise AppError(AccountsError.LOGIN_CONFLICT)


async def get_customer(s: AsyncSession, *, customer_id: int) -> Customer | None:
    """The customer with this id, or None."""
    return await s.get(Customer, customer_id)


async def nicknames_of(s: AsyncSession, *, customer_ids: list[int]) -> dict[int, str]:
    """The nicknames of these customers, by id (one query; the order export's 买家 column)."""
    if not customer_ids:
        return {}
    rows = await s.execute(select(Customer.id, Customer.nickname).where(Customer.id.in_(set(customer_ids))))
    return {int(i): n for i, n in rows.all()}


async def create_admin(s: AsyncSession, *, username: str, password: str, role: str = "owner") -> AdminUser:
    """Create an admin user (argon2-hashed password)."""
    if role not in ROLES:
        raise AppError(AccountsError.ROLE_UNKNOWN)
    if len(password) < 8:
        raise AppError(AccountsError.PASSWORD_TOO_SHORT)
    if await s.scalar(select(AdminUser.id).where(AdminUser.username == username)) is not None:
        raise AppError(AccountsError.USERNAME_TAKEN)
    a = AdminUser(username=username, password_hash=hash_password(password), role=role, created_at=clock.now())
    s.add(a)
    await s.flush()
    return a


# Per-account login lockout, on top of the per-address rate limit (which many addresses get around): after
# LOCK_AFTER failures within LOCK_WINDOW the account refuses every login, the right password included, for
# the next of LOCK_STEPS. Counters live on the admin row, so they hold across server processes.
LOCK_AFTER = 5
LOCK_WINDOW = timedelta(minutes=15)
LOCK_STEPS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=60))
# A day after the last lockout ended, the next one starts again at the first step.
LOCK_LEVEL_FORGOTTEN = timedelta(hours=24)


class LoginLocked(TooMany):
    def __init__(self, until: datetime) -> None:
        self.retry_after = max(1, math.ceil((until - clock.now()).total_seconds()))
        minutes = math.ceil(self.retry_after / 60)
        super().__init__(
            AccountsError.LOGIN_LOCKED,
            f"登录失败次数过多，账号已临时锁定，请 {minutes} 分钟后再试。",
            retry_after_seconds=self.retry_after,
        )


_DUMMY_HASH = hash_password("not-a-real-password")


def _login_failed() -> Unauthorized:
    return Unauthorized(AccountsError.LOGIN_FAILED)


def _record_failure(a: AdminUser, now: datetime) -> None:
    if a.login_window_at is None or now - a.login_window_at >= LOCK_WINDOW:
        a.login_window_at, a.login_failures = now, 0
    a.login_failures += 1
    if a.login_failures < LOCK_AFTER:
        return
    if a.locked_until is not None and now - a.locked_until >= LOCK_LEVEL_FORGOTTEN:
        a.lockouts = 0
    a.locked_until = now + LOCK_STEPS[min(a.lockouts, len(LOCK_STEPS) - 1)]
    a.lockouts += 1
    a.login_failures, a.login_window_at = 0, None


async def _new_session(
    s: AsyncSession, a: AdminUser, now: datetime, *, ttl_seconds: int, ip: str | None
) -> AdminSession:
    # Rows whose tokens have expired are of no use to anyone: dropped as the admin opens a new one.
    await s.execute(delete(AdminSession).where(AdminSession.admin_id == a.id, AdminSession.expires_at < now))
    session = AdminSession(
        id=secrets.token_urlsafe(32),
        admin_id=a.id,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
        ip=ip,
    )
    s.add(session)
    await s.flush()
    return session


async def _attempt(
    db: Database,
    *,
    username: str,
    password: str,
    on_success: Callable[[AsyncSession, AdminUser, datetime], Awaitable[T]],
) -> T:
    """Check `password` for `username` under the lockout rules; on success run `on_success` in the same
    transaction, under the admin row's lock (so a concurrent password change cannot slip in between)."""
    async with db.read() as s:
        a = await s.scalar(select(AdminUser).where(AdminUser.username == username))
    if a is not None and a.locked_until is not None and a.locked_until > clock.now():
        # Refused before the hash is even checked: a locked account is no oracle for the right password.
        raise LoginLocked(a.locked_until)
    # Verify against a dummy hash when the user is unknown, so timing does not reveal usernames. In a
    # thread: argon2 is deliberately slow, and the event loop serves everyone else meanwhile.
    ok = await asyncio.to_thread(verify_password, a.password_hash if a else _DUMMY_HASH, password)
    if a is None:
        raise _login_failed()
    locked = None
    async with db.tx() as s:
        # Row-locked, so concurrent attempts from many addresses each count (none lost to another's write).
        row = await s.get(AdminUser, a.id, with_for_update=True, populate_existing=True)
        if row is None:
            raise _login_failed()
        now = clock.now()
        if row.locked_until is not None and row.locked_until > now:
            locked = row.locked_until  # another attempt locked the account while this one was checked
        elif ok and row.is_active and row.password_hash == a.password_hash:
            row.login_failures, row.login_window_at, row.locked_until, row.lockouts = 0, None, None, 0
            return await on_success(s, row, now)
        else:
            _record_failure(row, now)
            locked = row.locked_until if row.locked_until is not None and row.locked_until > now else None
    if locked is not None:
        raise LoginLocked(locked)
    raise _login_failed()


async def login_admin(
    db: Database, *, username: str, password: str, ttl_seconds: int, ip: str | None
) -> tuple[AdminUser, AdminSession]:
    """Check an admin login (API or console) and open its session. LOGIN_FAILED for a wrong name or
    password; LOGIN_LOCKED (429, with retry_after_seconds) while the account is locked out."""

    async def opened(s: AsyncSession, a: AdminUser, now: datetime) -> tuple[AdminUser, AdminSession]:
        return a, await _new_session(s, a, now, ttl_seconds=ttl_seconds, ip=ip)

    return await _attempt(db, username=username, password=password, on_success=opened)


def session_token(secret: str, session: AdminSession) -> str:
    """The admin token for a session: it names the session row, which every admin request checks."""
    ttl = max(1, int((session.expires_at - clock.now()).total_seconds()))
    return issue_token(secret, kind="admin", subject=session.admin_id, ttl_seconds=ttl, sid=session.id)


async def end_session(db: Database, *, session_id: str) -> None:
    """Log out: the session's token is refused from the next request on, in every process."""
    async with db.tx() as s:
        await s.execute(
            update(AdminSession)
            .where(AdminSession.id == session_id, AdminSession.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )


async def change_password(
    db: Database, *, admin_id: int, old_password: str, new_password: str, ttl_seconds: int, ip: str | None
) -> AdminSession:
    """Set a new password and end every session of the admin (a stolen token dies with the old password);
    returns a new session for the caller. A wrong old password counts towards the login lockout, so a
    stolen session cannot be used to guess it either."""
    async with db.read() as s:
        me = await s.get(AdminUser, admin_id)
    if me is None or not me.is_active:
        raise Unauthorized(CoreError.TOKEN_INVALID)
    if len(new_password) < 8:
        raise AppError(AccountsError.PASSWORD_TOO_SHORT, "新密码至少需要 8 个字符。")
    if len(new_password) > 200:
        raise AppError(AccountsError.PASSWORD_TOO_LONG, "新密码最多 200 个字符。")
    if new_password == old_password:
        raise AppError(AccountsError.PASSWORD_UNCHANGED, "新密码不能与原密码相同。")
    new_hash = await asyncio.to_thread(hash_password, new_password)

    async def changed(s: AsyncSession, a: AdminUser, now: datetime) -> AdminSession:
        a.password_hash = new_hash
        await s.execute(
            update(AdminSession)
            .where(AdminSession.admin_id == a.id, AdminSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return await _new_session(s, a, now, ttl_seconds=ttl_seconds, ip=ip)

    try:
        return await _attempt(db, username=me.username, password=old_password, on_success=changed)
    except Unauthorized:
        # Not 401: the caller's session is fine, only the old password they typed is not.
        raise AppError(AccountsError.PASSWORD_WRONG, "原密码不正确。") from None


async def reset_admin(db: Database, *, username: str, new_password: str | None = None) -> AdminUser:
    """The operator's way back in from the server's shell: lift a login lockout, and with a new password
    set it and end every session of that admin (the console cannot do this for a locked-out owner)."""
    if new_password is not None and not 8 <= len(new_password) <= 200:
        raise AppError(
            "PASSWORD_TOO_SHORT" if len(new_password) < 8 else "PASSWORD_TOO_LONG", "密码需 8 到 200 个字符。"
        )
    new_hash = None if new_password is None else await asyncio.to_thread(hash_password, new_password)
    async with db.tx() as s:
        a = await s.scalar(select(AdminUser).where(AdminUser.username == username).with_for_update())
        if a is None:
            raise NotFound(AccountsError.ADMIN_NOT_FOUND, "没有这个后台账号。")
        a.login_failures, a.login_window_at, a.locked_until, a.lockouts = 0, None, None, 0
        if new_hash is not None:
            a.password_hash = new_hash
            await s.execute(
                update(AdminSession)
                .where(AdminSession.admin_id == a.id, AdminSession.revoked_at.is_(None))
                .values(revoked_at=clock.now())
            )
        return a


async def set_blocked(db: Database, *, customer_id: int, blocked: bool) -> Customer:
    """Block or unblock a shopper: every shopper call is refused ACCOUNT_BLOCKED (within about a second on
    every server process, at once on this one), the flash-sale attempt included."""
    async with db.tx() as s:
        c = await s.get(Customer, customer_id)
        if c is None:
            raise NotFound(AccountsError.CUSTOMER_NOT_FOUND)
        c.is_blocked = blocked
    await blocked_changed()  # after the commit, so a process that reloads sees the new row
    return c


async def blocked_customers(db: Database, *, limit: int = 200) -> list[Customer]:
    """Blocked customers, newest first (the risk console's list)."""
    async with db.read() as s:
        q = select(Customer).where(Customer.is_blocked.is_(True)).order_by(Customer.id.desc()).limit(limit)
        return list((await s.scalars(q)).all())
