"""Admin sessions end when they should (logout, password change), and an account locks after repeated wrong
passwords, whichever addresses they come from."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fissionmall.accounts import service as accounts
from fissionmall.accounts.models import AdminSession, AdminUser
from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.core.errors import NotFound
from fissionmall.core.security import issue_token
from tests.authz import check_admin_matrix
from tests.console_helpers import _form_login, _meta_csrf
from tests.helpers import shopper

PASSWORD = "right-password-1"
LOGIN = "/api/admin/v1/auth/login"
ME = "/api/admin/v1/me"

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("POST", "/api/admin/v1/auth/logout", None, "", ""),
    ("POST", "/api/admin/v1/auth/password", {"old_password": PASSWORD, "new_password": "another-pass-2"}, "", ""),
]


async def _make(db: Database, username: str, role: str = "owner") -> int:
    async with db.tx() as s:
        return (await accounts.create_admin(s, username=username, password=PASSWORD, role=role)).id


async def _api_login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(LOGIN, json={"username": username, "password": password})


async def _bearer(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = await _api_login(client, username, password)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


@pytest.fixture
def from_address(app: Any) -> Callable[[str], Any]:
    """A client whose requests come from `ip` (the login tests use a different address for each try)."""

    @asynccontextmanager
    async def make(ip: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test", timeout=60) as c:
            yield c

    return make


async def _console_page_with_token(client: httpx.AsyncClient, token: str) -> httpx.Response:
    client.cookies.clear()
    client.cookies.set("fm_admin", token, domain="shop.test", path="/admin")
    return await client.get("/admin/products")


# ---- sessions ------------------------------------------------------------------------------------


async def test_console_logout_ends_the_token_for_the_console_and_the_admin_api(client, db):
    await _make(db, "boss")
    other = await _bearer(client, "boss")  # the same admin logged in elsewhere
    r = await _form_login(client, "boss", PASSWORD)
    assert r.status_code == 303, r.text
    token = client.cookies.get("fm_admin")
    assert token
    csrf = _meta_csrf((await client.get("/admin/")).text)
    assert (await client.get(ME, headers={"Authorization": f"Bearer {token}"})).status_code == 200

    r = await client.post("/admin/logout", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"

    # Someone who copied the cookie before the logout gets nothing from it any more, on either side.
    r = await _console_page_with_token(client, token)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    r = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and _code(r) == "SESSION_ENDED"
    r = await client.get("/api/admin/v1/products", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    # Only that session ended: the admin's other login goes on.
    assert (await client.get(ME, headers=other)).status_code == 200


async def test_api_logout_ends_that_token_only(client, db):
    await _make(db, "boss")
    first, second = await _bearer(client, "boss"), await _bearer(client, "boss")
    r = await client.post("/api/admin/v1/auth/logout", headers=first)
    assert r.status_code == 204
    r = await client.get(ME, headers=first)
    assert r.status_code == 401 and _code(r) == "SESSION_ENDED"
    assert (await client.post("/api/admin/v1/auth/logout", headers=first)).status_code == 401
    assert (await client.get(ME, headers=second)).status_code == 200
    # The console reads the same session: the ended token is no console cookie either.
    r = await _console_page_with_token(client, first["Authorization"].split()[1])
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")


async def test_password_change_ends_every_session_of_that_admin(client, db):
    await _make(db, "boss")
    await _make(db, "clerk", role="operator")
    api_a, api_b, clerk = await _bearer(client, "boss"), await _bearer(client, "boss"), await _bearer(client, "clerk")
    assert (await _form_login(client, "boss", PASSWORD)).status_code == 303
    console_token = client.cookies.get("fm_admin")
    assert console_token

    r = await client.post(
        "/api/admin/v1/auth/password",
        json={"old_password": PASSWORD, "new_password": "new-password-22"},
        headers=api_a,
    )
    assert r.status_code == 200, r.text
    fresh = {"Authorization": f"Bearer {r.json()['token']}"}

    for old in (api_a, api_b, {"Authorization": f"Bearer {console_token}"}):
        r = await client.get(ME, headers=old)
        assert r.status_code == 401 and _code(r) == "SESSION_ENDED"
    r = await _console_page_with_token(client, console_token)
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    assert (await client.get(ME, headers=fresh)).json()["username"] == "boss"
    assert (await client.get(ME, headers=clerk)).status_code == 200  # another admin is not touched
    assert _code(await _api_login(client, "boss", PASSWORD)) == "LOGIN_FAILED"
    assert (await _api_login(client, "boss", "new-password-22")).status_code == 200


async def test_password_change_refuses_a_wrong_old_password_and_a_short_new_one(client, db):
    await _make(db, "boss")
    h = await _bearer(client, "boss")
    url = "/api/admin/v1/auth/password"
    r = await client.post(url, json={"old_password": "not-it-at-all", "new_password": "new-password-22"}, headers=h)
    assert r.status_code == 400 and _code(r) == "PASSWORD_WRONG"
    r = await client.post(url, json={"old_password": PASSWORD, "new_password": PASSWORD}, headers=h)
    assert r.status_code == 400 and _code(r) == "PASSWORD_UNCHANGED"
    r = await client.post(url, json={"old_password": PASSWORD, "new_password": "short"}, headers=h)
    assert r.status_code == 422
    # Nothing changed: the session and the old password still work.
    assert (await client.get(ME, headers=h)).status_code == 200
    assert (await _api_login(client, "boss")).status_code == 200


async def test_wrong_old_passwords_count_towards_the_lockout(client, db):
    await _make(db, "boss")
    h = await _bearer(client, "boss")
    url = "/api/admin/v1/auth/password"
    codes = []
    for _ in range(accounts.LOCK_AFTER):
        r = await client.post(url, json={"old_password": "guess-guess", "new_password": "new-password-22"}, headers=h)
        codes.append(_code(r))
    assert codes == ["PASSWORD_WRONG"] * (accounts.LOCK_AFTER - 1) + ["LOGIN_LOCKED"]
    r = await client.post(url, json={"old_password": PASSWORD, "new_password": "new-password-22"}, headers=h)
    assert r.status_code == 429 and _code(r) == "LOGIN_LOCKED"
    assert (await client.get(ME, headers=h)).status_code == 200  # a lockout logs nobody out


async def test_the_console_password_page_changes_it_and_ends_the_other_sessions(client, db):
    await _make(db, "boss")
    elsewhere = await _bearer(client, "boss")
    assert (await _form_login(client, "boss", PASSWORD)).status_code == 303
    page = await client.get("/admin/password")
    assert page.status_code == 200 and "修改密码" in page.text
    csrf = _meta_csrf(page.text)

    form = {"csrf_token": csrf, "old_password": "wrong-one-1", "new_password": "new-password-22"}
    r = await client.post("/admin/password", data={**form, "new_password_again": "new-password-22"})
    assert r.status_code == 400 and "原密码不正确" in r.text
    r = await client.post("/admin/password", data={**form, "old_password": PASSWORD, "new_password_again": "x"})
    assert r.status_code == 400 and "两次输入的新密码不一致" in r.text
    r = await client.post("/admin/password", data={"csrf_token": csrf, "old_password": PASSWORD})
    assert r.status_code == 400 and "新密码至少需要 8 个字符" in r.text
    assert (await client.get(ME, headers=elsewhere)).status_code == 200  # refusals changed nothing

    old_cookie = client.cookies.get("fm_admin")
    r = await client.post(
        "/admin/password", data={**form, "old_password": PASSWORD, "new_password_again": "new-password-22"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/password?ok=changed"
    assert client.cookies.get("fm_admin") != old_cookie
    done = await client.get("/admin/password?ok=changed")
    assert done.status_code == 200 and "密码已修改" in done.text  # this browser goes on with the new session
    assert _code(await client.get(ME, headers=elsewhere)) == "SESSION_ENDED"
    assert _code(await client.get(ME, headers={"Authorization": f"Bearer {old_cookie}"})) == "SESSION_ENDED"
    assert (await _api_login(client, "boss", "new-password-22")).status_code == 200


async def test_the_password_page_needs_the_csrf_token(client, db):
    await _make(db, "boss")
    assert (await _form_login(client, "boss", PASSWORD)).status_code == 303
    r = await client.post(
        "/admin/password",
        data={"old_password": PASSWORD, "new_password": "new-password-22", "new_password_again": "new-password-22"},
    )
    assert r.status_code == 403
    assert (await _api_login(client, "boss")).status_code == 200


async def test_a_token_without_a_session_or_past_its_session_is_refused(client, db, settings):
    admin_id = await _make(db, "boss")
    sessionless = issue_token(settings.secret_key, kind="admin", subject=admin_id, ttl_seconds=3600)
    r = await client.get(ME, headers={"Authorization": f"Bearer {sessionless}"})
    assert r.status_code == 401 and _code(r) == "TOKEN_INVALID"
    # A session id belongs to its admin: put in a token for another admin it opens nothing.
    h = await _bearer(client, "boss")
    other_id = await _make(db, "clerk")
    async with db.read() as s:
        sid = await s.scalar(select(AdminSession.id).where(AdminSession.admin_id == admin_id))
    borrowed = issue_token(settings.secret_key, kind="admin", subject=other_id, ttl_seconds=3600, sid=sid)
    assert _code(await client.get(ME, headers={"Authorization": f"Bearer {borrowed}"})) == "TOKEN_INVALID"
    clock.advance(settings.admin_token_ttl_seconds + 1)
    assert _code(await client.get(ME, headers=h)) == "TOKEN_EXPIRED"


async def test_admin_session_routes_authorization(client, db):
    await check_admin_matrix(client, db, ADMIN_ROUTES, {}, await shopper(client, "alice"))


# ---- lockout -------------------------------------------------------------------------------------


async def test_lockout_after_failures_from_many_addresses_holds_even_for_the_right_password(client, db, from_address):
    await _make(db, "boss")
    await _make(db, "clerk", role="operator")
    codes = []
    for i in range(accounts.LOCK_AFTER):
        async with from_address(f"10.20.0.{i + 1}") as c:
            codes.append(_code(await _api_login(c, "boss", f"guess-{i}")))
    assert codes == ["LOGIN_FAILED"] * (accounts.LOCK_AFTER - 1) + ["LOGIN_LOCKED"]

    async with from_address("10.20.1.1") as c:
        r = await _api_login(c, "boss")
    assert r.status_code == 429 and _code(r) == "LOGIN_LOCKED"
    assert "锁定" in r.json()["error"]["message"]
    assert 0 < int(r.headers["retry-after"]) <= 60
    assert r.json()["error"]["detail"]["retry_after_seconds"] == int(r.headers["retry-after"])
    # The console form is no way around it.
    r = await _form_login(client, "boss", PASSWORD)
    assert r.status_code == 429 and "登录失败次数过多" in r.text
    assert "fm_admin" not in client.cookies
    # Another account is not affected.
    assert (await _api_login(client, "clerk")).status_code == 200

    clock.advance(61)
    assert (await _api_login(client, "boss")).status_code == 200


async def test_each_lockout_in_a_row_lasts_longer(client, db):
    await _make(db, "boss")
    for minutes in (1, 5, 15, 60, 60):
        for _ in range(accounts.LOCK_AFTER):
            await _api_login(client, "boss", "wrong-password")
        clock.advance(minutes * 60 - 5)
        r = await _api_login(client, "boss")
        assert r.status_code == 429 and _code(r) == "LOGIN_LOCKED", minutes
        assert int(r.headers["retry-after"]) <= 5
        clock.advance(6)
    assert (await _api_login(client, "boss")).status_code == 200
    # The successful login started the steps again: the next lockout is a minute.
    for _ in range(accounts.LOCK_AFTER):
        await _api_login(client, "boss", "wrong-password")
    clock.advance(61)
    assert (await _api_login(client, "boss")).status_code == 200


async def test_a_successful_login_and_the_window_reset_the_count(client, db):
    await _make(db, "boss")
    for _ in range(accounts.LOCK_AFTER - 1):
        assert _code(await _api_login(client, "boss", "wrong-password")) == "LOGIN_FAILED"
    assert (await _api_login(client, "boss")).status_code == 200
    for _ in range(accounts.LOCK_AFTER - 1):
        assert _code(await _api_login(client, "boss", "wrong-password")) == "LOGIN_FAILED"
    # Failures further apart than the window do not add up either.
    clock.advance(accounts.LOCK_WINDOW.total_seconds() + 1)
    for _ in range(accounts.LOCK_AFTER - 1):
        assert _code(await _api_login(client, "boss", "wrong-password")) == "LOGIN_FAILED"
    assert (await _api_login(client, "boss")).status_code == 200
    async with db.read() as s:
        row = await s.scalar(select(AdminUser).where(AdminUser.username == "boss"))
        assert row is not None and row.login_failures == 0 and row.locked_until is None


async def test_an_unknown_username_is_a_plain_login_failure(client, db):
    await _make(db, "boss")
    for _ in range(accounts.LOCK_AFTER + 1):
        r = await _api_login(client, "nobody-here")
        assert r.status_code == 401 and _code(r) == "LOGIN_FAILED"
    assert (await _api_login(client, "boss")).status_code == 200


async def test_console_and_api_failures_share_one_count(client, db):
    await _make(db, "boss")
    for i in range(accounts.LOCK_AFTER - 1):
        r = await (_form_login(client, "boss", "wrong-password") if i % 2 else _api_login(client, "boss", "nope-nope"))
        assert r.status_code == 401
    r = await _form_login(client, "boss", "wrong-password")
    assert r.status_code == 429 and "登录失败次数过多" in r.text and int(r.headers["retry-after"]) > 0
    assert _code(await _api_login(client, "boss")) == "LOGIN_LOCKED"


async def test_concurrent_wrong_passwords_are_each_counted(app, db, from_address):
    # Twelve guesses at once from twelve addresses: every one is counted against the account (none lost to
    # another's write), so exactly LOCK_AFTER - 1 are checked and answered "wrong", the rest are refused.
    await _make(db, "boss")

    async def guess(i: int) -> str:
        async with from_address(f"10.30.0.{i + 1}") as c:
            return _code(await _api_login(c, "boss", f"guess-{i}"))

    codes = Counter(await asyncio.gather(*(guess(i) for i in range(12))))
    assert codes == {"LOGIN_FAILED": accounts.LOCK_AFTER - 1, "LOGIN_LOCKED": 12 - (accounts.LOCK_AFTER - 1)}
    async with from_address("10.30.1.1") as c:
        assert _code(await _api_login(c, "boss")) == "LOGIN_LOCKED"


async def test_reset_admin_lifts_a_lockout_and_a_new_password_ends_the_sessions(client, db, from_address):
    """The shell's way back in (`fissionmall reset-admin`) for an owner locked out of the console."""
    await _make(db, "boss")
    old = await _bearer(client, "boss")
    for i in range(accounts.LOCK_AFTER):
        async with from_address(f"10.30.0.{i + 1}") as c:
            await _api_login(c, "boss", f"guess-{i}")
    assert _code(await _api_login(client, "boss")) == "LOGIN_LOCKED"

    await accounts.reset_admin(db, username="boss")
    assert (await _api_login(client, "boss")).status_code == 200  # unlocked, same password
    assert (await client.get(ME, headers=old)).status_code == 200  # unlocking alone ends no session

    await accounts.reset_admin(db, username="boss", new_password="brand-new-pass")
    assert (await client.get(ME, headers=old)).status_code == 401
    assert _code(await _api_login(client, "boss")) == "LOGIN_FAILED"
    assert (await _api_login(client, "boss", "brand-new-pass")).status_code == 200
    with pytest.raises(NotFound):
        await accounts.reset_admin(db, username="nobody")
