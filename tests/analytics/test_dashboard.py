"""The dashboard's figures agree with the orders table to the fen: goods GMV on the payment date less
refunds on the refund date; top-ups and paid-membership fees apart; a redelivered event adds nothing;
the per-tool table, the CSV downloads, bad ranges and the authorization matrix."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from fissionmall.analytics import rollups
from fissionmall.analytics.kinds import NON_GOODS_SOURCES
from fissionmall.analytics.models import AnalyticsEvent
from fissionmall.analytics.rollup_models import CustomerFirst, DailyOrders
from fissionmall.core import clock
from fissionmall.orders.models import Order, Refund
from tests.authz import check_admin_matrix
from tests.console_helpers import console
from tests.helpers import admin, order, pay, product, run_jobs, shopper
from tests.vip.helpers import buy, shop
from tests.wallet.helpers import package, top_up

A = "/api/admin/v1"
ADMIN_ROUTES = [
    ("GET", "/api/admin/v1/dashboard", None, "dashboard", "store_staff"),
    ("GET", "/api/admin/v1/dashboard/tools", None, "dashboard", "store_staff"),
    ("GET", "/api/admin/v1/dashboard/funnels", None, "dashboard", "store_staff"),
    ("GET", "/api/admin/v1/dashboard/distributors", None, "dashboard", "store_staff"),
]


def today() -> date:
    return rollups.shop_day(clock.now())


async def _truth(db, start: date, end: date) -> dict[str, int]:
    """The orders table's own figures for the range: goods paid on their payment date, refunds on theirs."""
    async with db.read() as s:
        orders = (await s.execute(select(Order).where(Order.paid_at.is_not(None)))).scalars().all()
        refunds = (await s.execute(select(Refund).where(Refund.status == "succeeded"))).scalars().all()
        by_id = {o.id: o for o in orders}
    goods = [o for o in orders if o.source not in NON_GOODS_SOURCES and start <= rollups.shop_day(o.paid_at) <= end]
    refunded = [
        r
        for r in refunds
        if r.kind != "late_payment"
        and by_id[r.order_id].source not in NON_GOODS_SOURCES
        and start <= rollups.shop_day(r.succeeded_at) <= end
    ]
    return {
        "orders": len(goods),
        "paid_fen": sum(o.paid_fen for o in goods),
        "refund_fen": sum(r.amount_fen for r in refunded),
    }


async def _overview(client, boss, start: date, end: date) -> dict:
    r = await client.get(f"{A}/dashboard", params={"from": start.isoformat(), "to": end.isoformat()}, headers=boss)
    assert r.status_code == 200, r.text
    return r.json()


