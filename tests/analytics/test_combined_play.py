"""The brief's combined play over HTTP, end to end: a shopper arrives by a distributor's share link, buys
in a flash sale, opens a group; a friend opens the group's share page and joins. Each paid order is
attributed by first and last touch to the right tool and distributor, and `summary` adds them up."""

from __future__ import annotations

from datetime import timedelta

import httpx

from fissionmall.analytics import attribution, config, recorder, seckill_copy
from fissionmall.core import clock
from fissionmall.core.db import Database
from tests.analytics.helpers import EVENTS, attributions, events
from tests.distribution.helpers import configure, customer_id, distributor
from tests.groupbuy.helpers import joined_and_paid, make_activity, opened_and_paid
from tests.helpers import admin, order, pay, product, run_jobs
from tests.seckill.helpers import attempt, drain, loosen, session


async def _login(client: httpx.AsyncClient, code: str, device: str, ref: str | None = None) -> dict[str, str]:
    body = {"code": code, **({"ref": ref} if ref else {})}
    r = await client.post("/api/v1/auth/wechat-login", json=body, headers={"X-Device-Id": device})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}", "X-Device-Id": device}


async def _flash_sale_order(client: httpx.AsyncClient, db: Database, me: dict[str, str], item_id: int) -> int:
    r = await attempt(client, me, item_id)
    assert r.status_code in (200, 202), r.text
    if r.json().get("order_id") is None:  # Redis: queued on the stream, the consumer places the order
        await drain(db)
        r = await client.get(f"/api/v1/seckill/attempts/{r.json()['attempt_id']}", headers=me)
    assert r.json()["status"] == "succeeded", r.text
    oid = int(r.json()["order_id"])
    await pay(client, me, oid)
    return oid


async def _send(client: httpx.AsyncClient, headers: dict[str, str], *events_: dict) -> None:
    r = await client.post(EVENTS, json={"events": list(events_)}, headers=headers)
    assert r.status_code == 202, r.text


async def test_link_flash_sale_group_and_a_friend_each_order_to_its_tool_and_distributor(client, db):
    boss = await admin(client, db)
    await configure(client, boss)
    await loosen(client, boss)
    dist_h, code = await distributor(client, db, "dist")
    dist_id = await customer_id(client, dist_h)
    flash = await product(client, boss, title="秒杀商品")
    groupy = await product(client, boss, title="拼团商品")
    item_id = (await session(client, boss, flash["skus"][0]["id"]))["items"][0]["id"]
    act = await make_activity(client, boss, groupy, group_size=2)

    # Alice's phone opens the distributor's link to the flash sale before she has an account.
    phone_a = {"X-Device-Id": "phone-alice"}
    await _send(
        client,
        phone_a,
        {"type": "share_open", "ref": code, "page": f"seckill:{item_id}", "product_id": flash["id"], "id": "1"},
        {"type": "page_view", "page": f"seckill:{item_id}", "product_id": flash["id"], "id": "2"},
    )
    clock.advance(60)
    alice = await _login(client, "alice", "phone-alice", ref=code)
    await run_jobs(db)  # registration: bound to the distributor
    o1 = await _flash_sale_order(client, db, alice, item_id)
    clock.advance(60)
    gid, o2 = await opened_and_paid(client, alice, act)
    await _send(client, alice, {"type": "share", "page": f"groupbuy:{act['id']}", "id": "3"})
    await run_jobs(db)

    # Bob opens Alice's group share page (no distributor's code: she is none), logs in and joins.
    clock.advance(60)
    phone_b = {"X-Device-Id": "phone-bob"}
    assert (await client.get(f"/api/v1/groupbuy/groups/{gid}", headers=phone_b)).status_code == 200
    await _send(client, phone_b, {"type": "share_open", "page": f"groupbuy:{act['id']}", "id": "1"})
    bob = await _login(client, "bob", "phone-bob")
    o3 = await joined_and_paid(client, bob, gid, act["skus"][0]["sku_id"])
    await run_jobs(db)
    async with db.tx() as s:
        assert await seckill_copy.copy_attempts(s) == 1
    async with db.tx() as s:
        assert await seckill_copy.copy_attempts(s) == 0  # copied once

    paid = {e.order_id: e.amount_fen for e in await events(db, "order_paid")}
    assert set(paid) == {o1, o2, o3}
    assert await attributions(db, o1) == {
        "first": ("distribution", dist_id, paid[o1]),  # the link brought her
        "last": ("seckill", dist_id, paid[o1]),  # the flash sale sold it; she is the distributor's
    }
    assert await attributions(db, o2) == {
        "first": ("distribution", dist_id, paid[o2]),
        "last": ("groupbuy", dist_id, paid[o2]),  # counts for both the distributor and group buying
    }
    assert await attributions(db, o3) == {"first": ("groupbuy", None, paid[o3]), "last": ("groupbuy", None, paid[o3])}

    (applied,) = await events(db, "distributor_apply")
    assert applied.customer_id == dist_id
    alice_id = await customer_id(client, alice)
    new = {e.customer_id: e.distributor_id for e in await events(db, "customer_new")}
    assert new[alice_id] == dist_id and new[await customer_id(client, bob)] is None  # she came by the link
    kinds = [e.kind for e in await events(db, "seckill_attempt", "group_open", "group_join", "share")]
    assert sorted(kinds) == ["group_join", "group_open", "seckill_attempt", "share"]
    today = recorder.shop_day(clock.now())
    async with db.read() as s:
        got = await attribution.summary(s, start=today - timedelta(days=1), end=today)
    assert {(r["model"], r["tool"], r["distributor_id"]): (r["orders"], r["paid_fen"]) for r in got} == {
        ("first", "distribution", dist_id): (2, paid[o1] + paid[o2]),
        ("first", "groupbuy", None): (1, paid[o3]),
        ("last", "seckill", dist_id): (1, paid[o1]),
        ("last", "groupbuy", dist_id): (1, paid[o2]),
        ("last", "groupbuy", None): (1, paid[o3]),
    }
    async with db.read() as s:
        assert await attribution.summary(s, start=today + timedelta(days=1), end=today + timedelta(days=9)) == []


