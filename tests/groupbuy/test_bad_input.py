"""Bad input: a 4xx with a stable code, nothing reserved, the database exactly as it was."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from fissionmall.core import clock
from tests.groupbuy.helpers import ADMIN, API, activity_body, join, make_activity, opened_and_paid, order_body
from tests.helpers import ADDRESS, admin, product, run_jobs, shopper
from tests.platform.test_bad_input import snapshot


@pytest.fixture
async def world(client, db) -> dict[str, Any]:
    boss = await admin(client, db)
    p = await product(client, boss, stock=50, prices=(1990, 2990))
    other = await product(client, boss, stock=5, title="别的商品")
    act = await make_activity(client, boss, p, group_size=2, per_order_limit=2, duration_minutes=60)
    later = await make_activity(
        client,
        boss,
        p,
        starts_at=(clock.now() + timedelta(days=1)).isoformat(),
        ends_at=(clock.now() + timedelta(days=2)).isoformat(),
    )
    sku = act["skus"][0]["sku_id"]
    leader, friend, me = await shopper(client, "bl"), await shopper(client, "bf"), await shopper(client, "bme")
    full, _ = await opened_and_paid(client, leader, act)
    await run_jobs(db)
    r = await join(client, friend, full, sku)
    from tests.helpers import pay

    await pay(client, friend, r.json()["order"]["id"])
    forming, _ = await opened_and_paid(client, leader, act)
    mine, _ = await opened_and_paid(client, me, act)
    to_fail, _ = await opened_and_paid(client, friend, act)
    await run_jobs(db)
    # `to_fail` and every other forming group expire; `forming2` is opened after and stays open.
    clock.advance(3601)
    await run_jobs(db)
    forming2, _ = await opened_and_paid(client, leader, act)
    pending = (await client.post(f"{API}/activities/{act['id']}/groups", json=order_body(sku), headers=friend)).json()
    await run_jobs(db)
    return {
        "boss": boss,
        "me": me,
        "act": act["id"],
        "later": later["id"],
        "sku": sku,
        "other_sku": other["skus"][0]["id"],
        "unlisted_sku": p["skus"][1]["id"],
        "full": full,
        "failed": to_fail,
        "expired": forming,
        "mine": forming2,
        "forming": forming2,
        "pending": pending["group_id"],
        "product": p,
        "leader_open_own": mine,
    }


def _join(key: str, sku: str = "sku", qty: int = 1, who: str = "me") -> Any:
    return lambda w: ("POST", f"{API}/groups/{w[key]}/join", {"sku_id": w[sku], "qty": qty, "address": ADDRESS}, who)


def _open(act: str = "act", sku: str = "sku", qty: Any = 1) -> Any:
    return lambda w: (
        "POST",
        f"{API}/activities/{w[act]}/groups",
        {"sku_id": w[sku], "qty": qty, "address": ADDRESS},
        "me",
    )


CASES = [
    ("join a full group", _join("full"), 409, "GROUP_FULL"),
    ("join a failed group", _join("failed"), 409, "GROUP_FAILED"),
    ("join an expired group", _join("expired"), 409, "GROUP_FAILED"),
    ("join a group whose leader has not paid", _join("pending"), 409, "GROUP_NOT_OPEN"),
    (
        "join an unknown group",
        lambda w: ("POST", f"{API}/groups/999999/join", order_body(w["sku"]), "me"),
        404,
        "GROUP_NOT_FOUND",
    ),
    ("join my own group", _join("forming", who="leader"), 409, "GROUP_OWN"),
    ("a SKU not in the activity", _open(sku="unlisted_sku"), 400, "SKU_NOT_IN_ACTIVITY"),
    ("a SKU of another product", _join("forming", sku="other_sku"), 400, "SKU_NOT_IN_ACTIVITY"),
    ("qty beyond the per-order limit", _open(qty=3), 400, "QTY_LIMIT_EXCEEDED"),
    ("qty zero", _open(qty=0), 422, "VALIDATION_ERROR"),
    ("qty as a string", _open(qty="1"), 422, "VALIDATION_ERROR"),
    ("an activity not started", _open(act="later"), 409, "ACTIVITY_NOT_STARTED"),
    (
        "an unknown activity",
        lambda w: ("POST", f"{API}/activities/999999/groups", order_body(w["sku"]), "me"),
        404,
        "ACTIVITY_NOT_FOUND",
    ),
    (
        "no address",
        lambda w: ("POST", f"{API}/activities/{w['act']}/groups", {"sku_id": w["sku"], "qty": 1}, "me"),
        400,
        "ADDRESS_REQUIRED",
    ),
    (
        "group id out of range",
        lambda w: ("POST", f"{API}/groups/0/join", order_body(w["sku"]), "me"),
        422,
        "VALIDATION_ERROR",
    ),
    (
        "admin: group price as a string",
        lambda w: (
            "POST",
            f"{ADMIN}/activities",
            {**activity_body(w["product"]), "skus": [{"sku_id": w["sku"], "price_fen": "9.9"}]},
            "boss",
        ),
        422,
        "VALIDATION_ERROR",
    ),
    (
        "admin: group price above the SKU price",
        lambda w: (
            "POST",
            f"{ADMIN}/activities",
            {**activity_body(w["product"]), "skus": [{"sku_id": w["sku"], "price_fen": 5000}]},
            "boss",
        ),
        400,
        "GROUP_PRICE_TOO_HIGH",
    ),
    (
        "admin: group of one",
        lambda w: ("POST", f"{ADMIN}/activities", activity_body(w["product"], group_size=1), "boss"),
        422,
        "VALIDATION_ERROR",
    ),
    (
        "admin: window backwards",
        lambda w: (
            "POST",
            f"{ADMIN}/activities",
            activity_body(
                w["product"], ends_at=clock.now().isoformat(), starts_at=(clock.now() + timedelta(days=1)).isoformat()
            ),
            "boss",
        ),
        400,
        "ACTIVITY_WINDOW_INVALID",
    ),
    (
        "admin: naive time",
        lambda w: ("POST", f"{ADMIN}/activities", activity_body(w["product"], starts_at="2026-01-01T00:00:00"), "boss"),
        422,
        "VALIDATION_ERROR",
    ),
    (
        "admin: SKU of another product",
        lambda w: (
            "POST",
            f"{ADMIN}/activities",
            {**activity_body(w["product"]), "skus": [{"sku_id": w["other_sku"], "price_fen": 100}]},
            "boss",
        ),
        400,
        "SKU_NOT_IN_PRODUCT",
    ),
    (
        "admin: stock below what is sold",
        lambda w: ("PUT", f"{ADMIN}/activities/{w['act']}", {"stock": 0}, "boss"),
        409,
        "STOCK_BELOW_RESERVED",
    ),
    (
        "admin: bad status filter",
        lambda w: ("GET", f"{ADMIN}/groups?status=weird", None, "boss"),
        422,
        "VALIDATION_ERROR",
    ),
]


async def test_bad_input_is_refused_and_reserves_nothing(client, db, world):
    # One world for every case (building it takes seconds); each case must leave it exactly as it was.
    leader = await shopper(client, "bl")
    for name, make, status, code in CASES:
        method, path, body, who = make(world)
        headers = {"boss": world["boss"], "me": world["me"], "leader": leader}[who]
        before = await snapshot(db)
        r = await client.request(method, path, json=body, headers=headers)
        assert r.status_code == status, (name, r.text)
        assert r.json()["error"]["code"] == code, (name, r.text)
        assert await snapshot(db) == before, name

    # A group past its time whose timer has not run yet is refused as expired.
    clock.advance(3601)
    before = await snapshot(db)
    method, path, body, _ = _join("forming")(world)
    r = await client.request(method, path, json=body, headers=world["me"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "GROUP_EXPIRED", r.text
    assert await snapshot(db) == before
