"""The console's after-sales pages: a return's kind, photos, history and the actions of its state."""

from __future__ import annotations

from tests.console_helpers import console, htmx
from tests.helpers import run_jobs
from tests.orders.test_aftersales import _png, _shipped_order, _upload


async def test_merchant_approves_a_return_and_confirms_its_receipt_in_the_console(client, db):
    o, me, _ = await _shipped_order(client, db)
    url = (await _upload(client, me, _png())).json()["url"]
    body = {"kind": "return", "reason_code": "not_as_described", "reason": "颜色不对", "images": [url]}
    rid = (await client.post(f"/api/v1/orders/{o['id']}/refunds", json=body, headers=me)).json()["id"]
    csrf = await console(client, db, "owner")

    listing = await client.get("/admin/refunds", params={"status": "pending"})
    for text in ("退货退款", "买家凭证 1 张", "同意退货", "与描述不符：颜色不对", "含运费 ¥8.00"):
        assert text in listing.text, text
    r = await client.post(f"/admin/refunds/{rid}/approve", data={"return_address": ""}, headers=htmx(csrf))
    assert r.status_code == 409 and "请填写退货地址" in r.text
    r = await client.post(
        f"/admin/refunds/{rid}/approve", data={"return_address": "杭州市西湖区 退货仓 李四"}, headers=htmx(csrf)
    )
    assert r.status_code == 200 and "待买家退货" in r.text

    r = await client.post(
        f"/api/v1/refunds/{rid}/return-shipment", json={"carrier": "韵达", "tracking_no": "YD20261203"}, headers=me
    )
    assert r.status_code == 200, r.text
    page = await client.get(f"/admin/refunds/{rid}")
    for text in ("协商记录", "买家", "商家", "确认收货并退款", "YD20261203", "杭州市西湖区", f'src="{url}"'):
        assert text in page.text, text
    r = await client.post(
        f"/admin/refunds/{rid}/receive", data={"csrf_token": csrf, "back": "detail"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == f"/admin/refunds/{rid}"
    await run_jobs(db)
    page = await client.get(f"/admin/refunds/{rid}")
    assert "已退款" in page.text and "退款成功" in page.text