async def test_a_link_opened_before_the_window_does_not_count_until_the_window_is_widened(client, db):
    boss = await admin(client, db)
    await configure(client, boss)
    dist_h, _code = await distributor(client, db, "dist")
    dist_id = await customer_id(client, dist_h)
    p = await product(client, boss)
    carol = await _login(client, "carol", "phone-carol")
    cid = await customer_id(client, carol)
    async with db.tx() as s:
        await recorder.record(
            s, kind="share_open", at=clock.now() - timedelta(days=8), customer_id=cid, distributor_id=dist_id
        )
    oids = []
    for days in (7, 10):
        if days != config.DEFAULT_WINDOW_DAYS:
            async with db.tx() as s:
                await config.set_window_days(s, days=days)
        r = await order(client, carol, [{"sku_id": p["skus"][0]["id"], "qty": 1}])
        assert r.status_code == 201, r.text
        await pay(client, carol, r.json()["id"])
        await run_jobs(db)
        oids.append(r.json()["id"])
    paid = {e.order_id: e.amount_fen for e in await events(db, "order_paid")}
    assert await attributions(db, oids[0]) == {
        "first": ("normal", None, paid[oids[0]]),
        "last": ("normal", None, paid[oids[0]]),
    }
    assert await attributions(db, oids[1]) == {
        "first": ("distribution", dist_id, paid[oids[1]]),
        "last": ("distribution", dist_id, paid[oids[1]]),
    }
    async with db.tx() as s:
        assert await config.get_window_days(s) == 10
        for bad in (0, 91, -1, True):
            try:
                await config.set_window_days(s, days=bad)
            except Exception as exc:
                assert getattr(exc, "code", None) == "WINDOW_DAYS_INVALID"
            else:
                raise AssertionError(f"window {bad!r} accepted")


async def test_a_top_up_is_its_own_tools_whatever_link_came_before(db):
    now = clock.now()
    async with db.tx() as s:
        await recorder.record(s, kind="share_open", at=now - timedelta(hours=1), customer_id=5, distributor_id=9)
        await recorder.record(s, kind="coupon_claim", at=now - timedelta(hours=2), customer_id=5, tool="coupons")
        for oid, source in ((101, "wallet_topup"), (102, "normal")):
            args = {"customer_id": 5, "source": source, "created_at": now, "paid_at": now, "paid_fen": 100}
            assert await attribution.attribute(s, order_id=oid, distributor_id=None, **args) == 2
            assert await attribution.attribute(s, order_id=oid, distributor_id=None, **args) == 0  # once
    assert await attributions(db, 101) == {"first": ("wallet_topup", None, 100), "last": ("wallet_topup", None, 100)}
    assert await attributions(db, 102) == {"first": ("coupons", None, 100), "last": ("distribution", 9, 100)}