async def test_gmv_is_net_of_refunds_on_the_refund_date_and_agrees_with_the_orders_table(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(1001, 4990), stock=50)
    sku_a, sku_b = (k["id"] for k in p["skus"])
    me, you = await shopper(client, "alice"), await shopper(client, "bob")
    day1 = today()
    o1 = (await order(client, me, [{"sku_id": sku_a, "qty": 3}, {"sku_id": sku_b, "qty": 1}])).json()
    await pay(client, me, o1["id"])
    o2 = (await order(client, you, [{"sku_id": sku_b, "qty": 2}])).json()
    await pay(client, you, o2["id"])
    unpaid = await order(client, you, [{"sku_id": sku_a, "qty": 1}])
    assert unpaid.status_code == 201
    # A top-up and a paid membership: money in, but not goods GMV.
    pk = await package(client, boss, 10000, 500)
    topped = await top_up(client, me, pk["id"])
    await run_jobs(db)
    # The next day: one unit of line A goes back.
    clock.advance(86_400)
    day2 = today()
    assert day2 == day1 + timedelta(days=1)
    boss = await admin(client, db, username="boss-next-day")  # yesterday's admin token has expired
    me = await shopper(client, "alice")
    full = (await client.get(f"/api/v1/orders/{o1['id']}", headers=me)).json()
    line_a = next(ln for ln in full["lines"] if ln["sku_id"] == sku_a)
    r = await client.post(
        f"/api/v1/orders/{o1['id']}/refunds",
        json={"lines": [{"line_id": line_a["id"], "qty": 1}], "reason": "其他"},
        headers=me,
    )
    assert r.status_code == 201, r.text
    refund_fen = r.json()["amount_fen"]
    assert (await client.post(f"{A}/refunds/{r.json()['id']}/approve", headers=boss)).status_code == 200
    clock.advance(5)
    await run_jobs(db)
    async with db.read() as s:
        assert (await s.get(Refund, r.json()["id"])).status == "succeeded"

    first = await _overview(client, boss, day1, day1)
    truth1 = await _truth(db, day1, day1)
    ov = first["overview"]
    assert ov["orders"] == 2 == truth1["orders"]
    assert ov["paid_fen"] == truth1["paid_fen"] == o1["payable_fen"] + o2["payable_fen"]
    assert ov["refund_fen"] == 0 and ov["gmv_fen"] == truth1["paid_fen"]
    top = {x["source"]: x for x in ov["non_goods"]}
    assert top["wallet_topup"]["paid_fen"] == 10000 and topped["id"] and top["wallet_topup"]["orders"] == 1
    # The refund lands on its own date, not on the payment's.
    second = (await _overview(client, boss, day2, day2))["overview"]
    assert second["orders"] == 0 and second["refund_fen"] == refund_fen and second["gmv_fen"] == -refund_fen
    both = (await _overview(client, boss, day1, day2))["overview"]
    truth = await _truth(db, day1, day2)
    assert both["gmv_fen"] == truth["paid_fen"] - truth["refund_fen"]
    async with db.read() as s:
        left = await s.scalar(
            select(func.sum(Order.paid_fen - Order.refunded_fen)).where(
                Order.paid_at.is_not(None), Order.source.not_in(NON_GOODS_SOURCES)
            )
        )
    assert both["gmv_fen"] == left  # to the fen, against what the orders table says is left
    days = {d["day"]: d for d in (await _overview(client, boss, day1, day2))["daily"]}
    assert (
        days[day1.isoformat()]["gmv_fen"] == truth1["paid_fen"] and days[day2.isoformat()]["refund_fen"] == refund_fen
    )
    assert both["new_customers"] == 2

    # A redelivered event, or the events replayed from scratch, change nothing.
    async with db.tx() as s:
        assert not await rollups.apply_paid(s, order_id=o1["id"])
        assert not await rollups.apply_refund(s, refund_id=r.json()["id"])
    assert (await _overview(client, boss, day1, day2))["overview"] == both
    async with db.read() as s:
        before = sorted(
            (d.day, d.tool, d.via, d.orders, d.paid_fen, d.refund_fen, d.discount_fen)
            for d in (await s.scalars(select(DailyOrders))).all()
        )
    async with db.tx() as s:
        await rollups.rebuild_orders(s)
    async with db.read() as s:
        after = sorted(
            (d.day, d.tool, d.via, d.orders, d.paid_fen, d.refund_fen, d.discount_fen)
            for d in (await s.scalars(select(DailyOrders))).all()
        )
        firsts = {c.customer_id: c.paid_orders for c in (await s.scalars(select(CustomerFirst))).all()}
    assert before == after
    assert sorted(firsts.values()) == [1, 1]  # the top-up is not a goods order

    # The tools table: normal orders carry the goods GMV; the CSV is the same figures in 元.
    r = await client.get(
        f"{A}/dashboard/tools", params={"from": day1.isoformat(), "to": day2.isoformat()}, headers=boss
    )
    assert r.status_code == 200, r.text
    normal = next(t for t in r.json()["items"] if t["tool"] == "normal")
    assert normal["orders"] == 2 and normal["gmv_fen"] == both["gmv_fen"] and normal["new_customers"] == 2
    r = await client.get(
        f"{A}/dashboard/tools", params={"from": day1.isoformat(), "to": day2.isoformat(), "format": "csv"}, headers=boss
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "工具" and "净成交(元)" in rows[0]
    row = next(x for x in rows if x[0] == "普通订单")
    gmv = both["gmv_fen"]
    assert row[rows[0].index("净成交(元)")] == f"{gmv // 100}.{gmv % 100:02d}"
    for table in ("daily", "non_goods", "repurchase", "attribution"):
        r = await client.get(
            f"{A}/dashboard", params={"from": day1.isoformat(), "format": "csv", "table": table}, headers=boss
        )
        assert r.status_code == 200 and r.content.startswith("\ufeff".encode()), (table, r.text)


async def test_paid_membership_fees_are_apart_from_goods(client, db):
    s = await shop(client, db)
    h = await shopper(client, "vip")
    await buy(client, db, h, s["plan"]["id"])
    ov = (await _overview(client, s["boss"], today(), today()))["overview"]
    vip = next(x for x in ov["non_goods"] if x["source"] == "vip")
    assert vip["orders"] == 1 and vip["paid_fen"] == 9900
    assert ov["orders"] == 0 and ov["gmv_fen"] == 0


async def test_bad_ranges_are_refused_with_codes(client, db):
    boss = await admin(client, db)
    for params, code in (
        ({"from": "2026-12-07", "to": "2026-12-01"}, "DASHBOARD_RANGE_INVALID"),
        ({"from": "2024-01-01", "to": "2026-12-01"}, "DASHBOARD_RANGE_TOO_LONG"),
        ({"from": "yesterday"}, "VALIDATION_ERROR"),
        ({"from": "1999-01-01"}, "VALIDATION_ERROR"),
        ({"format": "xlsx"}, "VALIDATION_ERROR"),
    ):
        for path in ("/dashboard", "/dashboard/tools", "/dashboard/funnels", "/dashboard/distributors"):
            r = await client.get(f"{A}{path}", params=params, headers=boss)
            assert 400 <= r.status_code < 500 and r.json()["error"]["code"] == code, (path, params, r.text)
    r = await client.get(f"{A}/dashboard", params={"table": "secrets", "format": "csv"}, headers=boss)
    assert r.status_code == 422


async def test_owner_operator_and_finance_read_the_dashboard_and_nobody_else(client, db):
    me = await shopper(client, "alice")
    await check_admin_matrix(client, db, ADMIN_ROUTES, {}, me)
    for role in ("owner", "operator", "finance"):
        h = await admin(client, db, role, username=f"reader-{role}")
        for _, path, *_ in ADMIN_ROUTES:
            r = await client.get(path, headers=h)
            assert r.status_code == 200, (role, path, r.text)
            r = await client.get(path, params={"format": "csv"}, headers=h)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), (role, path)


