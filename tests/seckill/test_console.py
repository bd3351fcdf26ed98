"""Console pages: the session form (SKUs chosen with the picker, prices in 元, refusals beside their field)
creates a real session; the board shows the sale's figures under product and SKU names."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from fissionmall.catalog.models import Sku
from fissionmall.core import clock
from fissionmall.seckill.models import SeckillItem, SeckillSession
from fissionmall.web.console import shop_zone
from tests.console_helpers import console
from tests.helpers import admin, product, shopper
from tests.seckill.helpers import attempt, drain, loosen


def _window(minutes_from_now: int = -1) -> dict[str, str]:
    start = clock.now().astimezone(shop_zone()) + timedelta(minutes=minutes_from_now)
    return {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }


async def _count(db, model) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_operator_creates_a_session_from_picked_skus_and_watches_the_board(client, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    p = await product(client, boss, title="赣南脐橙", prices=(1990, 3500), stock=100)
    small, big = (k["id"] for k in p["skus"])
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/seckill/new")
    assert page.status_code == 200 and "新建秒杀场次" in page.text
    assert "data-sku-picker" in page.text and "/static/console/picker.js" in page.text
    assert 'name="sku_id_0"' not in page.text and "规格 ID" not in page.text  # nothing to type an id into
    form = {
        "csrf_token": csrf,
        "title": "晚8点场",
        **_window(),
        "sku_id": [str(small), str(big)],
        "price": ["9.9", "２９"],
        "stock": ["", "5"],
        "limit": ["2", ""],
        "new_only": ["", "1"],
    }
    r = await client.post("/admin/seckill/new", data=form)
    assert r.status_code == 303, r.text
    listing = await client.get("/admin/seckill")
    assert "晚8点场" in listing.text and "0 / 95" in listing.text
    sid = re.search(r'data-session-id="(\d+)"', listing.text).group(1)
    sess = (await client.get(f"/api/admin/v1/seckill/sessions/{sid}", headers=boss)).json()
    got = [(i["sku_id"], i["price_fen"], i["pool"], i["per_user_limit"], i["new_users_only"]) for i in sess["items"]]
    assert sorted(got) == [(small, 990, 90, 2, False), (big, 2900, 5, 1, True)]
    item = next(i["id"] for i in sess["items"] if i["sku_id"] == small)

    me = await shopper(client)
    assert (await attempt(client, me, item)).status_code == 202
    await drain(db)
    board = await client.get(f"/admin/seckill/{sid}")
    assert board.status_code == 200
    row = re.search(rf'<tr data-item-id="{item}">(.*?)</tr>', board.text, re.S).group(1)
    assert "赣南脐橙" in row and "规格0" in row and f"规格 {small}" not in row
    assert re.search(r'data-figure="sold">1<', row) and re.search(r'data-figure="remaining">89<', row)
    partial = await client.get(f"/admin/seckill/{sid}/board", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and 'id="board-table"' in partial.text and "赣南脐橙" in partial.text


async def test_a_refused_form_comes_back_with_its_skus_and_each_refusal_beside_its_field(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, title="秦岭猕猴桃", prices=(2990,), stock=10)
    sku = p["skus"][0]["id"]
    csrf = await console(client, db, "operator")
    form = {"csrf_token": csrf, "title": "", **_window(), "sku_id": [str(sku)], "price": ["abc"], "limit": ["0"]}
    r = await client.post("/admin/seckill/new", data=form)
    assert r.status_code == 422
    assert "请填写场次名称（64 字以内）" in r.text
    assert "请填写秒杀价（元），如 19.9" in r.text and "每人限购须为 1 到 999 的整数" in r.text
    # the chosen SKU is shown again by name, with the hidden id the form posts and the row as typed
    assert "秦岭猕猴桃 · 规格0" in r.text and f'name="sku_id" value="{sku}"' in r.text
    assert 'name="price" value="abc"' in r.text and "原价" in r.text
    r = await client.post("/admin/seckill/new", data={"csrf_token": csrf, "title": "空场", **_window()})
    assert r.status_code == 422 and "请选择至少一个秒杀商品规格" in r.text
    r = await client.post(
        "/admin/seckill/new", data={**form, "title": "超卖场", "price": ["1"], "limit": ["1"], "stock": ["11"]}
    )
    assert r.status_code == 422 and "商品库存不足以划出这个秒杀库存" in r.text
    assert await _count(db, SeckillSession) == 0


async def test_a_flash_price_at_or_above_the_skus_own_price_is_refused_beside_the_price(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, title="手机壳", prices=(1990,), stock=10)
    sku = p["skus"][0]["id"]
    csrf = await console(client, db, "operator")
    base = {"csrf_token": csrf, "title": "贵场", **_window(60), "sku_id": [str(sku)], "limit": ["1"]}
    for price in ("19.90", "25"):
        r = await client.post("/admin/seckill/new", data={**base, "price": [price]})
        assert r.status_code == 422
        cell = re.search(r'<td class="has-error"><div class="input-prefix">.*?</td>', r.text, re.S).group(0)
        assert "秒杀价须低于商品原价 ¥19.90" in cell
    assert await _count(db, SeckillSession) == 0
    async with db.read() as s:
        assert await s.scalar(select(Sku.stock).where(Sku.id == sku)) == 10  # no stock moved to a pool
    r = await client.post("/admin/seckill/new", data={**base, "price": ["19.89"]})
    assert r.status_code == 303


async def test_the_api_refuses_a_flash_price_not_below_the_sku_on_create_and_edit(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss, prices=(1990,), stock=10))["skus"][0]["id"]
    now = clock.now()
    body = {
        "title": "API 场",
        "starts_at": (now + timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        "items": [{"sku_id": sku, "price_fen": 1990, "stock": 3, "per_user_limit": 1}],
    }
    r = await client.post("/api/admin/v1/seckill/sessions", json=body, headers=boss)
    assert r.status_code == 400 and r.json()["error"]["code"] == "PRICE_NOT_BELOW_SKU"
    assert r.json()["error"]["detail"]["sku_price_fen"] == 1990
    assert await _count(db, SeckillItem) == 0
    body["items"][0]["price_fen"] = 990
    sess = (await client.post("/api/admin/v1/seckill/sessions", json=body, headers=boss)).json()
    item = sess["items"][0]["id"]
    r = await client.put(
        f"/api/admin/v1/seckill/sessions/{sess['id']}", json={"items": [{"id": item, "price_fen": 2000}]}, headers=boss
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "PRICE_NOT_BELOW_SKU"
    got = (await client.get(f"/api/admin/v1/seckill/sessions/{sess['id']}", headers=boss)).json()
    assert got["items"][0]["price_fen"] == 990

    # the console's editor says so beside the price, with the SKU's name, not its id
    csrf = await console(client, db, "operator")
    page = await client.get(f"/admin/seckill/{sess['id']}/edit")
    assert "测试商品 · 规格0" in page.text and f"规格 {sku}" not in page.text
    form = dict(re.findall(r'name="([a-z_0-9]+)" value="([^"]*)"', page.text))
    assert form["csrf_token"] == csrf
    r = await client.post(f"/admin/seckill/{sess['id']}/edit", data={**form, f"price_{item}": "20"})
    assert r.status_code == 422
    cell = re.search(r'<td class="has-error"><div class="input-prefix">.*?</td>', r.text, re.S).group(0)
    assert "秒杀价须低于商品原价 ¥19.90" in cell
    got = (await client.get(f"/api/admin/v1/seckill/sessions/{sess['id']}", headers=boss)).json()
    assert got["items"][0]["price_fen"] == 990


async def test_finance_cannot_open_the_editor(client, db):
    await console(client, db, "finance")
    r = await client.get("/admin/seckill/new")
    assert r.status_code == 403


def test_the_live_board_names_every_refusal_in_words():
    from fissionmall.seckill.admin import reason_text

    assert reason_text("SOLD_OUT") == "已抢光"  # the board's own short word
    assert reason_text("OUT_OF_STOCK") == "库存不足"  # a stored reason the board has no word for: the table's
    assert reason_text("SOMETHING_NEW") == "其他原因"  # never the bare code
