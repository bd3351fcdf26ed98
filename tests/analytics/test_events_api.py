"""POST /events: what the shop may send (views, shares, share opens), stored once; everything else refused."""

from __future__ import annotations

import pytest

from fissionmall.analytics.kinds import SERVER_KINDS
from tests.analytics.helpers import EVENTS, code, events
from tests.distribution.helpers import configure, distributor
from tests.helpers import admin, shopper


async def test_a_view_and_a_share_open_are_stored_with_tool_campaign_and_distributor(client, db):
    boss = await admin(client, db)
    await configure(client, boss)
    _, share_code = await distributor(client, db, "dist")
    me = await shopper(client, "viewer")
    r = await client.post(EVENTS, json={"type": "page_view", "page": "groupbuy:12", "product_id": 5}, headers=me)
    assert r.status_code == 202 and r.json() == {"received": 1, "stored": 1}, r.text
    body = {"events": [{"type": "share_open", "page": "seckill:3", "ref": share_code.lower(), "id": "a1"}]}
    r = await client.post(EVENTS, json=body, headers=me)
    assert r.status_code == 202 and r.json()["stored"] == 1, r.text
    view, opened = await events(db, "page_view", "share_open")
    me_id = int((await client.get("/api/v1/me", headers=me)).json()["id"])
    dist_id = int((await client.get("/api/v1/me", headers=await shopper(client, "dist"))).json()["id"])
    assert (view.tool, view.campaign, view.product_id, view.customer_id, view.origin) == (
        "groupbuy",
        "groupbuy:12",
        5,
        me_id,
        "client",
    )
    assert (opened.tool, opened.distributor_id, opened.ref) == ("seckill", dist_id, share_code.lower())


async def test_an_unknown_share_code_is_kept_without_a_distributor(client, db):
    r = await client.post(EVENTS, json={"type": "share_open", "ref": "NOSUCH01", "page": "product:9"})
    assert r.status_code == 202, r.text
    (e,) = await events(db, "share_open")
    assert (e.ref, e.distributor_id, e.tool, e.customer_id) == ("NOSUCH01", None, None, None)


async def test_a_batch_sent_again_is_stored_once(client, db):
    me = await shopper(client, "again")
    batch = {"events": [{"type": "page_view", "id": f"e{i}", "page": "product:1"} for i in range(3)]}
    assert (await client.post(EVENTS, json=batch, headers=me)).json() == {"received": 3, "stored": 3}
    assert (await client.post(EVENTS, json=batch, headers=me)).json() == {"received": 3, "stored": 0}
    # The same client ids from another sender are other events.
    other = await shopper(client, "other")
    assert (await client.post(EVENTS, json=batch, headers=other)).json()["stored"] == 3
    # An anonymous device is a sender of its own too.
    dev = {"X-Device-Id": "phone-1"}
    assert (await client.post(EVENTS, json=batch, headers=dev)).json()["stored"] == 3
    assert (await client.post(EVENTS, json=batch, headers=dev)).json()["stored"] == 0
    assert len(await events(db)) == 9


@pytest.mark.parametrize("kind", sorted(SERVER_KINDS))
async def test_a_server_kind_from_the_shop_is_refused_and_nothing_of_the_batch_is_stored(client, db, kind):
    me = await shopper(client, "forger")
    body = {"events": [{"type": "page_view"}, {"type": kind, "product_id": 1}]}
    r = await client.post(EVENTS, json=body, headers=me)
    assert r.status_code == 403 and code(r) == "EVENT_KIND_SERVER_ONLY", r.text
    assert r.json()["error"]["detail"] == {"index": 1, "type": kind}
    r = await client.post(EVENTS, json={"type": kind}, headers=me)
    assert r.status_code == 403 and code(r) == "EVENT_KIND_SERVER_ONLY"
    assert await events(db) == []


@pytest.mark.parametrize("kind", ["order_pay", "PAGE_VIEW", "view", "page_view ", "x" * 32])
async def test_an_unknown_type_is_refused(client, db, kind):
    r = await client.post(EVENTS, json={"events": [{"type": "share"}, {"type": kind}]})
    assert r.status_code == 422 and code(r) == "EVENT_TYPE_UNKNOWN", r.text
    assert await events(db) == []