async def _event(db, n: int, kind: str, tool: str, customer: int | None, device: str | None = None) -> None:
    now = clock.now()
    async with db.tx() as s:
        await s.execute(
            insert(AnalyticsEvent).values(
                key=f"test:{n}",
                kind=kind,
                origin="server",
                at=now,
                day=rollups.shop_day(now),
                received_at=now,
                customer_id=customer,
                device_id=device,
                tool=tool,
                amount_fen=0,
            )
        )


async def test_funnels_count_people_once_and_mark_the_step_that_loses_most(client, db):
    boss = await admin(client, db)
    n = 0
    # 拼团: 6 viewers (two anonymous devices), 4 join, 3 order, 1 pays: ordered → paid loses most (2/3).
    for who in (1, 2, 3, 4):
        for _ in range(2):  # a shopper viewing twice is one person
            n += 1
            await _event(db, n, "page_view", "groupbuy", who)
    for dev in ("d1", "d2"):
        n += 1
        await _event(db, n, "page_view", "groupbuy", None, dev)
    for who, kind in ((1, "group_open"), (2, "group_join"), (3, "group_join"), (4, "group_join"), (1, "group_join")):
        n += 1
        await _event(db, n, kind, "groupbuy", who)
    for who in (1, 2, 3):
        n += 1
        await _event(db, n, "order_created", "groupbuy", who)
    n += 1
    await _event(db, n, "order_paid", "groupbuy", 1)
    async with db.tx() as s:
        await rollups.catch_up(s, settle_seconds=0)
    r = await client.get(f"{A}/dashboard/funnels", headers=boss)
    assert r.status_code == 200, r.text
    group = next(f for f in r.json()["items"] if f["tool"] == "groupbuy")
    assert [st["people"] for st in group["steps"]] == [6, 4, 3, 1]
    assert group["worst_step"] == "paid" and [st["worst"] for st in group["steps"]] == [False, False, False, True]
    assert [st["rate_bp"] for st in group["steps"]] == [None, 6666, 7500, 3333]
    tools = (await client.get(f"{A}/dashboard/tools", headers=boss)).json()["items"]
    group_row = next(t for t in tools if t["tool"] == "groupbuy")
    assert group_row["participants"] == 4 and group_row["views"] == 10  # views are counted, people once
    empty = next(f for f in r.json()["items"] if f["tool"] == "bargain")
    assert empty["worst_step"] is None

    # The console page draws it, with the worst step marked, and every table downloads as CSV.
    csrf = await console(client, db, "finance")
    assert csrf
    page = await client.get("/admin/data")
    assert page.status_code == 200, page.text
    assert "数据中心" in page.text and "/static/vendor/echarts/echarts.min.js" in page.text
    assert 'class="funnel-worst" data-step="paid"' in page.text and "流失最多" in page.text
    for table in ("daily", "non_goods", "tools", "funnels", "distributors", "repurchase", "attribution"):
        got = await client.get(f"/admin/data/export/{table}")
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv"), table
        assert "attachment" in got.headers["content-disposition"]
    funnel_csv = list(
        csv.reader(io.StringIO((await client.get("/admin/data/export/funnels")).content.decode("utf-8-sig")))
    )
    assert ["拼团", "6", "4", "3", "1", "支付"] in funnel_csv
    home = await client.get("/admin/")
    assert 'href="/admin/data"' in home.text
    bad = await client.get("/admin/data", params={"from": "2026-12-09", "to": "2026-12-01"})
    assert bad.status_code == 200 and "开始日期不能晚于结束日期" in bad.text
    # a cleared date field is the default's, a malformed one is said on the page (not a JSON error)
    cleared = await client.get("/admin/data", params={"from": "2026-12-01", "to": ""})
    assert cleared.status_code == 200 and 'value="2026-12-01"' in cleared.text and "range-error" not in cleared.text
    junk = await client.get("/admin/data", params={"from": "abc", "to": "2026-13-40"})
    assert junk.status_code == 200 and "日期格式不正确" in junk.text and "数据中心" in junk.text


