"""The distribution HTTP flow, withdrawals under concurrency, bad input and the admin authorization matrix."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from fissionmall.distribution.models import Commission, Withdrawal
from fissionmall.distribution.transfer import TransferResult, use_transfer
from tests.authz import check_admin_matrix
from tests.distribution.helpers import buy, configure, distributor, login, me
from tests.helpers import admin, product, run_jobs, shopper
from tests.platform.test_bad_input import snapshot

CONFIG_BODY = {"enabled": True, "levels": 2, "level1_rate_bp": 1000, "level2_rate_bp": 500}
# (method, path template, body, permission the route needs, a role that lacks it)
ADMIN_ROUTES: list[tuple[str, str, dict[str, Any] | None, str, str]] = [
    ("GET", "/api/admin/v1/distribution/config", None, "marketing.read", "store_staff"),
    ("PUT", "/api/admin/v1/distribution/config", CONFIG_BODY, "marketing", "finance"),
    ("GET", "/api/admin/v1/distribution/distributors", None, "marketing.read", "store_staff"),
    (
        "POST",
        "/api/admin/v1/distribution/distributors/{distributor_id}/decide",
        {"approve": True},
        "marketing",
        "finance",
    ),
    ("GET", "/api/admin/v1/distribution/ranking", None, "marketing.read", "store_staff"),
    ("GET", "/api/admin/v1/withdrawals", None, "withdrawals.read", "operator"),
    ("POST", "/api/admin/v1/withdrawals/{withdrawal_id}/approve", None, "withdrawals", "operator"),
    ("POST", "/api/admin/v1/withdrawals/{withdrawal_id}/reject", {"reason": "no"}, "withdrawals", "operator"),
]


async def _boss(client) -> dict[str, str]:
    """The owner again: tokens expire while the dev clock runs days ahead."""
    r = await client.post(
        "/api/admin/v1/auth/login", json={"username": "owner-user", "password": "correct horse battery"}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def _clock(client, boss, days: float) -> None:
    r = await client.post(
        "/api/admin/v1/dev/clock", json={"advance_seconds": int(days * 86400)}, headers=await _boss(client)
    )
    assert r.status_code == 200, r.text


async def _settled(client, boss, o, friend) -> None:
    """Ship, receive, close after-sales, pass the frozen days and a month end."""
    r = await client.post(
        f"/api/admin/v1/orders/{o['id']}/ship", json={"carrier": "顺丰", "tracking_no": "SF123456"}, headers=boss
    )
    assert r.status_code == 200, r.text
    assert (await client.post(f"/api/v1/orders/{o['id']}/receive", headers=friend)).status_code == 200
    for days in (8, 8, 31):
        await _clock(client, boss, days)


async def _earning_distributor(client, db, *, amount_fen: int = 10000, **config: Any):
    """A distributor whose friend bought: after completion, the frozen days and settlement, `available`."""
    boss = await admin(client, db)
    await configure(client, boss, **config)
    sku = (await product(client, boss, prices=(amount_fen,)))["skus"][0]["id"]
    dist, code = await distributor(client, db, "dist")
    friend = await login(client, "friend", ref=code)
    await run_jobs(db)
    o = await buy(client, db, friend, [{"sku_id": sku, "qty": 1}])
    return boss, dist, friend, o


async def test_shopper_applies_shares_a_friend_buys_settles_withdraws_and_the_operator_approves(client, db, settings):
    boss = await admin(client, db)
    await configure(client, boss, frozen_days=7, min_withdraw_fen=100, withdraw_fee_bp=100)
    p = await product(client, boss, prices=(10000,))
    dist = await shopper(client, "sharer")
    r = await client.post("/api/v1/distribution/apply", headers=dist)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    code = r.json()["share_code"]

    r = await client.get("/api/v1/distribution/share", params={"product_id": p["id"]}, headers=dist)
    assert r.status_code == 200, r.text
    share = r.json()
    assert share["share_url"].endswith(f"/shop/?ref={code}#/p/{p['id']}")
    assert share["scene"] == f"r={code}&p={p['id']}"
    for url in (share["qrcode_png_url"], share["poster_png_url"]):
        img = await client.get(url)
        assert img.status_code == 200 and img.content[:8] == b"\x89PNG\r\n\x1a\n"
    again = (await client.get("/api/v1/distribution/share", params={"product_id": p["id"]}, headers=dist)).json()
    assert again == share  # cached: the same files

    assert (
        await client.post("/api/v1/distribution/visits", json={"ref": code, "product_id": p["id"]})
    ).status_code == 204
    friend = await login(client, "friend", ref=code)
    await run_jobs(db)
    o = await buy(client, db, friend, [{"sku_id": p["skus"][0]["id"], "qty": 1}])
    mine = await me(client, dist)
    assert (mine["pending_fen"], mine["available_fen"], mine["level1_count"], mine["visits"]) == (1000, 0, 1, 1)
    assert mine["today_fen"] == mine["month_fen"] == mine["total_fen"] == 1000
    assert mine["orders"][0]["order_id"] == o["id"] and mine["orders"][0]["status"] == "pending"

    r = await client.post(
        f"/api/admin/v1/orders/{o['id']}/ship", json={"carrier": "顺丰", "tracking_no": "SF123456"}, headers=boss
    )
    assert r.status_code == 200
    assert (await client.post(f"/api/v1/orders/{o['id']}/receive", headers=friend)).status_code == 200
    await _clock(client, boss, 8)  # after-sales closes: OrderCompleted
    dist = await shopper(client, "sharer")
    assert (await me(client, dist))["pending_fen"] == 1000
    await _clock(client, boss, 8)  # past the frozen days
    await _clock(client, boss, 31)  # past a month end: the settlement
    dist, boss = await shopper(client, "sharer"), await _boss(client)
    mine = await me(client, dist)
    assert (mine["pending_fen"], mine["available_fen"], mine["orders"][0]["status"]) == (0, 1000, "settled")

    r = await client.post(
        "/api/v1/distribution/withdrawals", json={"amount_fen": 600}, headers={**dist, "Idempotency-Key": "wd-1"}
    )
    assert r.status_code == 201, r.text
    w = r.json()
    assert (w["status"], w["fee_fen"], w["net_fen"]) == ("pending", 6, 594)
    assert (await me(client, dist))["available_fen"] == 400
    r = await client.get("/api/admin/v1/withdrawals", params={"status": "pending"}, headers=boss)
    assert [x["id"] for x in r.json()["items"]] == [w["id"]]
    r = await client.post(f"/api/admin/v1/withdrawals/{w['id']}/approve", headers=boss)
    assert r.status_code == 200 and r.json()["status"] == "paying"
    await run_jobs(db)
    mine = await me(client, dist)
    assert (mine["available_fen"], mine["withdrawing_fen"], mine["withdrawn_fen"]) == (400, 0, 600)
    r = await client.get("/api/v1/distribution/withdrawals", headers=dist)
    assert r.json()["items"][0]["status"] == "paid" and r.json()["items"][0]["transfer_id"]
    r = await client.post(f"/api/admin/v1/withdrawals/{w['id']}/approve", headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "WITHDRAWAL_STATE_INVALID"

    ledger = (await client.get("/api/v1/distribution/commissions", headers=dist)).json()["items"]
    assert sum(e["amount_fen"] for e in ledger if e["bucket"] == "withdrawn") == 600
    rank = (await client.get("/api/admin/v1/distribution/ranking", params={"by": "commission"}, headers=boss)).json()
    assert rank[0]["commission_fen"] == 1000 and rank[0]["gmv_fen"] == 10000


async def test_concurrent_withdrawals_never_spend_more_than_available(client, db, settings):
    boss, dist, friend, o = await _earning_distributor(client, db, min_withdraw_fen=100)
    await _settled(client, boss, o, friend)
    dist, boss = await shopper(client, "dist"), await _boss(client)
    assert (await me(client, dist))["available_fen"] == 1000

    results = await asyncio.gather(
        *(
            client.post(
                "/api/v1/distribution/withdrawals",
                json={"amount_fen": 300},
                headers={**dist, "Idempotency-Key": f"k{i}"},
            )
            for i in range(10)
        )
    )
    assert Counter(r.status_code for r in results) == {201: 3, 409: 7}
    assert {r.json()["error"]["code"] for r in results if r.status_code == 409} == {"WITHDRAW_EXCEEDS_AVAILABLE"}
    assert (await me(client, dist))["available_fen"] == 100

    same = await asyncio.gather(
        *(
            client.post(
                "/api/v1/distribution/withdrawals",
                json={"amount_fen": 100},
                headers={**dist, "Idempotency-Key": "once"},
            )
            for _ in range(5)
        )
    )
    assert {r.status_code for r in same} == {201} and len({r.json()["id"] for r in same}) == 1
    assert (await me(client, dist))["available_fen"] == 0


class FailingTransfer:
    name = "failing"

    async def transfer(self, *, reference: str, customer_id: int, amount_fen: int, description: str) -> TransferResult:
        return TransferResult(False, None, "收款账户异常")


async def test_a_failed_transfer_returns_the_money_and_a_rejection_too(client, db, settings):
    boss, dist, friend, o = await _earning_distributor(client, db, min_withdraw_fen=100)
    await _settled(client, boss, o, friend)
    dist, boss = await shopper(client, "dist"), await _boss(client)
    w1 = (await client.post("/api/v1/distribution/withdrawals", json={"amount_fen": 500}, headers=dist)).json()
    w2 = (await client.post("/api/v1/distribution/withdrawals", json={"amount_fen": 500}, headers=dist)).json()
    previous = use_transfer(FailingTransfer())
    try:
        await client.post(f"/api/admin/v1/withdrawals/{w1['id']}/approve", headers=boss)
        await run_jobs(db)
    finally:
        use_transfer(previous)
    r = await client.post(f"/api/admin/v1/withdrawals/{w2['id']}/reject", json={"reason": "信息不符"}, headers=boss)
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    mine = await me(client, dist)
    assert (mine["available_fen"], mine["withdrawing_fen"], mine["withdrawn_fen"]) == (1000, 0, 0)
    statuses = [
        w["status"] for w in (await client.get("/api/v1/distribution/withdrawals", headers=dist)).json()["items"]
    ]
    assert statuses == ["rejected", "failed"]


async def test_binding_modes_first_latest_and_registration_only(client, db):
    boss = await admin(client, db)
    await configure(client, boss, bind_mode="first")
    _, code_a = await distributor(client, db, "a")
    _, code_b = await distributor(client, db, "b")
    x = await login(client, "x", ref=code_a)
    await run_jobs(db)
    r = await client.post("/api/v1/distribution/bind", json={"ref": code_b}, headers=x)
    assert r.json()["status"] == "kept"
    await configure(client, boss, bind_mode="latest")
    r = await client.post("/api/v1/distribution/bind", json={"ref": code_b.lower()}, headers=x)
    assert r.json()["status"] == "rebound"
    await configure(client, boss, bind_mode="registration_only")
    y = await login(client, "y")
    r = await client.post("/api/v1/distribution/bind", json={"ref": code_a}, headers=y)
    assert r.json()["status"] == "kept"
    assert (await me(client, (await login(client, "a"))))["level1_count"] == 0
    assert (await me(client, (await login(client, "b"))))["level1_count"] == 1


async def test_manual_approval_and_everyone_mode(client, db):
    boss = await admin(client, db)
    await configure(client, boss, approval="manual")
    h = await login(client, "m")
    r = await client.post("/api/v1/distribution/apply", headers=h)
    assert r.json() == {"status": "pending", "share_code": None}
    r = await client.get("/api/v1/distribution/share", headers=h)
    assert r.status_code == 403 and r.json()["error"]["code"] == "NOT_DISTRIBUTOR"
    pending = (
        await client.get("/api/admin/v1/distribution/distributors", params={"status": "pending"}, headers=boss)
    ).json()
    did = pending["items"][0]["id"]
    r = await client.post(f"/api/admin/v1/distribution/distributors/{did}/decide", json={"approve": True}, headers=boss)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert (await me(client, h))["share_code"]

    await configure(client, boss, approval="everyone")
    someone = await login(client, "someone")
    assert (await me(client, someone))["status"] == "approved"


@pytest.fixture
async def world(client, db):
    boss, dist, friend, _o = await _earning_distributor(client, db, min_withdraw_fen=200)
    r = await client.post("/api/v1/distribution/apply", headers=dist)
    return {"boss": boss, "dist": dist, "friend": friend, "code": r.json()["share_code"]}


BAD: list[tuple[str, Any, int, str]] = [
    (
        "withdraw more than available",
        lambda w: ("POST", "/api/v1/distribution/withdrawals", {"amount_fen": 5000}, w["dist"]),
        409,
        "WITHDRAW_EXCEEDS_AVAILABLE",
    ),
    (
        "withdraw below the minimum",
        lambda w: ("POST", "/api/v1/distribution/withdrawals", {"amount_fen": 199}, w["dist"]),
        400,
        "WITHDRAW_BELOW_MINIMUM",
    ),
    (
        "withdraw zero",
        lambda w: ("POST", "/api/v1/distribution/withdrawals", {"amount_fen": 0}, w["dist"]),
        422,
        "VALIDATION_ERROR",
    ),
    (
        "withdraw float",
        lambda w: ("POST", "/api/v1/distribution/withdrawals", {"amount_fen": 1.5}, w["dist"]),
        422,
        "VALIDATION_ERROR",
    ),
    (
        "withdraw as a non-distributor",
        lambda w: ("POST", "/api/v1/distribution/withdrawals", {"amount_fen": 300}, w["friend"]),
        403,
        "NOT_DISTRIBUTOR",
    ),
    (
        "bind to oneself",
        lambda w: ("POST", "/api/v1/distribution/bind", {"ref": w["code"]}, w["dist"]),
        400,
        "REF_SELF",
    ),
    (
        "bind to a forged code",
        lambda w: ("POST", "/api/v1/distribution/bind", {"ref": "FORGED99"}, w["friend"]),
        400,
        "REF_UNKNOWN",
    ),
    (
        "bind to an empty code",
        lambda w: ("POST", "/api/v1/distribution/bind", {"ref": ""}, w["friend"]),
        422,
        "VALIDATION_ERROR",
    ),
    (
        "visit with an unknown code",
        lambda w: ("POST", "/api/v1/distribution/visits", {"ref": "NOPE"}, {}),
        400,
        "REF_UNKNOWN",
    ),
    (
        "three levels",
        lambda w: ("PUT", "/api/admin/v1/distribution/config", {**CONFIG_BODY, "levels": 3}, w["boss"]),
        400,
        "LEVELS_NOT_ALLOWED",
    ),
    (
        "rates above the cap",
        lambda w: ("PUT", "/api/admin/v1/distribution/config", {**CONFIG_BODY, "level1_rate_bp": 2600}, w["boss"]),
        400,
        "RATE_ABOVE_CAP",
    ),
    (
        "cap above 30%",
        lambda w: ("PUT", "/api/admin/v1/distribution/config", {**CONFIG_BODY, "cap_bp": 5000}, w["boss"]),
        400,
        "CAP_TOO_HIGH",
    ),
    (
        "override above the cap",
        lambda w: (
            "PUT",
            "/api/admin/v1/distribution/config",
            {**CONFIG_BODY, "overrides": [{"sku_id": 1, "level1_rate_bp": 3000, "level2_rate_bp": 100}]},
            w["boss"],
        ),
        400,
        "RATE_ABOVE_CAP",
    ),
    (
        "override with no target",
        lambda w: (
            "PUT",
            "/api/admin/v1/distribution/config",
            {**CONFIG_BODY, "overrides": [{"level1_rate_bp": 100}]},
            w["boss"],
        ),
        400,
        "OVERRIDE_TARGET_INVALID",
    ),
    (
        "rate above 100%",
        lambda w: ("PUT", "/api/admin/v1/distribution/config", {**CONFIG_BODY, "level1_rate_bp": 10001}, w["boss"]),
        422,
        "VALIDATION_ERROR",
    ),
    (
        "unknown bind mode",
        lambda w: ("PUT", "/api/admin/v1/distribution/config", {**CONFIG_BODY, "bind_mode": "random"}, w["boss"]),
        422,
        "VALIDATION_ERROR",
    ),
    (
        "approve an unknown withdrawal",
        lambda w: ("POST", "/api/admin/v1/withdrawals/999999/approve", None, w["boss"]),
        404,
        "WITHDRAWAL_NOT_FOUND",
    ),
    (
        "share an unknown product",
        lambda w: ("GET", "/api/v1/distribution/share?product_id=999999", None, w["dist"]),
        404,
        "PRODUCT_NOT_FOUND",
    ),
]


@pytest.mark.parametrize(("name", "make", "status", "code"), BAD, ids=[b[0] for b in BAD])
async def test_bad_input_is_refused_and_changes_nothing(client, db, world, name, make, status, code):
    method, path, body, headers = make(world)
    before = await snapshot(db)
    r = await client.request(method, path, json=body, headers=headers)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert await snapshot(db) == before


async def test_one_idempotency_key_twice_withdraws_once_and_another_body_is_refused(client, db, world):
    boss, dist, friend = world["boss"], world["dist"], world["friend"]
    o = (await client.get("/api/v1/orders", headers=friend)).json()["items"][0]
    await _settled(client, boss, o, friend)
    dist, boss = await shopper(client, "dist"), await _boss(client)
    h = {**dist, "Idempotency-Key": "same"}
    a = await client.post("/api/v1/distribution/withdrawals", json={"amount_fen": 300}, headers=h)
    b = await client.post("/api/v1/distribution/withdrawals", json={"amount_fen": 300}, headers=h)
    assert a.json() == b.json()
    before = await snapshot(db)
    c = await client.post("/api/v1/distribution/withdrawals", json={"amount_fen": 400}, headers=h)
    assert c.status_code == 409 and c.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await snapshot(db) == before
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Withdrawal)) == 1
        assert (
            await s.scalar(select(func.count()).select_from(Commission).where(Commission.withdrawal_id.is_not(None)))
            == 2
        )


async def test_admin_routes_authorization_matrix(client, db, world):
    boss = world["boss"]
    did = (await client.get("/api/admin/v1/distribution/distributors", headers=boss)).json()["items"][0]["id"]
    before = await snapshot(db)
    await check_admin_matrix(client, db, ADMIN_ROUTES, {"distributor_id": did, "withdrawal_id": 1}, world["friend"])
    after = await snapshot(db)
    # The matrix logs in admins of each role (their rows and sessions); nothing else changed.
    logins = ("admin_users", "admin_sessions")
    assert {k: v for k, v in after.items() if k not in logins} == {k: v for k, v in before.items() if k not in logins}
    r = await client.get("/api/admin/v1/distribution/config", headers=boss)
    assert r.status_code == 200 and r.json()["enabled"] is True


async def test_a_returning_shopper_logging_in_through_a_share_link_is_bound_and_me_shows_distributors(client, db):
    boss = await admin(client, db)
    await configure(client, boss, bind_mode="first")
    a, code_a = await distributor(client, db, "a")
    assert (await client.get("/api/v1/me", headers=a)).json()["is_distributor"] is True
    z = await login(client, "z")  # registers with no ref
    await run_jobs(db)
    assert (await client.get("/api/v1/me", headers=z)).json()["is_distributor"] is False
    assert (await me(client, a))["level1_count"] == 0
    await login(client, "z", ref=code_a)  # comes back later through a's link
    await run_jobs(db)
    assert (await me(client, a))["level1_count"] == 1
