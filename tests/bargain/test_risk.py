"""The risk gate on helps: the starter's own device or network, a burst of fresh accounts on one bargain,
and accounts that only ever help; each refusal says why, and nothing is written."""

from __future__ import annotations

import httpx

from fissionmall.risk import service as risk
from fissionmall.risk.rules import HelpLimits
from tests.bargain.helpers import friends, help_, make_activity, snapshot
from tests.helpers import admin, product, shopper


async def _bargain(client, db, **over):
    boss = await admin(client, db)
    act = await make_activity(client, boss, await product(client, boss, prices=(9900,)), **over)
    me = await shopper(client, "starter")
    r = await client.post(f"/api/v1/bargain/activities/{act['id']}/start", headers={**me, "X-Device-Id": "phone-1"})
    assert r.status_code == 201, r.text
    return r.json()["bargain_id"], act


async def _refused(db, call, status: int, code: str) -> None:
    before = await snapshot(db)
    r = await call()
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert await snapshot(db) == before


async def test_a_friend_on_the_starters_device_is_refused(client, db):
    bid, _ = await _bargain(client, db)
    friend = (await friends(client, 1))[0]
    await _refused(db, lambda: help_(client, friend, bid, **{"X-Device-Id": "phone-1"}), 403, "HELP_SAME_DEVICE")
    assert (await help_(client, friend, bid, **{"X-Device-Id": "phone-2"})).status_code == 200


async def test_a_friend_on_the_starters_network_is_refused_one_elsewhere_is_not(app, client, db):
    await risk.save_help_limits(db, new=HelpLimits(same_network=True))
    bid, _ = await _bargain(client, db)
    near, far = await friends(client, 2)
    await _refused(db, lambda: help_(client, near, bid), 403, "HELP_SAME_NETWORK")
    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as elsewhere:
        assert (await help_(elsewhere, far, bid)).status_code == 200


async def test_a_burst_of_fresh_accounts_on_one_bargain_is_stopped(client, db):
    await risk.save_help_limits(db, new=HelpLimits(same_network=False, burst_new_accounts=2))
    bid, _ = await _bargain(client, db)
    a, b, c = await friends(client, 3)
    assert (await help_(client, a, bid)).status_code == 200
    assert (await help_(client, b, bid)).status_code == 200
    await _refused(db, lambda: help_(client, c, bid), 429, "HELP_NEW_ACCOUNT_BURST")


async def test_an_account_that_only_helps_and_never_buys_runs_out_of_free_helps(client, db):
    await risk.save_help_limits(db, new=HelpLimits(same_network=False, free_helps=1))
    boss = await admin(client, db)
    act = await make_activity(client, boss, await product(client, boss, prices=(9900,)))
    s1, s2 = await friends(client, 2, "starter")
    b1 = (await client.post(f"/api/v1/bargain/activities/{act['id']}/start", headers=s1)).json()["bargain_id"]
    b2 = (await client.post(f"/api/v1/bargain/activities/{act['id']}/start", headers=s2)).json()["bargain_id"]
    helper = await shopper(client, "farm")
    assert (await help_(client, helper, b1)).status_code == 200
    await _refused(db, lambda: help_(client, helper, b2), 403, "HELP_NEEDS_PURCHASE")


ADMIN_ROUTES = [
    ("GET", "/api/admin/v1/risk/help-limits", None, "marketing.read", "finance"),
    (
        "PUT",
        "/api/admin/v1/risk/help-limits",
        {
            "same_network": True,
            "new_account_minutes": 60,
            "burst_window_seconds": 600,
            "burst_new_accounts": 20,
            "free_helps": 30,
        },
        "marketing",
        "finance",
    ),
]


async def test_the_operator_reads_and_sets_the_help_gate(client, db):
    from tests.authz import check_admin_matrix

    boss = await admin(client, db)
    await check_admin_matrix(client, db, ADMIN_ROUTES, {}, await shopper(client, "nosy"))
    assert (await client.get("/api/admin/v1/risk/help-limits", headers=boss)).json() == {
        "same_network": False,
        "new_account_minutes": 60,
        "burst_window_seconds": 600,
        "burst_new_accounts": 20,
        "free_helps": 30,
    }
    r = await client.put("/api/admin/v1/risk/help-limits", json={**ADMIN_ROUTES[1][2], "free_helps": 3}, headers=boss)
    assert r.status_code == 200 and r.json()["same_network"] is True
    assert await risk.help_limits(db) == HelpLimits(same_network=True, free_helps=3)
