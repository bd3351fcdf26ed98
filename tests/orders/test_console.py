"""Console pages for orders and refunds: shipping, tabs, refusals, rejecting a refund."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from fissionmall.core.jobs import Event
from fissionmall.orders.models import Refund
from tests.console_helpers import (
    _order_row,
    _paid_order,
    console,
    htmx,
)
from tests.helpers import order


async def test_operator_ships_a_paid_order_from_the_detail_page(client, db):
    setup = await _paid_order(client, db)
    order_id, no = setup["order"]["id"], setup["order"]["no"]
    csrf = await console(client, db, "operator")

    listing = await client.get("/admin/orders", params={"status": "paid", "q": no[:16]})
    assert [m for m in re.findall(r'data-order-no="(\d+)"', listing.text)] == [no]
    detail = await client.get(f"/admin/orders/{order_id}")
    assert detail.status_code == 200
    for text in (
        "待发货",
        "确认发货",
        "商品金额",
        "¥19.90",
        "运费",
        "¥8.00",
        "¥27.90",
        "张三",
        "13800138000",
        "世纪大道 100 号",
    ):
        assert text in detail.text, text

    r = await client.post(
        f"/admin/orders/{order_id}/ship", data={"carrier": "顺丰速运", "tracking_no": "SF1234567"}, headers=htmx(csrf)
    )
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section class="card status-card" id="order-status">')
    assert "已发货" in r.text and "SF1234567" in r.text and "确认发货" not in r.text
    o = await _order_row(db, order_id)
    assert (o.status, o.carrier, o.tracking_no) == ("shipped", "顺丰速运", "SF1234567")
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Event).where(Event.type == "OrderShipped")) == 1


async def test_ship_refusals_are_shown_in_the_panel_and_change_nothing(client, db):
    setup = await _paid_order(client, db)
    order_id = setup["order"]["id"]
    csrf = await console(client, db, "operator")

    r = await client.post(
        f"/admin/orders/{order_id}/ship", data={"carrier": "顺丰速运", "tracking_no": "x"}, headers=htmx(csrf)
    )
    assert r.status_code == 409 and "快递单号应为 4 到 40 位字母、数字或短横线" in r.text
    assert 'value="顺丰速运"' in r.text  # what was typed stays
    assert (await _order_row(db, order_id)).status == "paid"

    ok = {"carrier": "顺丰速运", "tracking_no": "SF1234567"}
    assert (await client.post(f"/admin/orders/{order_id}/ship", data=ok, headers=htmx(csrf))).status_code == 200
    r = await client.post(f"/admin/orders/{order_id}/ship", data={**ok, "tracking_no": "YT0000001"}, headers=htmx(csrf))
    assert r.status_code == 409 and "订单当前状态不允许此操作" in r.text
    o = await _order_row(db, order_id)
    assert (o.status, o.tracking_no) == ("shipped", "SF1234567")


async def test_an_order_with_a_pending_refund_cannot_be_shipped(client, db):
    setup = await _paid_order(client, db, refund=True)
    csrf = await console(client, db, "operator")
    r = await client.post(
        f"/admin/orders/{setup['order']['id']}/ship",
        data={"carrier": "顺丰速运", "tracking_no": "SF1234567", "csrf_token": csrf},
    )
    assert r.status_code == 409 and "请先处理售后再发货" in r.text and "<aside" in r.text  # the full page, no htmx
    assert (await _order_row(db, setup["order"]["id"])).status == "paid"


async def test_order_tabs_count_by_status(client, db):
    setup = await _paid_order(client, db)
    me = setup["shopper"]
    await order(client, me, [{"sku_id": setup["product"]["skus"][0]["id"], "qty": 2}])  # left unpaid
    await console(client, db, "store_staff")
    page = await client.get("/admin/orders")
    tabs = dict(re.findall(r'class="tab[^"]*"[^>]*>\s*([^<]+?)<span class="tab-count">(\d+)</span>', page.text))
    assert tabs == {"全部": "2", "待付款": "1", "待发货": "1"}
    unpaid = await client.get("/admin/orders?status=pending_payment")
    assert len(re.findall(r'data-order-no="', unpaid.text)) == 1 and "¥47.80" in unpaid.text


async def test_rejecting_a_refund_needs_a_reason(client, db):
    setup = await _paid_order(client, db, refund=True)
    rid = setup["refund"]["id"]
    csrf = await console(client, db, "finance")
    r = await client.post(f"/admin/refunds/{rid}/reject", data={"reason": "  "}, headers=htmx(csrf))
    assert r.status_code == 409 and "请填写拒绝原因" in r.text
    async with db.read() as s:
        assert (await s.get(Refund, rid)).status == "pending"
    r = await client.post(f"/admin/refunds/{rid}/reject", data={"reason": "商品已使用"}, headers=htmx(csrf))
    assert r.status_code == 200 and "已拒绝" in r.text and "拒绝原因：商品已使用" in r.text
    async with db.read() as s:
        row = await s.get(Refund, rid)
        assert row is not None and (row.status, row.reject_reason) == ("rejected", "商品已使用")
    r = await client.post(f"/admin/refunds/{rid}/approve", headers=htmx(csrf))
    assert r.status_code == 409 and "该售后单的状态已变化" in r.text
    async with db.read() as s:
        assert (await s.get(Refund, rid)).status == "rejected"