async def test_batches_too_big_or_empty_are_refused_with_codes(client, db):
    ok = {"events": [{"type": "page_view"}] * 50}
    assert (await client.post(EVENTS, json=ok)).status_code == 202
    r = await client.post(EVENTS, json={"events": [{"type": "page_view"}] * 51})
    assert r.status_code == 413 and code(r) == "EVENT_BATCH_TOO_LARGE", r.text
    r = await client.post(EVENTS, json={"events": [{"type": "page_view"}] * 5000})
    assert r.status_code == 422, r.text  # refused while parsing
    r = await client.post(EVENTS, json={"events": []})
    assert r.status_code == 422 and code(r) == "EVENT_BATCH_EMPTY", r.text
    assert len(await events(db)) == 50


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"type": 5},
        {"type": "page_view", "product_id": "5"},
        {"type": "page_view", "product_id": 0},
        {"type": "page_view", "product_id": 2**63},
        {"type": "page_view", "page": "Group Buy"},
        {"type": "page_view", "page": "groupbuy:" + "9" * 19},
        {"type": "page_view", "id": "has space"},
        {"type": "page_view", "id": "x" * 33},
        {"type": "page_view", "ref": "r" * 65},
        {"type": "page_view", "at": "2026-12-07T10:00:00"},
        {"type": "page_view", "at": "9999-12-31T00:00:00Z"},
        {"type": "page_view", "amount_fen": 100},
        {"type": "page_view", "customer_id": 1},
    ],
)
async def test_bad_fields_are_422_and_nothing_is_stored(client, db, event):
    r = await client.post(EVENTS, json=event)
    assert r.status_code == 422, r.text
    r = await client.post(EVENTS, json={"events": [event]})
    assert r.status_code == 422, r.text
    assert await events(db) == []


async def test_a_bad_body_is_422(client, db):
    for body in (None, [], "page_view", {"events": "x"}, {"events": [{"type": "page_view"}], "type": "share"}):
        r = await client.post(EVENTS, json=body)
        assert r.status_code == 422, (body, r.text)
    r = await client.post(EVENTS, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and code(r) == "MALFORMED_JSON"  # as on every route


async def test_a_shopper_is_rate_limited_and_another_is_not(client, db):
    me = await shopper(client, "busy")
    for _ in range(60):
        r = await client.post(EVENTS, json={"type": "page_view"}, headers=me)
        assert r.status_code == 202, r.text
    r = await client.post(EVENTS, json={"type": "page_view"}, headers=me)
    assert r.status_code == 429 and code(r) == "RATE_LIMITED", r.text
    # A new device id does not help a logged-in shopper: the limit is theirs.
    r = await client.post(EVENTS, json={"type": "page_view"}, headers={**me, "X-Device-Id": "fresh"})
    assert r.status_code == 429
    other = await shopper(client, "calm")
    assert (await client.post(EVENTS, json={"type": "page_view"}, headers=other)).status_code == 202
    assert len(await events(db)) == 61


async def test_an_anonymous_device_is_rate_limited_per_device(client, db):
    for _ in range(60):
        assert (await client.post(EVENTS, json={"type": "share"}, headers={"X-Device-Id": "d1"})).status_code == 202
    r = await client.post(EVENTS, json={"type": "share"}, headers={"X-Device-Id": "d1"})
    assert r.status_code == 429 and code(r) == "RATE_LIMITED"
    assert (await client.post(EVENTS, json={"type": "share"}, headers={"X-Device-Id": "d2"})).status_code == 202


async def test_a_time_far_from_the_servers_is_replaced_by_the_arrival(client, db):
    from datetime import timedelta

    from fissionmall.core import clock

    now = clock.now()
    near = (now - timedelta(minutes=3)).isoformat()
    far = (now - timedelta(days=30)).isoformat()
    body = {"events": [{"type": "page_view", "at": near, "id": "n"}, {"type": "page_view", "at": far, "id": "f"}]}
    assert (await client.post(EVENTS, json=body, headers={"X-Device-Id": "d"})).status_code == 202
    a, b = await events(db)
    assert abs((a.at - (now - timedelta(minutes=3))).total_seconds()) < 1
    assert abs((b.at - now).total_seconds()) < 60
