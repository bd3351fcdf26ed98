"""Points' admin routes refuse whoever lacks the permission and change nothing; GET /points needs a shopper."""

from __future__ import annotations

from typing import Any

from tests.authz import check_admin_matrix
from tests.platform.test_bad_input import snapshot
from tests.points.helpers import balance_and_sum, customer

ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("GET", "/api/admin/v1/points/rules", None, "marketing.read", "store_staff"),
    ("PUT", "/api/admin/v1/points/rules", {"enabled": True}, "marketing", "finance"),
    ("GET", "/api/admin/v1/points/entries", None, "marketing.read", "store_staff"),
    (
        "POST",
        "/api/admin/v1/customers/{customer_id}/points-adjustments",
        {"delta": 100, "reason": "测试"},
        "customers",
        "finance",
    ),
]


async def test_points_admin_routes_refuse_whoever_lacks_the_permission(client, db):
    h, cid = await customer(client)
    before = await snapshot(db)
    await check_admin_matrix(client, db, ADMIN_ROUTES, {"customer_id": cid}, h)
    after = await snapshot(db)
    for table in ("points_entries", "points_accounts", "points_rules"):
        assert after[table] == before[table]
    assert await balance_and_sum(db, cid) == (0, 0)


async def test_shopper_routes_need_a_shopper(client):
    for method, path in (
        ("GET", "/api/v1/points"),
        ("GET", "/api/v1/points/ledger"),
        ("POST", "/api/v1/points/sign-in"),
    ):
        r = await client.request(method, path)
        assert r.status_code == 401


async def test_the_console_customer_page_shows_points(client, db):
    from tests.console_helpers import console

    _, cid = await customer(client)
    r = await client.post(
        f"/api/admin/v1/customers/{cid}/points-adjustments",
        json={"delta": 120, "reason": "补偿"},
        headers=await _boss(client, db),
    )
    assert r.status_code == 201, r.text
    await console(client, db, "owner")
    page = await client.get(f"/admin/customers/{cid}")
    assert page.status_code == 200 and "积分余额" in page.text and "补偿" in page.text
    listing = await client.get("/admin/customers?points=has")
    assert listing.status_code == 200 and "积分" in listing.text


async def _boss(client, db):
    from tests.helpers import admin

    return await admin(client, db, username="points-boss")
