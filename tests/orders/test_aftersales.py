"""After-sales over the HTTP API: 退货退款 from request to refund, the shipping rule to the fen, the timers
(each fired twice, acting once), the shopper's and merchant's history, bad input and a double confirm."""

from __future__ import annotations

import asyncio
import io

from PIL import Image
from sqlalchemy import func, select

from fissionmall.core import clock, jobs
from fissionmall.orders.models import OrderLine, Refund, RefundEntry
from tests.helpers import admin, order, pay, product, run_jobs, shopper

DAY = 24 * 3600


def _png(exif: bool = False) -> bytes:
    img = Image.new("RGB", (40, 30), (200, 30, 30))
    buf = io.BytesIO()
    if exif:
        ex = Image.Exif()
        ex[0x010F] = "SecretCam"  # Make
        img.save(buf, format="JPEG", exif=ex.tobytes())
    else:
        img.save(buf, format="PNG")
    return buf.getvalue()


async def _shipped_order(client, db, *, code: str = "alice", qty_a: int = 3) -> tuple[dict, dict, dict]:
    """A paid, shipped order of two lines (1001 × qty_a and 4990 × 1) with the 800 shipping fee."""
    boss = await admin(client, db, username=f"boss-{code}")
    p = await product(client, boss, prices=(1001, 4990), stock=20)
    sku_a, sku_b = (k["id"] for k in p["skus"])
    me = await shopper(client, code)
    r = await order(client, me, [{"sku_id": sku_a, "qty": qty_a}, {"sku_id": sku_b, "qty": 1}])
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    await pay(client, me, oid)
    r = await client.post(
        f"/api/admin/v1/orders/{oid}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234567"}, headers=boss
    )
    assert r.status_code == 200, r.text
    o = (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()
    assert o["shipping_fen"] == 800 and o["paid_fen"] == 1001 * qty_a + 4990 + 800
    return o, me, boss


async def _upload(client, me, data: bytes, name: str = "p.png", ctype: str = "image/png"):
    return await client.post("/api/v1/me/uploads", files={"file": (name, data, ctype)}, headers=me)


async def _send_back_and_refund(client, db, rid: int, me, boss) -> None:
    """Approve a return, send it back, confirm receipt and let the gateway refund it."""
    for url, body, who in (
        (f"/api/admin/v1/refunds/{rid}/approve", {"return_address": "退货仓"}, boss),
        (f"/api/v1/refunds/{rid}/return-shipment", {"carrier": "中通", "tracking_no": "ZT1234"}, me),
        (f"/api/admin/v1/refunds/{rid}/receive", None, boss),
    ):
        r = await client.post(url, json=body, headers=who)
        assert r.status_code == 200, r.text
    clock.advance(5)
    await run_jobs(db)


async def test_a_return_goes_request_approve_ship_receive_refund_with_history_on_both_sides(client, db, settings):
    o, me, boss = await _shipped_order(client, db)
    r = await _upload(client, me, _png(exif=True), "p.jpg", "image/jpeg")
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    assert url.startswith("/media/aftersales/")
    stored = settings.media_dir / url.removeprefix("/media/")
    with Image.open(stored) as img:
        assert not img.getexif()  # the camera's metadata is gone
    body = {"kind": "return", "reason_code": "quality", "reason": "屏幕有划痕", "images": [url]}
    q = await client.post(f"/api/v1/orders/{o['id']}/refunds/quote", json=body, headers=me)
    assert q.status_code == 200, q.text
    # Everything left, for a quality reason: the goods and the whole shipping go back.
    assert q.json()["amount_fen"] == o["paid_fen"] and q.json()["shipping_fen"] == 800
    r = await client.post(f"/api/v1/orders/{o['id']}/refunds", json=body, headers=me)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert r.json()["status"] == "pending" and r.json()["amount_fen"] == o["paid_fen"]

    r = await client.post(
        f"/api/admin/v1/refunds/{rid}/approve", json={"return_address": "上海市浦东新区 售后仓 张经理"}, headers=boss
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["return_address"].startswith("上海市")
    r = await client.post(
        f"/api/v1/refunds/{rid}/return-shipment", json={"carrier": "中通", "tracking_no": "ZT998877"}, headers=me
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "return_shipped" and r.json()["return_tracking_no"] == "ZT998877"
    r = await client.post(f"/api/admin/v1/refunds/{rid}/receive", headers=boss)
    assert r.status_code == 200 and r.json()["status"] == "processing"
    clock.advance(5)
    await run_jobs(db)

    o2 = (await client.get(f"/api/v1/orders/{o['id']}", headers=me)).json()
    assert o2["status"] == "closed" and o2["refunded_fen"] == o["paid_fen"]
    mine = (await client.get(f"/api/v1/refunds/{rid}", headers=me)).json()
    theirs = (await client.get(f"/api/admin/v1/refunds/{rid}", headers=boss)).json()
    actions = ["requested", "approved", "return_shipped", "received", "succeeded"]
    assert [e["action"] for e in mine["entries"]] == actions == [e["action"] for e in theirs["entries"]]
    assert [e["actor"] for e in mine["entries"]] == ["shopper", "merchant", "shopper", "merchant", "system"]
    assert mine["entries"][0]["images"] == [url] and mine["images"] == [url]
    assert mine["status"] == "succeeded" and mine["service"] == "return"
    listed = (await client.get("/api/v1/refunds", headers=me)).json()["items"]
    assert [x["id"] for x in listed] == [rid]


async def test_shipping_goes_back_only_with_the_last_refund_and_never_for_a_return_the_shopper_regrets(client, db):
    o, me, boss = await _shipped_order(client, db)
    line_a, line_b = o["lines"]
    goods_a = line_a["payable_fen"] - line_a["shipping_fen"]
    # One of three units of line A: goods only, the unit's exact share.
    r = await client.post(
        f"/api/v1/orders/{o['id']}/refunds",
        json={"lines": [{"line_id": line_a["id"], "qty": 1}], "reason": "其他"},
        headers=me,
    )
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["amount_fen"] == goods_a // 3 + (1 if goods_a % 3 else 0) and first["shipping_fen"] == 0
    # A return of everything else for the shopper's own reason: no shipping back.
    regret = {"kind": "return", "reason_code": "unwanted", "reason": "不想要了"}
    q = (await client.post(f"/api/v1/orders/{o['id']}/refunds/quote", json=regret, headers=me)).json()
    assert q["shipping_fen"] == 0 and q["amount_fen"] == o["paid_fen"] - 800 - first["amount_fen"]
    # The same everything else as a quality return: the last refund carries all 800 of shipping.
    quality = {"kind": "return", "reason_code": "quality", "reason": "质量问题"}
    q2 = (await client.post(f"/api/v1/orders/{o['id']}/refunds/quote", json=quality, headers=me)).json()
    assert q2["shipping_fen"] == 800 and q2["amount_fen"] == o["paid_fen"] - first["amount_fen"]
    r = await client.post(f"/api/v1/orders/{o['id']}/refunds", json=quality, headers=me)
    assert r.status_code == 201 and r.json()["amount_fen"] == q2["amount_fen"]
    # Approve both (the first is a 仅退款: straight to the gateway), then the return's way back.
    await client.post(f"/api/admin/v1/refunds/{first['id']}/approve", headers=boss)
    rid = r.json()["id"]
    await _send_back_and_refund(client, db, rid, me, boss)
    o2 = (await client.get(f"/api/v1/orders/{o['id']}", headers=me)).json()
    assert o2["refunded_fen"] == o["paid_fen"] and o2["status"] == "closed"
    assert {ln["id"]: ln["refunded_fen"] for ln in o2["lines"]} == {
        line_a["id"]: line_a["payable_fen"],
        line_b["id"]: line_b["payable_fen"],
    }


async def test_a_regretted_return_of_everything_closes_the_order_without_its_shipping(client, db):
    o, me, boss = await _shipped_order(client, db, code="bob", qty_a=1)
    body = {"kind": "return", "reason_code": "unwanted", "reason": "拍错了"}
    r = await client.post(f"/api/v1/orders/{o['id']}/refunds", json=body, headers=me)
    assert r.status_code == 201 and r.json()["amount_fen"] == o["paid_fen"] - 800
    rid = r.json()["id"]
    await _send_back_and_refund(client, db, rid, me, boss)
    o2 = (await client.get(f"/api/v1/orders/{o['id']}", headers=me)).json()
    assert o2["status"] == "closed" and o2["refunded_fen"] == o["paid_fen"] - 800


async def _fire_again(db, handler: str, refund_id: int) -> None:
    """Deliver a timer a second time (a duplicate of the durable job, as after a worker crash)."""
    async with db.tx() as s:
        await jobs.schedule(
            s, handler, {"refund_id": refund_id}, due_at=clock.now(), key=f"again:{handler}:{refund_id}"
        )
    await run_jobs(db)


async def _entries(db, refund_id: int) -> list[str]:
    async with db.read() as s:
        return list((await s.scalars(select(RefundEntry.action).where(RefundEntry.refund_id == refund_id))).all())


async def test_a_silent_merchant_approves_a_refund_only_by_timer_once(client, db):
    o, me, _ = await _shipped_order(client, db)
    r = await client.post(f"/api/v1/orders/{o['id']}/refunds", json={"reason": "少件/漏发"}, headers=me)
    rid = r.json()["id"]
    assert r.json()["amount_fen"] == o["paid_fen"]
    clock.advance(2 * DAY + 60)
    await run_jobs(db)
    await run_jobs(db)
    await _fire_again(db, "orders.refund_answer_timeout", rid)
    o2 = (await client.get(f"/api/v1/orders/{o['id']}", headers=me)).json()
    assert o2["refunded_fen"] == o["paid_fen"] and o2["refunds"][0]["status"] == "succeeded"
    assert await _entries(db, rid) == ["requested", "approved", "succeeded"]


async def test_return_timers_approve_then_close_and_auto_receive_each_once(client, db):
    o, me, _ = await _shipped_order(client, db)
    line_a = o["lines"][0]
    body = {
        "kind": "return",
        "reason_code": "quality",
        "reason": "坏了",
        "lines": [{"line_id": line_a["id"], "qty": 1}],
    }
    rid = (await client.post(f"/api/v1/orders/{o['id']}/refunds", json=body, headers=me)).json()["id"]
    clock.advance(2 * DAY + 60)
    await run_jobs(db)
    await _fire_again(db, "orders.refund_answer_timeout", rid)
    mine = (await client.get(f"/api/v1/refunds/{rid}", headers=me)).json()
    assert mine["status"] == "approved" and await _entries(db, rid) == ["requested", "approved"]
    # The shopper never sends it back: closed after 7 days, the unit refundable again.
    clock.advance(7 * DAY + 60)
    await run_jobs(db)
    await _fire_again(db, "orders.return_ship_timeout", rid)
    me = await shopper(client, "alice")  # nine days on: a fresh login
    mine = (await client.get(f"/api/v1/refunds/{rid}", headers=me)).json()
    assert mine["status"] == "closed" and await _entries(db, rid) == ["requested", "approved", "closed"]
    async with db.read() as s:
        assert await s.scalar(select(OrderLine.refund_pending_qty).where(OrderLine.id == line_a["id"])) == 0

    # A second return that is shipped back and never confirmed: received and refunded by the timer, once.
    r = await client.post(f"/api/v1/orders/{o['id']}/refunds", json=body, headers=me)
    rid2 = r.json()["id"]
    amount = r.json()["amount_fen"]
    clock.advance(2 * DAY + 60)
    await run_jobs(db)
    await client.post(
        f"/api/v1/refunds/{rid2}/return-shipment", json={"carrier": "圆通", "tracking_no": "YT5555"}, headers=me
    )
    clock.advance(7 * DAY + 60)
    await run_jobs(db)
    await run_jobs(db)
    await _fire_again(db, "orders.return_receive_timeout", rid2)
    me = await shopper(client, "alice")
    o2 = (await client.get(f"/api/v1/orders/{o['id']}", headers=me)).json()
    assert o2["refunded_fen"] == amount
    assert await _entries(db, rid2) == ["requested", "approved", "return_shipped", "received", "succeeded"]


async def test_bad_after_sales_input_is_refused_with_codes(client, db):
    o, me, boss = await _shipped_order(client, db)
    other = await shopper(client, "mallory")
    line_a = o["lines"][0]
    url = (await _upload(client, me, _png())).json()["url"]

    def post(body, who=me):
        return client.post(f"/api/v1/orders/{o['id']}/refunds", json=body, headers=who)

    r = await post({"reason": "其他", "images": [url] * 7})
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = await post({"reason": "其他", "images": ["https://evil.example/x.png"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = await post({"reason": "其他", "kind": "exchange"})
    assert r.status_code == 422
    r = await post({"reason": "其他", "lines": [{"line_id": line_a["id"], "qty": 4}]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "REFUND_QTY_EXCEEDED"
    r = await post({"reason": "其他"}, who=other)
    assert r.status_code == 404
    r = await _upload(client, me, b"GIF89a not really", "x.gif", "image/gif")
    assert r.status_code == 422 and r.json()["error"]["code"] == "MEDIA_NOT_IMAGE"

    r = await post({"reason": "其他", "lines": [{"line_id": line_a["id"], "qty": 1}]})
    rid = r.json()["id"]
    r = await client.get(f"/api/v1/refunds/{rid}", headers=other)
    assert r.status_code == 404 and r.json()["error"]["code"] == "REFUND_NOT_FOUND"
    ship = {"carrier": "中通", "tracking_no": "ZT1234"}
    r = await client.post(f"/api/v1/refunds/{rid}/return-shipment", json=ship, headers=other)
    assert r.status_code == 404
    r = await client.post(f"/api/v1/refunds/{rid}/return-shipment", json=ship, headers=me)
    assert r.status_code == 409 and r.json()["error"]["code"] == "NOT_A_RETURN"
    r = await client.post(f"/api/admin/v1/refunds/{rid}/receive", headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "REFUND_STATE_INVALID"
    r = await client.post(f"/api/v1/refunds/{rid}/cancel", headers=me)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = await client.post(f"/api/v1/refunds/{rid}/cancel", headers=me)
    assert r.status_code == 409


async def test_a_return_needs_a_shipped_order(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss))["skus"][0]["id"]
    me = await shopper(client)
    oid = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    await pay(client, me, oid)
    r = await client.post(f"/api/v1/orders/{oid}/refunds", json={"reason": "其他", "kind": "return"}, headers=me)
    assert r.status_code == 409 and r.json()["error"]["code"] == "RETURN_NOT_SHIPPED"
    r = await client.post(f"/api/v1/orders/{oid}/refunds/quote", json={"reason": "其他"}, headers=me)
    assert r.status_code == 200 and r.json()["shipping_fen"] == 800


async def test_two_confirmations_of_receipt_at_once_refund_once(client, db):
    o, me, boss = await _shipped_order(client, db)
    body = {"kind": "return", "reason_code": "quality", "reason": "坏了"}
    rid = (await client.post(f"/api/v1/orders/{o['id']}/refunds", json=body, headers=me)).json()["id"]
    await client.post(f"/api/admin/v1/refunds/{rid}/approve", json={"return_address": "退货仓"}, headers=boss)
    await client.post(
        f"/api/v1/refunds/{rid}/return-shipment", json={"carrier": "中通", "tracking_no": "ZT1234"}, headers=me
    )
    results = await asyncio.gather(
        *(client.post(f"/api/admin/v1/refunds/{rid}/receive", headers=boss) for _ in range(4))
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]
    clock.advance(5)
    await run_jobs(db)
    o2 = (await client.get(f"/api/v1/orders/{o['id']}", headers=me)).json()
    assert o2["refunded_fen"] == o["paid_fen"]
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Refund).where(Refund.status == "succeeded")) == 1
        assert (await _entries(db, rid)).count("received") == 1


async def test_the_last_refund_carries_the_shipping_of_a_line_refunded_before(client, db):
    from fissionmall.core.jobs import Event

    o, me, boss = await _shipped_order(client, db, qty_a=2)
    line_a, line_b = o["lines"]
    ids = []
    for line, qty in ((line_b, 1), (line_a, 2)):
        body = {"lines": [{"line_id": line["id"], "qty": qty}], "reason": "质量问题"}
        r = await client.post(f"/api/v1/orders/{o['id']}/refunds", json=body, headers=me)
        assert r.status_code == 201, r.text
        ids.append(r.json())
    first, last = ids
    assert first["amount_fen"] == line_b["payable_fen"] - line_b["shipping_fen"] and first["shipping_fen"] == 0
    # The last one: line A's goods and both lines' shipping, line B's as a part of no units.
    assert last["shipping_fen"] == 800 and last["amount_fen"] == line_a["payable_fen"] + line_b["shipping_fen"]
    assert [p["qty"] for p in last["lines"]] == [2, 0]
    for r in ids:
        await client.post(f"/api/admin/v1/refunds/{r['id']}/approve", headers=boss)
    clock.advance(5)
    await run_jobs(db)
    o2 = (await client.get(f"/api/v1/orders/{o['id']}", headers=me)).json()
    assert o2["status"] == "closed" and o2["refunded_fen"] == o["paid_fen"]
    assert [ln["refunded_fen"] for ln in o2["lines"]] == [line_a["payable_fen"], line_b["payable_fen"]]
    async with db.read() as s:
        n = await s.scalar(select(func.count()).select_from(Event).where(Event.type == "OrderLineRefunded"))
    assert n == 2  # units went back twice; the shipping-only part is no line refund
