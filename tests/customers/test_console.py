"""The 客户 pages: the list (search by nickname or whole phone, filters by spend, last order, source and
distributor), a customer's page with one card per tool, and the JSON search behind the customer pickers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from fissionmall.accounts import service as accounts
from fissionmall.accounts.models import Customer
from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.core.schemas import to_local
from fissionmall.customers import admin as customers_admin
from tests.console_helpers import console
from tests.distribution.helpers import configure, customer_id, distributor, login
from tests.helpers import admin, order, pay, product, run_jobs
from tests.pricing.helpers import claim, template

PHONE = "13900001111"


async def _rename(db: Database, cid: int, nickname: str) -> None:
    async with db.tx() as s:
        await s.execute(update(Customer).where(Customer.id == cid).values(nickname=nickname))


@pytest.fixture
async def world(client, db) -> dict[str, Any]:
    """dora, a distributor; alice, brought by her link, with a phone and a paid order; bob, on his own, with a
    coupon and no order; carol, blocked."""
    boss = await admin(client, db, username="api-owner")
    await configure(client, boss)
    p = await product(client, boss, prices=(1990,), stock=20)
    dora_h, code = await distributor(client, db, "dora-openid")
    alice_h = await login(client, "alice-openid", ref=code)
    await run_jobs(db)
    r = await client.post("/api/v1/me/phone", json={"code": f"sandbox-{PHONE}"}, headers=alice_h)
    assert r.status_code == 200, r.text
    o = (await order(client, alice_h, [{"sku_id": p["skus"][0]["id"], "qty": 1}])).json()
    await pay(client, alice_h, o["id"])
    await run_jobs(db)
    bob_h = await login(client, "bob-openid")
    t = await template(client, boss, name="新客满100减20")
    await claim(client, bob_h, t["id"])
    carol_h = await login(client, "carol-openid")
    ids = {
        n: await customer_id(client, h)
        for n, h in [("dora", dora_h), ("alice", alice_h), ("bob", bob_h), ("carol", carol_h)]
    }
    for name, nick in [("dora", "朵拉"), ("alice", "爱丽丝"), ("bob", "鲍勃"), ("carol", "卡罗尔")]:
        await _rename(db, ids[name], nick)
    await accounts.set_blocked(db, customer_id=ids["carol"], blocked=True)
    paid = (await client.get(f"/api/v1/orders/{o['id']}", headers=alice_h)).json()["paid_fen"]
    return {"ids": ids, "order": o, "paid_fen": paid, "template": t}


def _listed(html: str, ids: dict[str, int]) -> set[str]:
    return {name for name, cid in ids.items() if f'data-customer-id="{cid}"' in html}


async def test_the_list_finds_a_customer_by_nickname_or_by_their_whole_phone(client, db, world):
    await console(client, db, "operator")
    ids = world["ids"]
    r = await client.get("/admin/customers")
    assert r.status_code == 200 and _listed(r.text, ids) == {"dora", "alice", "bob", "carol"}
    assert _listed((await client.get("/admin/customers", params={"q": "爱丽"})).text, ids) == {"alice"}
    r = await client.get("/admin/customers", params={"q": "139 0000 1111"})
    assert _listed(r.text, ids) == {"alice"} and "139****1111" in r.text
    r = await client.get("/admin/customers", params={"q": "1390000"})  # stored hashed: only the whole number
    assert _listed(r.text, ids) == set() and "没有找到与「1390000」相符的客户" in r.text
    assert _listed((await client.get("/admin/customers", params={"q": str(ids["bob"])})).text, ids) >= {"bob"}


async def test_filters_by_spend_last_order_source_and_distributor(client, db, world):
    await console(client, db, "owner")
    ids, yuan = world["ids"], world["paid_fen"] / 100
    # The console's dates are the shop's (Asia/Shanghai): from 16:00 UTC on, its today is UTC's tomorrow.
    today = to_local(clock.now()).date().isoformat()
    cases: list[tuple[dict[str, str], set[str]]] = [
        ({"spend_min": f"{yuan:.2f}"}, {"alice"}),
        ({"spend_min": f"{yuan + 0.01:.2f}"}, set()),
        ({"spend_max": f"{yuan - 0.01:.2f}"}, {"dora", "bob", "carol"}),
        ({"spend_min": "1", "spend_max": f"{yuan:.2f}"}, {"alice"}),
        ({"ordered_from": today, "ordered_to": today}, {"alice"}),
        ({"ordered_to": (clock.now() - timedelta(days=2)).date().isoformat()}, set()),
        ({"source": "share_link"}, {"alice"}),
        ({"source": "organic"}, {"dora", "bob", "carol"}),
        ({"relation": "distributor"}, {"dora"}),
        ({"relation": "bound"}, {"alice"}),
        ({"relation": "unbound"}, {"dora", "bob", "carol"}),
        ({"bound_to": str(ids["dora"])}, {"alice"}),
        ({"bound_to": str(ids["bob"])}, set()),
        ({"q": "鲍", "relation": "unbound"}, {"bob"}),
    ]
    for params, expected in cases:
        r = await client.get("/admin/customers", params=params)
        assert r.status_code == 200 and _listed(r.text, ids) == expected, params
    r = await client.get("/admin/customers", params={"spend_min": f"{yuan:.2f}"})
    assert "累计消费" in r.text and f"¥{yuan:.2f}" in r.text and "上级 朵拉" in r.text


async def test_a_filter_typed_wrong_is_refused_beside_its_field(client, db, world):
    await console(client, db, "owner")
    for params, message in [
        ({"spend_min": "abc"}, "请填写金额（元）"),
        ({"ordered_from": "2024-13-40"}, "请选择日期"),
        ({"bound_to": "朵拉"}, "请从搜索结果中选择分销员"),
    ]:
        r = await client.get("/admin/customers", params=params)
        assert r.status_code == 422 and message in r.text and "field-error" in r.text, params
        assert _listed(r.text, world["ids"]) == set()


async def test_the_list_pages_with_the_cursor(client, db, world, monkeypatch):
    monkeypatch.setattr(customers_admin, "PAGE_SIZE", 3)
    await console(client, db, "owner")
    ids = world["ids"]
    first = await client.get("/admin/customers")
    assert _listed(first.text, ids) == {"carol", "bob", "alice"} and 'rel="next"' in first.text
    nxt = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = await client.get(nxt)
    assert _listed(second.text, ids) == {"dora"} and 'rel="next"' not in second.text and "回到第一页" in second.text


async def test_a_customers_page_shows_their_orders_coupons_distributor_and_blocked_state(client, db, world):
    await console(client, db, "owner")
    ids = world["ids"]
    r = await client.get(f"/admin/customers/{ids['alice']}")
    assert r.status_code == 200
    html = r.text
    assert "爱丽丝" in html and "139****1111" in html and "分享链接进店" in html
    assert world["order"]["no"] in html and f'href="/admin/orders/{world["order"]["id"]}"' in html  # 订单
    assert "已支付</dt><dd>1 笔" in html and f"¥{world['paid_fen'] / 100:.2f}" in html
    assert "上级分销员" in html and f'href="/admin/customers/{ids["dora"]}">朵拉' in html  # 分销关系
    assert "注册时绑定" in html
    assert "没有领过券" in html  # 优惠券
    assert 'action="/admin/risk/block"' in html and f'value="{ids["alice"]}"' in html  # 风控
    assert html.index('data-panel="订单"') < html.index('data-panel="优惠券"') < html.index('data-panel="分销关系"')
    bob = (await client.get(f"/admin/customers/{ids['bob']}")).text
    assert "新客满100减20" in bob and "可用</dt><dd>1 张" in bob and "还没有下过单" in bob and "自然进店" in bob
    dora = (await client.get(f"/admin/customers/{ids['dora']}")).text
    assert "一级 1 人" in dora and "/admin/distribution/distributors/" in dora
    carol = (await client.get(f"/admin/customers/{ids['carol']}")).text
    assert 'id="customer-blocked"' in carol and 'action="/admin/risk/unblock"' in carol
    r = await client.get("/admin/customers/987654321")
    assert r.status_code == 404 and "找不到编号为 987654321 的客户" in r.text


async def test_the_picker_search_answers_id_nickname_masked_phone_and_avatar(client, db, world):
    await console(client, db, "operator")
    ids = world["ids"]
    r = await client.get("/admin/customers/search", params={"q": PHONE})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.json() == {
        "items": [
            {"id": ids["alice"], "nickname": "爱丽丝", "phone": "139****1111", "avatar_url": None, "blocked": False}
        ]
    }
    items = (await client.get("/admin/customers/search", params={"q": "卡罗"})).json()["items"]
    assert [(i["id"], i["phone"], i["blocked"]) for i in items] == [(ids["carol"], None, True)]
    assert PHONE not in r.text


async def test_the_picker_search_returns_at_most_20(client, db, world):
    await console(client, db, "owner")
    for n in range(22):
        cid = await customer_id(client, await login(client, f"crowd-{n}"))
        await _rename(db, cid, f"顾客{n:02d}")
    items = (await client.get("/admin/customers/search", params={"q": "顾客"})).json()["items"]
    assert len(items) == 20 and items[0]["nickname"] == "顾客21"  # newest first


@pytest.mark.parametrize("q", ["", "   ", "x" * 65])
async def test_the_picker_search_refuses_bad_input(client, db, world, q):
    await console(client, db, "owner")
    r = await client.get("/admin/customers/search", params={"q": q})
    assert r.status_code == 400 and r.json()["error"]["code"] == "FORM_INVALID"
    assert "昵称、手机号或买家编号" in r.json()["error"]["message"]


async def test_the_customer_pages_refuse_whoever_may_not_see_customers(client, db, world):
    r = await client.get("/admin/customers/search", params={"q": "爱丽"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "AUTH_REQUIRED"
    r = await client.get("/admin/customers")
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/login")
    await console(client, db, "store_staff")
    r = await client.get("/admin/customers/search", params={"q": "爱丽"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "PERMISSION_DENIED"
    for path in ("/admin/customers", f"/admin/customers/{world['ids']['alice']}"):
        r = await client.get(path)
        assert r.status_code == 403 and "查看客户" in r.text and "爱丽丝" not in r.text
    assert 'href="/admin/customers"' not in (await client.get("/admin/")).text


async def test_finance_reads_customers_and_operators_see_them_in_the_sidebar(client, db, world):
    await console(client, db, "finance")
    assert (await client.get("/admin/customers")).status_code == 200
    await console(client, db, "operator")
    assert 'href="/admin/customers"' in (await client.get("/admin/")).text
