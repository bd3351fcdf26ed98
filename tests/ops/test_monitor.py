"""实时监控: the page's figures agree with the database after scripted orders and payments; who may open it."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import httpx
from sqlalchemy import select

from fissionmall.core import clock
from fissionmall.core.jobs import Job
from fissionmall.core.schemas import to_local
from fissionmall.orders.models import Order
from fissionmall.payments.models import Payment
from tests.console_helpers import console
from tests.helpers import admin, order, pay, product, shopper
from tests.seckill.helpers import attempt, drain, loosen, session


def _figure(html: str, name: str) -> str:
    m = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert m, f"no figure {name}"
    return m.group(1).strip()


def _bars(html: str) -> dict[str, int]:
    return {m: int(n) for m, n in re.findall(r'data-minute="([0-9:]+)" data-placed="(\d+)"', html)}


async def _truth(db) -> dict:
    """The same figures computed here from the rows, minute by minute in Python."""
    now = clock.now()
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=59)
    async with db.read() as s:
        orders = (await s.execute(select(Order.id, Order.created_at, Order.paid_at))).all()
        paying = set((await s.scalars(select(Payment.order_id))).all())
        due = (
            await s.scalars(select(Job.id).where(Job.status == "pending", Job.due_at <= now, Job.event_id.is_not(None)))
        ).all()
    recent = [o for o in orders if o.created_at >= start]
    per_minute: dict[str, int] = {}
    for i in range(60):
        per_minute[to_local(start + timedelta(minutes=i)).strftime("%H:%M")] = 0
    for o in recent:
        per_minute[to_local(o.created_at.astimezone(UTC)).strftime("%H:%M")] += 1
    paid = sum(1 for o in recent if o.paid_at is not None)
    unpaid = sum(1 for o in recent if o.paid_at is None and o.id in paying)
    return {
        "per_minute": per_minute,
        "placed": len(recent),
        "paid": paid,
        "unpaid": unpaid,
        "rate": f"{paid * 10000 // (paid + unpaid) / 100:.2f}%",
        "outbox": len(due),
        "all_orders": len(orders),
    }


async def test_the_monitor_agrees_with_the_database_after_scripted_orders_and_payments(app, client, db):
    boss = await admin(client, db)
    await loosen(client, boss)
    p = await product(client, boss, stock=500)
    sku = p["skus"][0]["id"]
    buyers = [await shopper(client, f"m{i}") for i in range(4)]

    async def place(h) -> int:
        r = await order(client, h, [{"sku_id": sku, "qty": 1}])
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    await place(buyers[0])  # an hour and more ago: outside the window
    clock.advance(65 * 60)
    clock.advance(60 - clock.now().second - clock.now().microsecond / 1e6 + 0.5)  # minute A starts now
    for h in buyers[:3]:  # minute A: three orders, two paid, one at the cashier without paying
        await place(h)
    o1, o2, o3 = await place(buyers[0]), await place(buyers[1]), await place(buyers[2])
    await pay(client, buyers[0], o1)
    await pay(client, buyers[1], o2)
    r = await client.post(f"/api/v1/orders/{o3}/pay", json={"method": "gateway"}, headers=buyers[2])
    assert r.status_code == 200
    clock.advance(150)  # minute B, two and a half minutes later: two more, one paid
    o4, _ = await place(buyers[3]), await place(buyers[3])
    await pay(client, buyers[3], o4)

    # a flash sale running now: one accepted attempt, one refused over the limit
    sale = await session(client, boss, sku, pool=10, limit=1)
    item = sale["items"][0]["id"]
    assert (await attempt(client, buyers[0], item)).status_code == 202
    assert (await attempt(client, buyers[1], item, qty=3)).status_code == 409
    await drain(db)  # with Redis the accepted attempt becomes an order here (without, it already is one)

    # one server error among the requests
    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/test-monitor-boom", boom, methods=["GET"])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as c:
        assert (await c.get("/test-monitor-boom")).status_code == 500

    await console(client, db, "operator")
    page = await client.get("/admin/monitor")
    assert page.status_code == 200, page.text
    truth = await _truth(db)
    assert truth["all_orders"] == 10 and truth["placed"] == 9  # the old one is outside the window
    bars = _bars(page.text)
    assert len(bars) == 60 and bars == truth["per_minute"]
    assert sorted(v for v in bars.values() if v) == [3, 6]  # minute A: six, minute B: two and the flash sale's
    assert _figure(page.text, "orders-placed") == str(truth["placed"])
    assert _figure(page.text, "orders-paid") == str(truth["paid"]) == "3"
    assert _figure(page.text, "payments-unpaid") == str(truth["unpaid"]) == "1"
    assert _figure(page.text, "payment-success") == truth["rate"] == "75.00%"
    assert _figure(page.text, "orders-peak") == "6"
    assert _figure(page.text, "outbox-backlog") == str(truth["outbox"]) and truth["outbox"] > 0
    assert _figure(page.text, "seckill-attempts") == "2"
    assert _figure(page.text, "seckill-accepted") == "1"
    refusals = re.search(r'id="seckill-refusals">(.*?)</table>', page.text, re.S).group(1)
    assert "超出限购" in refusals and ">1<" in refusals and "LIMIT_REACHED" not in refusals
    assert _figure(page.text, "errors") == "1"
    requests = int(_figure(page.text, "requests"))
    assert requests > 20
    assert _figure(page.text, "error-rate") == f"{10000 // requests / 100:.2f}%"

    # the refreshed part: htmx polls it, and it moves with the shop
    await place(buyers[2])
    part = await client.get("/admin/monitor/figures", headers={"HX-Request": "true"})
    assert part.status_code == 200 and "<html" not in part.text
    assert _figure(part.text, "orders-placed") == str(truth["placed"] + 1)
    assert _figure(part.text, "orders-last-minute") == "4"


async def test_the_page_refreshes_itself_and_reads_in_chinese(client, db):
    await console(client, db, "owner")
    page = await client.get("/admin/monitor")
    assert page.status_code == 200
    assert 'hx-get="/admin/monitor/figures"' in page.text and 'hx-trigger="every 5s"' in page.text
    for words in ("实时监控", "每分钟下单", "支付成功率", "秒杀", "拒绝原因", "任务队列积压", "错误率"):
        assert words in page.text
    assert _figure(page.text, "payment-success") == "—"  # no payment yet: no rate, not 0%
    assert 'href="/admin/monitor"' in page.text  # in the sidebar


async def test_only_the_owner_and_operators_open_the_monitor(client, db):
    for role, status in (("owner", 200), ("operator", 200), ("finance", 403), ("store_staff", 403)):
        client.cookies.clear()
        await console(client, db, role)
        for path in ("/admin/monitor", "/admin/monitor/figures"):
            r = await client.get(path)
            assert r.status_code == status, (role, path, r.status_code)
        home = await client.get("/admin/")
        assert ('href="/admin/monitor"' in home.text) == (status == 200), role
    client.cookies.clear()
    r = await client.get("/admin/monitor", follow_redirects=False)
    assert r.status_code in (302, 303) and "/admin/login" in r.headers["location"]
