"""The 员工 page: the owner creates, disables, resets and re-roles staff; every change that takes access away
ends that staff member's sessions at once; the shop never loses its last owner; only the owner opens it."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import func, select

from fissionmall.accounts import staff
from fissionmall.accounts.models import AdminSession, AdminUser
from fissionmall.core.db import Database
from fissionmall.core.errors import AppError
from tests.accounts import test_admin_sessions
from tests.console_helpers import _admin_id, _form_login, _make_admin, _meta_csrf, console

STAFF_PASSWORD = "staff-pass-123"
from_address = test_admin_sessions.from_address  # the fixture: another browser, at its own address


def _handed(html: str) -> str:
    m = re.search(r'id="handed-secret">([^<]+)<', html)
    assert m, "no password handed over"
    return m.group(1)


async def _row(db: Database, username: str) -> AdminUser:
    async with db.read() as s:
        a = await s.scalar(select(AdminUser).where(AdminUser.username == username))
        assert a is not None
        return a


async def _open_sessions(db: Database, admin_id: int) -> int:
    async with db.read() as s:
        q = select(func.count()).where(AdminSession.admin_id == admin_id, AdminSession.revoked_at.is_(None))
        return int(await s.scalar(q) or 0)


async def _logged_in(c: httpx.AsyncClient, username: str, password: str) -> None:
    r = await _form_login(c, username, password)
    assert r.status_code == 303 and r.headers["location"] == "/admin/", r.text


async def test_the_owner_creates_a_staff_account_with_a_one_time_password_it_logs_in_with(client, db, from_address):
    csrf = await console(client, db, "owner")
    r = await client.post("/admin/staff", data={"csrf_token": csrf, "username": "xiaowang", "role": "operator"})
    assert r.status_code == 200 and "已创建员工 xiaowang（运营）" in r.text
    temp = _handed(r.text)
    assert len(temp) == staff.TEMP_LENGTH and "临时密码只显示这一次" in r.text
    a = await _row(db, "xiaowang")
    assert a.role == "operator" and a.is_active
    async with from_address("10.9.0.1") as c:
        await _logged_in(c, "xiaowang", temp)
        assert (await c.get("/admin/products")).status_code == 200
        assert (await c.get("/admin/staff")).status_code == 403  # an operator does not keep the staff
    page = await client.get("/admin/staff")
    assert 'data-staff="xiaowang"' in page.text and temp not in page.text  # shown once, never again


async def test_a_typed_initial_password_is_kept_and_bad_input_is_refused_beside_its_field(client, db, from_address):
    csrf = await console(client, db, "owner")
    data = {"csrf_token": csrf, "username": "cashier", "role": "finance", "password": STAFF_PASSWORD}
    r = await client.post("/admin/staff", data=data)
    assert r.status_code == 200 and _handed(r.text) == STAFF_PASSWORD and "临时密码只显示这一次" not in r.text
    async with from_address("10.9.0.2") as c:
        await _logged_in(c, "cashier", STAFF_PASSWORD)
    for bad, field_text in [
        ({"username": "x y", "role": "operator"}, "用户名须为 3-32 位字母、数字或 _ . -"),
        ({"username": "cashier", "role": "operator"}, "该用户名已被使用"),
        ({"username": "newbie", "role": "boss"}, "角色不存在"),
        ({"username": "newbie", "role": "operator", "password": "short"}, "密码至少需要 8 个字符"),
    ]:
        r = await client.post("/admin/staff", data={"csrf_token": csrf, **bad})
        assert r.status_code == 422 and field_text in r.text, bad
        assert "field-error" in r.text
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(AdminUser)) == 2  # the owner and cashier only


async def test_disabling_ends_the_staff_members_sessions_at_once_and_enabling_lets_them_back(client, db, from_address):
    csrf = await console(client, db, "owner")
    sid = await _make_admin(db, "operator", "helper")
    async with from_address("10.9.0.3") as c:
        r = await _form_login(c, "helper", "console-pass-123")
        assert r.status_code == 303
        assert (await c.get("/admin/products")).status_code == 200
        r = await client.post(f"/admin/staff/{sid}/active", data={"csrf_token": csrf, "active": "0"})
        assert r.status_code == 303 and r.headers["location"] == "/admin/staff?ok=disabled"
        assert await _open_sessions(db, sid) == 0
        r = await c.get("/admin/products")
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
        r = await _form_login(c, "helper", "console-pass-123")
        assert r.status_code == 401  # a disabled account cannot log in
        page = await client.get("/admin/staff?ok=disabled")
        assert "已停用" in page.text
        r = await client.post(f"/admin/staff/{sid}/active", data={"csrf_token": csrf, "active": "1"})
        assert r.status_code == 303
        await _logged_in(c, "helper", "console-pass-123")


async def test_a_password_reset_ends_every_session_and_only_the_new_password_works(client, db, from_address):
    csrf = await console(client, db, "owner")
    sid = await _make_admin(db, "finance", "books")
    async with from_address("10.9.0.4") as c:
        await _logged_in(c, "books", "console-pass-123")
        r = await client.post(f"/admin/staff/{sid}/password", data={"csrf_token": csrf, "password": ""})
        assert r.status_code == 200 and "已重置 books 的密码" in r.text
        temp = _handed(r.text)
        assert await _open_sessions(db, sid) == 0
        assert (await c.get("/admin/refunds")).status_code == 303  # the open tab is logged out
        assert (await _form_login(c, "books", "console-pass-123")).status_code == 401
        await _logged_in(c, "books", temp)
        r = await client.post(f"/admin/staff/{sid}/password", data={"csrf_token": csrf, "password": "short"})
        assert r.status_code == 422 and "密码至少需要 8 个字符" in r.text
        assert await _open_sessions(db, sid) == 1  # a refused reset ends nothing


async def test_a_new_role_applies_from_the_next_login(client, db, from_address):
    csrf = await console(client, db, "owner")
    sid = await _make_admin(db, "store_staff", "counter")
    async with from_address("10.9.0.5") as c:
        await _logged_in(c, "counter", "console-pass-123")
        assert (await c.get("/admin/products")).status_code == 403
        r = await client.post(f"/admin/staff/{sid}/role", data={"csrf_token": csrf, "role": "operator"})
        assert r.status_code == 303 and r.headers["location"] == "/admin/staff?ok=role"
        assert (await _row(db, "counter")).role == "operator"
        assert (await c.get("/admin/products")).status_code == 303  # logged out
        await _logged_in(c, "counter", "console-pass-123")
        assert (await c.get("/admin/products")).status_code == 200
    r = await client.post(f"/admin/staff/{sid}/role", data={"csrf_token": csrf, "role": "emperor"})
    assert r.status_code == 422 and "角色不存在" in r.text
    assert (await _row(db, "counter")).role == "operator"


async def test_the_owner_cannot_lock_themselves_out(client, db):
    csrf = await console(client, db, "owner")
    me = await _admin_id(db, "owner-console")
    for path, data in [("active", {"active": "0"}), ("role", {"role": "operator"}), ("password", {"password": ""})]:
        r = await client.post(f"/admin/staff/{me}/{path}", data={"csrf_token": csrf, **data})
        assert r.status_code == 409 and "不能停用自己、修改自己的角色" in r.text, path
    a = await _row(db, "owner-console")
    assert a.is_active and a.role == "owner"
    assert (await client.get("/admin/staff")).status_code == 200  # still logged in
    r = await client.post("/admin/staff/999999/active", data={"csrf_token": csrf, "active": "0"})
    assert r.status_code == 404 and "没有这个后台账号" in r.text


async def test_an_owner_demoted_meanwhile_cannot_remove_the_last_owner(db, app):
    first = await _make_admin(db, "owner", "first-owner")
    second_owner = await _make_admin(db, "owner", "second-owner")
    await staff.set_role(db, actor_id=first, admin_id=second_owner, role="operator")
    # second-owner's request was already past the door when the demotion landed: refused, nothing changed
    with pytest.raises(AppError) as exc:
        await staff.set_active(db, actor_id=second_owner, admin_id=first, active=False)
    assert exc.value.code == "LAST_OWNER"
    assert (await _row(db, "first-owner")).is_active


async def test_two_owners_disabling_each_other_at_once_leave_one_owner(db, app):
    a = await _make_admin(db, "owner", "owner-a")
    b = await _make_admin(db, "owner", "owner-b")
    results = await asyncio.gather(
        staff.set_active(db, actor_id=a, admin_id=b, active=False),
        staff.set_active(db, actor_id=b, admin_id=a, active=False),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, AppError)]
    assert len(refused) == 1 and refused[0].code == "LAST_OWNER", results
    async with db.read() as s:
        q = select(func.count()).where(AdminUser.role == "owner", AdminUser.is_active.is_(True))
        assert await s.scalar(q) == 1


@pytest.mark.parametrize("role", ["operator", "finance", "store_staff"])
async def test_only_the_owner_opens_the_staff_page(client, db, role):
    csrf = await console(client, db, role)
    target = await _make_admin(db, "store_staff", "someone")
    assert "/admin/staff" not in (await client.get("/admin/")).text  # not in the sidebar either
    r = await client.get("/admin/staff")
    assert r.status_code == 403 and "没有权限" in r.text and "员工管理" in r.text
    for path, data in [("", {"username": "sneaky", "role": "owner"}), (f"/{target}/role", {"role": "owner"})]:
        r = await client.post(f"/admin/staff{path}", data={"csrf_token": csrf, **data})
        assert r.status_code == 403
    r = await client.post(f"/admin/staff/{target}/active", data={"csrf_token": csrf, "active": "0"})
    assert r.status_code == 403
    assert (await _row(db, "someone")).role == "store_staff" and (await _row(db, "someone")).is_active
    async with db.read() as s:
        assert await s.scalar(select(AdminUser.id).where(AdminUser.username == "sneaky")) is None


async def test_the_owner_sees_the_staff_page_in_the_sidebar_and_the_store_binding_note(client, db):
    await console(client, db, "owner")
    home = await client.get("/admin/")
    assert 'href="/admin/staff"' in home.text
    page = await client.get("/admin/staff")
    assert page.status_code == 200 and "门店店员绑定门店将随「门店」功能" in page.text
    assert _meta_csrf(page.text)
