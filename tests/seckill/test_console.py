"""Console pages: the session editor creates a real session; the board shows the sale's figures."""

from __future__ import annotations

import re
from datetime import timedelta

from fissionmall.core import clock
from fissionmall.web.console import shop_zone
from tests.console_helpers import console
from tests.helpers import admin, product, shopper
from tests.seckill.helpers import attempt, drain, loosen


async def test_operator_creates_a_session_and_watches_the_board(client, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    sku = (await product(client, boss, stock=100))["skus"][0]["id"]
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/seckill/new")
    assert page.status_code == 200 and "新建秒杀场次" in page.text
    start = clock.now().astimezone(shop_zone()) - timedelta(minutes=1)
    form = {
        "csrf_token": csrf,
        "title": "晚8点场",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "sku_id_0": str(sku),
        "price_0": "9.90",
        "stock_0": "",
        "limit_0": "1",
    }
    bad = await client.post("/admin/seckill/new", data={**form, "price_0": "abc"})
    assert bad.status_code == 422 and "秒杀价" in bad.text
    r = await client.post("/admin/seckill/new", data=form)
    assert r.status_code == 303, r.text
    listing = await client.get("/admin/seckill")
    assert "晚8点场" in listing.text and "0 / 90" in listing.text
    sid = re.search(r'data-session-id="(\d+)"', listing.text).group(1)
    sess = (await client.get(f"/api/admin/v1/seckill/sessions/{sid}", headers=boss)).json()
    item = sess["items"][0]["id"]
    assert sess["items"][0]["price_fen"] == 990

    me = await shopper(client)
    assert (await attempt(client, me, item)).status_code == 202
    assert (await attempt(client, me, item)).json()["error"]["code"] == "LIMIT_REACHED"
    await drain(db)
    board = await client.get(f"/admin/seckill/{sid}")
    assert board.status_code == 200
    assert re.search(r'data-figure="sold">1<', board.text)
    assert re.search(r'data-figure="remaining">89<', board.text)
    assert "超出限购 1" in board.text
    partial = await client.get(f"/admin/seckill/{sid}/board", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and 'id="board-table"' in partial.text


async def test_finance_cannot_open_the_editor(client, db):
    await console(client, db, "finance")
    r = await client.get("/admin/seckill/new")
    assert r.status_code == 403