async def test_store_staff_does_not_see_the_data_centre(client, db):
    await console(client, db, "store_staff")
    page = await client.get("/admin/data")
    assert page.status_code in (303, 403)
    assert (await client.get("/admin/data/export/tools")).status_code in (303, 403)


async def test_distinct_people_agree_whether_the_range_reaches_the_newest_day_or_not(client, db):
    """A range reaching the newest rolled-up day counts each person's last day; one that ends before it
    counts the person-days: both are the distinct people who reached the step within the range."""
    boss = await admin(client, db)
    today = rollups.shop_day(clock.now())
    n = 0
    # Shopper 1 joins 10 days ago and today, 2 only 10 days ago, 3 only 3 days ago, 4 only today.
    for who, days_ago in ((1, 10), (1, 0), (2, 10), (3, 3), (4, 0)):
        n += 1
        clock.set_offset(-days_ago * 86400)
        try:
            await _event(db, n, "group_join", "groupbuy", who)
        finally:
            clock.set_offset(0)
    async with db.tx() as s:
        await rollups.catch_up(s, settle_seconds=0)

    async def joined(start, end) -> int:
        span = {"from": start.isoformat(), "to": end.isoformat()}
        r = await client.get(f"{A}/dashboard/funnels", params=span, headers=boss)
        assert r.status_code == 200, r.text
        return next(f for f in r.json()["items"] if f["tool"] == "groupbuy")["steps"][1]["people"]

    d = timedelta
    assert await joined(today - d(days=13), today) == 4  # reaches today: last days
    assert await joined(today - d(days=5), today) == 3  # 1 (today), 3, 4
    assert await joined(today - d(days=5), today + d(days=2)) == 3  # past today: the same
    assert await joined(today - d(days=13), today - d(days=1)) == 3  # ends yesterday: 1, 2, 3 by person-days
    assert await joined(today - d(days=11), today - d(days=4)) == 2  # 1 and 2, ten days ago
    assert await joined(today - d(days=2), today - d(days=1)) == 0


async def test_a_participant_counts_as_a_viewer_so_no_funnel_reads_over_100_percent(client, db):
    """Coupons claimed from a product page (no view of the coupon centre): the claimers saw the coupons."""
    boss = await admin(client, db)
    n = 0
    for who in (1, 2, 3):
        n += 1
        await _event(db, n, "coupon_claim", "coupons", who)
    n += 1
    await _event(db, n, "page_view", "coupons", 4)  # looked and did not claim
    async with db.tx() as s:
        await rollups.catch_up(s, settle_seconds=0)
    r = await client.get(f"{A}/dashboard/funnels", headers=boss)
    coupons = next(f for f in r.json()["items"] if f["tool"] == "coupons")
    assert [st["people"] for st in coupons["steps"]][:2] == [4, 3]
    assert coupons["steps"][1]["rate_bp"] == 7500
