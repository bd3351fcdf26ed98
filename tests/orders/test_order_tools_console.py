"""The order tools in the console: search and filters, export buttons, batch shipping, remark, 改价, 修改地址."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from fissionmall.orders.models import Order
from tests.console_helpers import _order_row, _paid_order, console
from tests.helpers import order


def _listed(html: str) -> list[str]:
    return re.findall(r'data-order-no="(\d+)"', html)


async def test_the_list_searches_filters_and_exports_what_it_shows(client, db):
    setup = await _paid_order(client, db)
    other = await order(client, setup["shopper"], [{"sku_id": setup["product"]["skus"][0]["id"], "qty": 1}])
    no = setup["order"]["no"]
    await console(client, db, "operator")

    page = await client.get("/admin/orders", params={"q": "13800138000", "status": "paid"})
    assert page.status_code == 200 and _listed(page.text) == [no]
    for text in ("订单号 / 手机号 / 收货人 / 商品", "全部来源", "导出 Excel", "导出 CSV", "批量发货", "novalidate"):
        assert text in page.text, text
    link = re.search(r'id="export-csv" href="([^"]+)"', page.text)
    assert link is not None
    href = link.group(1).replace("&amp;", "&")
    assert "q=13800138000" in href and "status=paid" in href
    r = await client.get(href)
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [no]

    everything = await client.get("/admin/orders", params={"source": "normal"})
    assert _listed(everything.text) == [other.json()["no"], no]
    assert _listed((await client.get("/admin/orders", params={"source": "seckill"})).text) == []
    xlsx = await client.get("/admin/orders/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


async def test_batch_shipping_page_reports_each_refused_row(client, db):
    setup = await _paid_order(client, db)
    no = setup["order"]["no"]
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/orders/batch-ship")
    assert page.status_code == 200 and "订单号" in page.text and 'enctype="multipart/form-data"' in page.text
    data = f"订单号,物流公司,运单号\n{no},顺丰速运,SF7654321\n123,顺丰速运,SF7654322\n".encode()
    r = await client.post(
        "/admin/orders/batch-ship", data={"csrf_token": csrf}, files={"file": ("发货.csv", data, "text/csv")}
    )
    assert r.status_code == 200, r.text
    assert re.search(r'id="batch-shipped">1<', r.text) and 'data-row="3"' in r.text and "没有这个订单号的订单" in r.text
    assert (await _order_row(db, setup["order"]["id"])).tracking_no == "SF7654321"

    r = await client.post(
        "/admin/orders/batch-ship", data={"csrf_token": csrf}, files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}
    )
    assert r.status_code == 400 and "文件格式不正确" in r.text


async def test_the_order_page_edits_remark_price_and_address_with_errors_beside_the_field(client, db):
    setup = await _paid_order(client, db)
    unpaid = (await order(client, setup["shopper"], [{"sku_id": setup["product"]["skus"][0]["id"], "qty": 1}])).json()
    csrf = await console(client, db, "operator")
    oid = unpaid["id"]

    page = await client.get(f"/admin/orders/{oid}")
    assert "商家备注" in page.text and "改价" in page.text and "修改地址" in page.text
    r = await client.post(f"/admin/orders/{oid}/remark", data={"csrf_token": csrf, "merchant_remark": "加急"})
    assert r.status_code == 303
    assert "加急" in (await client.get(r.headers["location"])).text

    r = await client.post(
        f"/admin/orders/{oid}/price", data={"csrf_token": csrf, "mode": "payable", "amount": "abc", "reason": ""}
    )
    assert r.status_code == 400
    assert "金额格式不正确" in r.text and "请填写原因" in r.text and 'value="abc"' in r.text
    r = await client.post(
        f"/admin/orders/{oid}/price", data={"csrf_token": csrf, "mode": "discount", "amount": "5", "reason": "老客户"}
    )
    assert r.status_code == 303
    assert (await _order_row(db, oid)).payable_fen == unpaid["payable_fen"] - 500
    detail = (await client.get(f"/admin/orders/{oid}")).text
    assert "老客户" in detail and "修改记录" in detail

    bad = {"csrf_token": csrf, "name": "王五", "phone": "电话", "region": "广东省 广州市", "detail": "天河路 1 号"}
    r = await client.post(f"/admin/orders/{oid}/address", data=bad)
    assert r.status_code == 400 and 'value="王五"' in r.text
    r = await client.post(f"/admin/orders/{oid}/address", data={**bad, "phone": "13712345678"})
    assert r.status_code == 303
    async with db.read() as s:
        o = await s.scalar(select(Order).where(Order.id == oid))
        assert (o.consignee_name, o.consignee_phone, o.merchant_remark) == ("王五", "13712345678", "加急")

    # the paid order takes no price change
    r = await client.post(
        f"/admin/orders/{setup['order']['id']}/price",
        data={"csrf_token": csrf, "mode": "payable", "amount": "9.90", "reason": "x"},
    )
    assert r.status_code == 409 and "只有待付款的订单可以改价" in r.text


async def test_a_finance_login_sees_no_order_tools(client, db):
    setup = await _paid_order(client, db)
    csrf = await console(client, db, "finance")
    page = await client.get(f"/admin/orders/{setup['order']['id']}")
    assert page.status_code == 200 and "保存备注" not in page.text and "保存地址" not in page.text
    url = f"/admin/orders/{setup['order']['id']}/remark"
    r = await client.post(url, data={"csrf_token": csrf, "merchant_remark": "x"})
    assert r.status_code == 403
    assert (await client.get("/admin/orders/batch-ship")).status_code == 403
    assert (await _order_row(db, setup["order"]["id"])).merchant_remark is None
