"""The risk console page (/admin/risk): the flash-sale limits and the block list, written through the services."""

from __future__ import annotations

import re

import httpx

from fissionmall.accounts import rules as roles
from fissionmall.core.security import read_token
from fissionmall.risk import service as risk
from fissionmall.settings import get_settings
from tests.console_helpers import console
from tests.helpers import admin, product, shopper
from tests.seckill.helpers import LOOSE, attempt, loosen, session

FORM = {k: str(v) for k, v in LOOSE.items()}


def _id(headers: dict[str, str]) -> int:
    return int(read_token(get_settings().secret_key, headers["Authorization"].split()[1], kind="customer")["sub"])


def _input(html: str, name: str) -> str:
    m = re.search(rf'<input id="f-{name}" name="{name}" value="([^"]*)"', html)
    assert m, f"no input {name}"
    return m.group(1)


async def _api_limits(client: httpx.AsyncClient, boss: dict[str, str]) -> dict[str, int]:
    r = await client.get("/api/admin/v1/risk/limits", headers=boss)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_operator_sees_the_limits_and_saved_ones_apply_at_once(client, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=10, limit=5))["items"][0]["id"]
    me = await shopper(client)
    assert (await attempt(client, me, item)).status_code == 202  # the loose limits are now cached

    csrf = await console(client, db, "operator")
    page = await client.get("/admin/risk")
    assert page.status_code == 200
    assert "每人每窗口最多尝试次数" in page.text and 'id="save-limits"' in page.text
    assert re.search(r'class="nav-item active"[^>]*>.*?<span class="nav-label">风控</span>', page.text, re.S)
    assert _input(page.text, "per_user") == "1000000" and _input(page.text, "window_seconds") == "10"

    r = await client.post("/admin/risk/limits", data={**FORM, "csrf_token": csrf, "per_user": "1", "per_ip": "500"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/risk?ok=limits"
    page = await client.get(r.headers["location"])
    assert "风控规则已保存" in page.text and _input(page.text, "per_user") == "1"
    assert await _api_limits(client, boss) == {**LOOSE, "per_user": 1, "per_ip": 500}
    # In force without waiting out the cache: the shopper's second attempt in the window is over the limit.
    assert (await risk.limits(db)).per_user == 1
    r = await attempt(client, me, item)
    assert r.status_code == 429 and r.json()["error"]["code"] == "RATE_LIMITED"


async def test_a_bad_value_is_refused_with_a_message_and_nothing_changes(client, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    csrf = await console(client, db, "operator")
    for bad, message in [
        ({"per_user": "0"}, "请填写 1 到 1,000,000,000 之间的整数"),
        ({"window_seconds": "3601"}, "请填写 1 到 3,600 之间的整数"),
        ({"captcha_after": "abc"}, "请填写 1 到 1,000,000,000 之间的整数"),
        ({"token_lead_seconds": "-5"}, "请填写 0 到 86,400 之间的整数"),
        ({"per_device": ""}, "请填写 1 到 1,000,000,000 之间的整数"),
    ]:
        r = await client.post("/admin/risk/limits", data={**FORM, "csrf_token": csrf, "per_ip": "7", **bad})
        assert r.status_code == 422, (bad, r.text)
        assert 'id="limits-error"' in r.text and message in r.text, bad
        name, value = next(iter(bad.items()))
        assert _input(r.text, name) == value  # what was typed stays, to be corrected
    assert await _api_limits(client, boss) == LOOSE


async def test_operator_blocks_and_unblocks_a_shopper_from_the_page(client, db):
    me, other = await shopper(client, "scalper"), await shopper(client, "bystander")
    cid = _id(me)
    nickname = (await client.get("/api/v1/me", headers=me)).json()["nickname"]
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/risk")
    assert "没有被封禁的买家" in page.text and "data-confirm=" in page.text and 'id="block-btn"' in page.text

    r = await client.post("/admin/risk/block", data={"csrf_token": csrf, "customer_id": str(cid)})
    assert r.status_code == 303 and r.headers["location"] == "/admin/risk?ok=blocked"
    r = await client.get("/api/v1/me", headers=me)
    assert r.status_code == 403 and r.json()["error"]["code"] == "ACCOUNT_BLOCKED"
    assert (await client.get("/api/v1/me", headers=other)).status_code == 200
    page = await client.get("/admin/risk?ok=blocked")
    assert "已封禁该买家" in page.text
    row = re.search(rf'<tr data-customer-id="{cid}">(.*?)</tr>', page.text, re.S)
    assert row and nickname in row.group(1) and "解除" in row.group(1)
    assert re.findall(r'data-customer-id="(\d+)"', page.text) == [str(cid)]

    r = await client.post("/admin/risk/unblock", data={"csrf_token": csrf, "customer_id": str(cid)})
    assert r.status_code == 303 and r.headers["location"] == "/admin/risk?ok=unblocked"
    assert (await client.get("/api/v1/me", headers=me)).status_code == 200
    page = await client.get("/admin/risk")
    assert "没有被封禁的买家" in page.text and 'data-customer-id="' not in page.text


async def test_an_unknown_or_malformed_customer_id_is_a_message_on_the_page(client, db):
    me = await shopper(client)
    csrf = await console(client, db, "operator")
    r = await client.post("/admin/risk/block", data={"csrf_token": csrf, "customer_id": "999999"})
    assert r.status_code == 422 and 'id="block-error"' in r.text and "找不到编号为 999999 的买家" in r.text
    for raw in ("abc", "", "0", "-3", str(2**70)):
        r = await client.post("/admin/risk/block", data={"csrf_token": csrf, "customer_id": raw})
        assert r.status_code == 422 and "请填写买家编号" in r.text, raw
    assert (await client.get("/api/v1/me", headers=me)).status_code == 200


async def test_roles_without_marketing_and_posts_without_the_token_are_refused(client, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    me = await shopper(client)
    cid = str(_id(me))
    for role in ("finance", "store_staff"):
        csrf = await console(client, db, role)
        home = await client.get("/admin/")
        assert "/admin/risk" not in home.text
        assert (await client.get("/admin/risk")).status_code == 403
        r = await client.post("/admin/risk/block", data={"csrf_token": csrf, "customer_id": cid})
        assert r.status_code == 403 and "没有权限" in r.text
        r = await client.post("/admin/risk/limits", data={**FORM, "csrf_token": csrf, "per_user": "1"})
        assert r.status_code == 403

    await console(client, db, "operator")
    for data in ({"customer_id": cid}, {"customer_id": cid, "csrf_token": "0" * 64}):
        r = await client.post("/admin/risk/block", data=data)
        assert r.status_code == 403 and "安全校验未通过" in r.text
    r = await client.post("/admin/risk/limits", data={**FORM, "per_user": "1"})
    assert r.status_code == 403 and "安全校验未通过" in r.text

    assert (await client.get("/api/v1/me", headers=me)).status_code == 200
    assert await _api_limits(client, boss) == LOOSE
    assert (await client.get("/admin/risk")).status_code == 200


async def test_a_read_only_role_sees_the_values_but_no_controls(client, db, monkeypatch):
    # No built-in role has marketing.read without marketing, so lend one to finance for this test.
    monkeypatch.setitem(roles._GRANTS, "finance", roles._GRANTS["finance"] | {"marketing.read"})
    boss = await admin(client, db)
    await loosen(client, boss, per_user=42)
    me = await shopper(client)
    r = await client.put(f"/api/admin/v1/risk/blocked/{_id(me)}", json={"blocked": True}, headers=boss)
    assert r.status_code == 200
    csrf = await console(client, db, "finance")
    page = await client.get("/admin/risk")
    assert page.status_code == 200 and "只能查看风控设置" in page.text
    assert _input(page.text, "per_user") == "42" and re.search(r"<fieldset disabled", page.text)
    assert f'data-customer-id="{_id(me)}"' in page.text
    for control in ('id="save-limits"', 'id="block-form"', "解除</button>"):
        assert control not in page.text, control
    r = await client.post("/admin/risk/unblock", data={"csrf_token": csrf, "customer_id": str(_id(me))})
    assert r.status_code == 403
    assert (await client.get("/api/v1/me", headers=me)).status_code == 403
