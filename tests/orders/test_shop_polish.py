"""Orders as the shop and the console show them: numbers carry the shop's local date, and a forming
group's paid order is offered no ship form and refused when shipped anyway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from fissionmall.core import clock
from fissionmall.orders.service import order_no
from tests.console_helpers import _order_row, console, htmx
from tests.groupbuy.helpers import joined_and_paid, make_activity, opened_and_paid
from tests.helpers import admin, order, product, run_jobs, shopper

SHANGHAI = ZoneInfo("Asia/Shanghai")
SHIP = {"carrier": "顺丰速运", "tracking_no": "SF1234567890"}


def test_an_order_number_embeds_the_local_date_and_time_not_utcs():
    late = datetime(2026, 3, 31, 23, 30, 5, tzinfo=UTC)  # 2026-04-01 07:30:05 in Beijing
    no = order_no(late, SHANGHAI)
    assert no[:14] == "20260401073005" and len(no) == 22 and no.isdigit()
    before_midnight = datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC)  # 23:59:59 the same day in Beijing
    assert order_no(before_midnight, SHANGHAI)[:14] == "20260331235959"
    assert order_no(late, ZoneInfo("UTC"))[:8] == "20260331"


async def test_an_order_placed_at_23_30_utc_is_numbered_with_the_next_day_in_beijing(client, db):
    boss = await admin(client, db)
    p = await product(client, boss)
    me = await shopper(client)
    # A fixed clock: tomorrow 23:30:00 UTC (the day after tomorrow, 07:30, in the shop's Asia/Shanghai).
    day = (datetime.now(UTC) + timedelta(days=1)).date()
    at = datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC)
    clock.set_offset((at - datetime.now(UTC)).total_seconds())
    r = await order(client, me, [{"sku_id": p["skus"][0]["id"], "qty": 1}])
    assert r.status_code == 201, r.text
    local = (day + timedelta(days=1)).strftime("%Y%m%d")
    assert r.json()["no"][:12] == local + "0730"
    assert r.json()["pay_deadline"].endswith("+08:00")
    # Two orders in the same second still get their own numbers.
    again = await order(client, me, [{"sku_id": p["skus"][0]["id"], "qty": 1}])
    assert again.status_code == 201 and again.json()["no"] != r.json()["no"]


async def _forming_group(client, db):
    boss = await admin(client, db, username="gb-owner")
    p = await product(client, boss, prices=(1990,), stock=50)
    act = await make_activity(client, boss, p)
    leader, amy = await shopper(client, "leader"), await shopper(client, "amy")
    gid, leader_order = await opened_and_paid(client, leader, act)
    await run_jobs(db)
    return {"boss": boss, "act": act, "gid": gid, "order": leader_order, "amy": amy}


async def test_the_console_offers_no_ship_form_for_a_forming_groups_order_and_refuses_the_post(client, db):
    g = await _forming_group(client, db)
    oid = g["order"]
    csrf = await console(client, db, "operator")

    page = await client.get(f"/admin/orders/{oid}")
    assert page.status_code == 200
    assert 'id="ship-hold"' in page.text and "拼团中" in page.text and "成团后才能发货" in page.text
    assert "ship-form" not in page.text and "确认发货" not in page.text
    listing = await client.get("/admin/orders", params={"status": "paid"})
    row = listing.text.split(f'href="/admin/orders/{oid}"')[0].rsplit("<tr", 1)[-1]
    assert 'data-hold="GROUP_FORMING"' in listing.text and "去发货" not in listing.text, row

    # Posted anyway (an old tab, a script): refused with the group's code, and nothing ships.
    r = await client.post(f"/admin/orders/{oid}/ship", data=SHIP, headers=htmx(csrf))
    assert r.status_code == 409 and "成团后才能发货" in r.text and "ship-form" not in r.text
    api = await client.post(f"/api/admin/v1/orders/{oid}/ship", json=SHIP, headers=g["boss"])
    assert (api.status_code, api.json()["error"]["code"]) == (409, "GROUP_FORMING")
    o = await _order_row(db, oid)
    assert (o.status, o.carrier, o.shipped_at) == ("paid", None, None)

    # Once the group succeeds the same page offers the form, and the list says 去发货.
    sku = g["act"]["skus"][0]["sku_id"]
    await joined_and_paid(client, g["amy"], g["gid"], sku)
    await joined_and_paid(client, await shopper(client, "bob"), g["gid"], sku)
    await run_jobs(db)
    page = await client.get(f"/admin/orders/{oid}")
    assert "确认发货" in page.text and 'id="ship-hold"' not in page.text
    listing = await client.get("/admin/orders", params={"status": "paid"})
    assert "data-hold=" not in listing.text and "去发货" in listing.text


async def test_an_unpaid_order_page_shows_what_is_due_not_what_was_paid(client, db):
    boss = await admin(client, db)
    p = await product(client, boss)
    me = await shopper(client)
    o = (await order(client, me, [{"sku_id": p["skus"][0]["id"], "qty": 1}])).json()
    await console(client, db, "operator")
    page = await client.get(f"/admin/orders/{o['id']}")
    assert "实付金额" not in page.text and "应付 <b" in page.text and "实付 <b" not in page.text
