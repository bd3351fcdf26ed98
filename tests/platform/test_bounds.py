"""One set of bounds shared by the schemas and the columns (issue 24): whatever a request sends is either
refused with a 4xx and a code, or stored and shown back; nothing is saved that then breaks a page."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import update

from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.core.schemas import EARLIEST, LATEST, MAX_BIGINT, MAX_FEN
from fissionmall.coupons.models import CouponTemplate
from fissionmall.groupbuy.models import GroupActivity
from fissionmall.promotions.models import Promotion
from fissionmall.seckill.models import SeckillSession
from tests.conftest import running_app
from tests.console_helpers import console
from tests.helpers import ADDRESS, admin, product, shopper
from tests.platform.test_bad_input import snapshot

ADMIN = "/api/admin/v1"
SHOP_LISTS = [
    "/api/v1/seckill/sessions",
    "/api/v1/coupons",
    "/api/v1/promotions",
    "/api/v1/groupbuy/activities",
    "/api/v1/points/mall",
    "/api/v1/bargain/activities",
]
CONSOLE_LISTS = [
    "/admin/seckill",
    "/admin/coupons",
    "/admin/promotions",
    "/admin/groupbuy",
    "/admin/points-mall",
    "/admin/bargain",
]
# "Never ends" habits and their mirror image, and one second past each edge of the window.
FAR = ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59+08:00", "0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z"]
PAST_EDGE = ["2100-01-01T00:00:01Z", "1999-12-31T23:59:59Z"]


def iso(days: float = 0) -> str:
    return (clock.now() + timedelta(days=days)).isoformat()


def seckill_body(sku: int, *, starts: str | None = None, ends: str | None = None, price: int = 990) -> dict[str, Any]:
    item = {"sku_id": sku, "price_fen": price, "stock": 5}
    return {"title": "10点场", "starts_at": starts or iso(-1), "ends_at": ends or iso(1), "items": [item]}


def coupon_body(**over: Any) -> dict[str, Any]:
    return {"name": "满100减20", "kind": "amount", "amount_fen": 2000, "threshold_fen": 10_000, "valid_days": 7, **over}


def promotion_body(**over: Any) -> dict[str, Any]:
    body = {"kind": "full_reduction", "name": "满100减10", "starts_at": iso(-1), "ends_at": iso(7)}
    return {**body, "tiers": [{"threshold": 10_000, "amount_fen": 1000}], **over}


def groupbuy_body(p: dict[str, Any], **over: Any) -> dict[str, Any]:
    body = {
        "product_id": p["id"],
        "skus": [{"sku_id": p["skus"][0]["id"], "price_fen": 990}],
        "group_size": 2,
        "duration_minutes": 60,
        "starts_at": iso(-1),
        "ends_at": iso(7),
    }
    return {**body, **over}


def bargain_body(p: dict[str, Any], **over: Any) -> dict[str, Any]:
    body = {
        "product_id": p["id"],
        "sku_id": p["skus"][0]["id"],
        "target_fen": 3900,
        "helpers_needed": 5,
        "duration_minutes": 60,
        "stock": 1,
        "starts_at": iso(-1),
        "ends_at": iso(7),
    }
    return {**body, **over}


@pytest.fixture
async def world(client: httpx.AsyncClient, db: Database) -> dict[str, Any]:
    boss = await admin(client, db)
    p = await product(client, boss, stock=100, prices=(MAX_FEN,))
    return {"boss": boss, "product": p, "sku": p["skus"][0]["id"]}


async def assert_shop_lists_answer(client: httpx.AsyncClient, boss: dict[str, str]) -> None:
    me = await shopper(client, "lists")
    for path in SHOP_LISTS:
        r = await client.get(path, headers=me)
        assert r.status_code == 200, (path, r.text)
        assert "+08:05:43" not in r.text
    for path in (
        "/seckill/sessions",
        "/coupons/templates",
        "/promotions",
        "/groupbuy/activities",
        "/bargain/activities",
    ):
        r = await client.get(ADMIN + path, headers=boss)
        assert r.status_code == 200, (path, r.text)


def _refused(r: httpx.Response, what: str) -> None:
    assert (r.status_code, r.json()["error"]["code"]) == (422, "VALIDATION_ERROR"), (what, r.text)


# ---- 1. times: a window at the schema, and pages that render whatever the database holds -----------------


async def test_times_outside_the_window_are_refused_and_the_shop_lists_stay_up(client, db, world):
    boss, sku, p = world["boss"], world["sku"], world["product"]
    before = await snapshot(db)
    for far in FAR:
        creates = [
            ("/seckill/sessions", seckill_body(sku, ends=far)),
            ("/seckill/sessions", seckill_body(sku, starts=far, ends=far)),
            ("/coupons/templates", coupon_body(valid_days=None, valid_until=far)),
            ("/coupons/templates", coupon_body(claim_until=far)),
            ("/promotions", promotion_body(ends_at=far)),
            ("/groupbuy/activities", groupbuy_body(p, ends_at=far)),
            ("/bargain/activities", bargain_body(p, ends_at=far)),
        ]
        for path, body in creates:
            r = await client.post(ADMIN + path, json=body, headers=boss)
            _refused(r, (path, far))
            assert any(d["type"] == "datetime_out_of_window" for d in r.json()["error"]["detail"]), r.text
    assert await snapshot(db) == before
    await assert_shop_lists_answer(client, boss)

    # Edits are held to the same window.
    sess = (
        await client.post(f"{ADMIN}/seckill/sessions", json=seckill_body(sku, starts=iso(1), ends=iso(2)), headers=boss)
    ).json()
    tpl = (await client.post(f"{ADMIN}/coupons/templates", json=coupon_body(), headers=boss)).json()
    promo = (await client.post(f"{ADMIN}/promotions", json=promotion_body(), headers=boss)).json()
    act = (await client.post(f"{ADMIN}/groupbuy/activities", json=groupbuy_body(p), headers=boss)).json()
    for far in PAST_EDGE + FAR[:1]:
        for path, body in [
            (f"/seckill/sessions/{sess['id']}", {"ends_at": far}),
            (f"/coupons/templates/{tpl['id']}", {"valid_until": far, "valid_days": None}),
            (f"/promotions/{promo['id']}", {"ends_at": far}),
            (f"/groupbuy/activities/{act['id']}", {"ends_at": far}),
        ]:
            _refused(await client.put(ADMIN + path, json=body, headers=boss), (path, far))
    await assert_shop_lists_answer(client, boss)


async def test_the_console_form_refuses_a_flash_sale_outside_the_window(client, db, world):
    csrf = await console(client, db, "owner")
    form = {"csrf_token": csrf, "title": "远期场", "starts_at": "9999-12-31T10:00", "ends_at": "9999-12-31T23:00"}
    form |= {"sku_id": str(world["sku"]), "price": "9.9", "stock": "5", "limit": "1"}
    before = await snapshot(db)
    r = await client.post("/admin/seckill/new", data=form)
    assert r.status_code == 422 and "请选择开始时间" in r.text and "请选择结束时间" in r.text
    # A pool past the API's bound is the form's error too, not the database's.
    in_window = {"starts_at": "2030-01-01T10:00", "ends_at": "2030-01-01T12:00"}
    r = await client.post("/admin/seckill/new", data=form | in_window | {"stock": "9" * 20})
    assert r.status_code == 422 and "秒杀库存须为 1 到 100000000 的整数" in r.text
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    "when",
    [datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)],
    ids=["year-9999", "year-1"],
)
async def test_a_row_from_before_the_bounds_cannot_take_a_page_down(client, db, world, when):
    """Rows saved before the window existed (only SQL could have made them now) still render everywhere."""
    boss, sku, p = world["boss"], world["sku"], world["product"]
    for path, body in [
        ("/seckill/sessions", seckill_body(sku)),
        ("/coupons/templates", coupon_body(valid_days=None, valid_until=iso(3))),
        ("/promotions", promotion_body()),
        ("/groupbuy/activities", groupbuy_body(p)),
    ]:
        r = await client.post(ADMIN + path, json=body, headers=boss)
        assert r.status_code == 201, r.text
    async with db.tx() as s:
        await s.execute(update(SeckillSession).values(ends_at=when))
        await s.execute(update(CouponTemplate).values(valid_until=when))
        await s.execute(update(Promotion).values(ends_at=when))
        await s.execute(update(GroupActivity).values(ends_at=when))
    await assert_shop_lists_answer(client, boss)
    body = (await client.get(f"{ADMIN}/seckill/sessions", headers=boss)).json()["items"][0]
    assert body["ends_at"].startswith(f"{when.year:04d}-") and body["ends_at"].endswith("+00:00")  # UTC, no LMT
    await console(client, db, "owner")
    for path in CONSOLE_LISTS:
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text[:300])


async def test_the_window_edges_themselves_are_accepted_in_any_offset(client, world):
    boss = world["boss"]
    body = promotion_body(starts_at="2000-01-01T08:00:00+08:00", ends_at="2099-12-31T19:00:00-05:00")
    r = await client.post(f"{ADMIN}/promotions", json=body, headers=boss)
    assert r.status_code == 201, r.text
    assert (r.json()["starts_at"], r.json()["ends_at"]) == ("2000-01-01T08:00:00+08:00", "2100-01-01T08:00:00+08:00")


# ---- 2. money: every fen column is BIGINT, so the schema's MAX_FEN is what the database holds -------------


async def test_money_at_the_bound_is_stored_and_one_past_it_is_refused(client, db, world):
    boss, sku, p = world["boss"], world["sku"], world["product"]
    assert p["skus"][0]["price_fen"] == MAX_FEN  # the fixture's product is priced at the bound
    r = await client.get(f"/api/v1/products/{p['id']}")
    assert r.json()["skus"][0]["price_fen"] == MAX_FEN
    at_bound = [
        ("/coupons/templates", coupon_body(amount_fen=MAX_FEN, threshold_fen=MAX_FEN), "amount_fen"),
        ("/seckill/sessions", seckill_body(sku, price=MAX_FEN - 1), None),
        ("/promotions", promotion_body(kind="free_shipping", threshold=MAX_FEN, tiers=[]), "threshold"),
        ("/groupbuy/activities", groupbuy_body(p, skus=[{"sku_id": sku, "price_fen": MAX_FEN - 1}]), None),
    ]
    for path, body, field in at_bound:
        r = await client.post(ADMIN + path, json=body, headers=boss)
        assert r.status_code == 201, (path, r.text)
        if field:
            assert r.json()[field] == MAX_FEN
    before = await snapshot(db)
    past = [
        ("/products", {"title": "贵", "skus": [{"name": "a", "price_fen": MAX_FEN + 1}]}),
        ("/coupons/templates", coupon_body(amount_fen=MAX_FEN + 1, threshold_fen=MAX_FEN + 1)),
        ("/coupons/templates", coupon_body(threshold_fen=MAX_FEN + 1)),
        ("/seckill/sessions", seckill_body(sku, price=MAX_FEN + 1)),
        ("/promotions", promotion_body(kind="free_shipping", threshold=MAX_FEN + 1, tiers=[])),
        ("/promotions", promotion_body(tiers=[{"threshold": MAX_FEN, "amount_fen": MAX_FEN + 1}])),
        ("/groupbuy/activities", groupbuy_body(p, skus=[{"sku_id": sku, "price_fen": MAX_FEN + 1}])),
        ("/groupbuy/activities", groupbuy_body(p, leader_discount_fen=MAX_FEN + 1)),
    ]
    for path, body in past:
        _refused(await client.post(ADMIN + path, json=body, headers=boss), path)
    assert await snapshot(db) == before


async def test_an_order_at_the_money_bound_is_priced_stored_and_shown(client, db, world):
    """Sums of bounded amounts (price × qty) fit the BIGINT order columns too."""
    me = await shopper(client, "rich")
    body = {"items": [{"sku_id": world["sku"], "qty": 99}], "address": ADDRESS}
    r = await client.post("/api/v1/orders", json=body, headers=me)
    assert r.status_code == 201, r.text
    got = (await client.get(f"/api/v1/orders/{r.json()['id']}", headers=me)).json()
    assert got["goods_fen"] == MAX_FEN * 99 > 2**31


# ---- 3. cursors: no larger than a BIGINT ------------------------------------------------------------------


@pytest.mark.parametrize("cursor", ["9" * 20, "9" * 30, str(MAX_BIGINT + 1), "-5", "+5", "1_0", "٣", " 7"])
async def test_a_cursor_past_bigint_is_a_400_on_api_and_console_lists(client, db, world, cursor):
    r = await client.get("/api/v1/products", params={"cursor": cursor})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "CURSOR_INVALID"), r.text
    r = await client.get(f"{ADMIN}/promotions", params={"cursor": cursor}, headers=world["boss"])
    assert (r.status_code, r.json()["error"]["code"]) == (400, "CURSOR_INVALID"), r.text
    await console(client, db, "owner")
    r = await client.get("/admin/products", params={"cursor": cursor})
    assert r.status_code == 200  # the console shows the first page
    r = await client.get("/admin/seckill", params={"cursor": cursor})
    assert r.status_code == 200


async def test_the_largest_cursor_is_just_an_empty_page(client, world):
    r = await client.get("/api/v1/products", params={"cursor": str(MAX_BIGINT)})
    assert r.status_code == 200 and len(r.json()["items"]) == 1  # every id is below it


# ---- 4. control characters: refused everywhere, once --------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\ud800"], ids=repr)
async def test_control_characters_are_refused_in_bodies_queries_and_forms(client, db, world, char):
    boss, sku = world["boss"], world["sku"]
    me = await shopper(client, "nul")
    csrf = await console(client, db, "owner")
    before = await snapshot(db)
    bodies = [
        (f"{ADMIN}/products", {"title": f"橙{char}子", "skus": [{"name": "a", "price_fen": 1}]}, boss),
        (f"{ADMIN}/products", {"title": "橙子", "skus": [{"name": f"a{char}", "price_fen": 1}]}, boss),
        ("/api/v1/orders", {"items": [{"sku_id": sku, "qty": 1}], "address": {**ADDRESS, "detail": f"1{char}号"}}, me),
        ("/api/v1/orders", {"items": [{"sku_id": sku, "qty": 1}], "address": ADDRESS, "remark": char}, me),
        (f"{ADMIN}/coupons/templates", coupon_body(description=f"x{char}"), boss),
    ]
    for path, body, who in bodies:
        # ASCII-escaped JSON, as most clients send it (and the only way to send a lone surrogate at all).
        r = await client.post(path, content=json.dumps(body), headers={**who, "content-type": "application/json"})
        _refused(r, (path, body))
        assert r.json()["error"]["detail"][0]["type"] == "invalid_character"
    if char != "\ud800":  # a lone surrogate cannot even be put in a URL or a form: UTF-8 cannot encode it
        for path in ("/api/v1/products", f"{ADMIN}/orders"):
            _refused(await client.get(path, params={"q": f"橙{char}"}, headers=boss), path)
        quoted = char.encode().hex("%").upper()
        r = await client.get(f"/api/v1/seckill/attempts/a%{quoted}b", headers=me)
        _refused(r, "path")
        r = await client.post("/admin/products/new", data={"csrf_token": csrf, "title": f"橙{char}子"})
        _refused(r, "console form")
    assert await snapshot(db) == before


async def test_tabs_and_line_breaks_are_kept(client, world):
    body = {"title": "橙子", "description": "第一行\r\n第二行\t完", "skus": [{"name": "a", "price_fen": 1}]}
    r = await client.post(f"{ADMIN}/products", json=body, headers=world["boss"])
    assert r.status_code == 201 and r.json()["description"] == "第一行\r\n第二行\t完"


async def test_the_flash_sale_fast_lane_refuses_control_characters_too(app, world, client):
    from fissionmall.seckill.fast import FastAttempts

    me = await shopper(client, "fast")
    sess = (
        await client.post(f"{ADMIN}/seckill/sessions", json=seckill_body(world["sku"]), headers=world["boss"])
    ).json()
    lane = FastAttempts(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=lane), base_url="http://shop.test") as fast:
        body = {"qty": 1, "token": "t", "address": {**ADDRESS, "name": "张\x00三"}}
        r = await fast.post(f"/api/v1/seckill/items/{sess['items'][0]['id']}/attempts", json=body, headers=me)
    _refused(r, "fast lane")
    assert r.json()["error"]["detail"][0]["type"] == "invalid_character"


# ---- 5. explicit null: clears a field that can be empty, refused for one that cannot -----------------------


async def test_explicit_null_is_refused_where_the_column_cannot_be_empty(client, db, world):
    boss, sku, p = world["boss"], world["sku"], world["product"]
    sess = (
        await client.post(f"{ADMIN}/seckill/sessions", json=seckill_body(sku, starts=iso(1), ends=iso(2)), headers=boss)
    ).json()
    tpl = (await client.post(f"{ADMIN}/coupons/templates", json=coupon_body(), headers=boss)).json()
    promo = (await client.post(f"{ADMIN}/promotions", json=promotion_body(), headers=boss)).json()
    act = (await client.post(f"{ADMIN}/groupbuy/activities", json=groupbuy_body(p), headers=boss)).json()
    before = await snapshot(db)
    cases = [
        (f"/products/{p['id']}", ["title", "description", "images", "labels", "status", "skus"]),
        (f"/coupons/templates/{tpl['id']}", ["name", "amount_fen", "threshold_fen", "percent_bp", "scope", "status"]),
        (f"/promotions/{promo['id']}", ["name", "starts_at", "ends_at", "tiers", "threshold", "status"]),
        (f"/seckill/sessions/{sess['id']}", ["title", "starts_at", "ends_at", "items"]),
        (f"/groupbuy/activities/{act['id']}", ["title", "ends_at", "group_size", "leader_discount_fen", "skus"]),
    ]
    for path, fields in cases:
        for field in fields:
            r = await client.put(ADMIN + path, json={field: None}, headers=boss)
            _refused(r, (path, field))
            assert r.json()["error"]["detail"][0]["type"] == "null_not_allowed", r.text
    item = {"id": sess["items"][0]["id"], "price_fen": None}
    _refused(await client.put(f"{ADMIN}/seckill/sessions/{sess['id']}", json={"items": [item]}, headers=boss), "item")
    assert await snapshot(db) == before
    # Left out, the same fields are kept.
    r = await client.put(f"{ADMIN}/coupons/templates/{tpl['id']}", json={}, headers=boss)
    assert r.status_code == 200 and r.json()["amount_fen"] == 2000


async def test_explicit_null_clears_a_field_that_can_be_empty(client, world):
    boss, p = world["boss"], world["product"]
    tpl = (
        await client.post(f"{ADMIN}/coupons/templates", json=coupon_body(claim_until=iso(5), total=10), headers=boss)
    ).json()
    r = await client.put(
        f"{ADMIN}/coupons/templates/{tpl['id']}", json={"claim_until": None, "total": None}, headers=boss
    )
    assert r.status_code == 200, r.text
    assert (r.json()["claim_until"], r.json()["total"]) == (None, None)  # claimable for ever, unlimited
    r = await client.put(f"/api/admin/v1/products/{p['id']}", json={"category": None}, headers=boss)
    assert r.status_code == 200 and r.json()["category"] is None


# ---- 6. database errors: classified by the driver's cause, never a 500 --------------------------------------


async def test_database_errors_are_answered_by_their_driver_cause(app, client):
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    class PgError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    def wrapped(cause: BaseException) -> DBAPIError:
        # What SQLAlchemy 2.1 raises for asyncpg: the plain DBAPIError around the adapter's error.
        return DBAPIError("INSERT ...", {}, cause)

    def overflow_in_argument() -> BaseException:
        try:
            raise OverflowError("value out of int32 range")
        except OverflowError as exc:
            try:
                raise PgError("22000") from exc
            except PgError as outer:
                return outer

    cases = [
        (wrapped(overflow_in_argument()), 400, "VALUE_OUT_OF_RANGE"),
        (wrapped(PgError("22003")), 400, "VALUE_OUT_OF_RANGE"),
        (wrapped(PgError("22001")), 400, "VALUE_TOO_LONG"),
        (wrapped(PgError("22021")), 400, "INVALID_VALUE"),
        (wrapped(PgError("22P05")), 400, "INVALID_VALUE"),
        (wrapped(PgError("23505")), 409, "CONFLICT"),
        (wrapped(sqlite3.IntegrityError("UNIQUE constraint failed")), 409, "CONFLICT"),
    ]

    def raising(exc: BaseException) -> Any:
        async def boom() -> None:
            raise exc

        return boom

    for i, (exc, status, code) in enumerate(cases):
        app.add_api_route(f"/test-only/db-{i}", raising(exc))
        r = await client.get(f"/test-only/db-{i}")
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (i, r.text)


async def test_a_database_error_that_is_our_bug_stays_a_500(app, settings):
    from sqlalchemy.exc import DBAPIError

    async def bug() -> None:
        raise DBAPIError("SELECT 1", {}, RuntimeError("connection reset"))

    app.add_api_route("/test-only/db-bug", bug)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as c:
        assert (await c.get("/test-only/db-bug")).status_code == 500


# ---- 7. the largest accepted values round-trip through the database and the API -----------------------------

big_fen = st.integers(min_value=2**31, max_value=MAX_FEN)
# An end time at or near the window's edges; start times are EARLIEST itself.
edge_time = st.sampled_from([LATEST, LATEST - timedelta(microseconds=1), EARLIEST + timedelta(seconds=1)])
# Few examples, no shrinking: each example starts an app, and a failure's example is plain enough unshrunk.
PROPERTY = hsettings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    phases=[Phase.explicit, Phase.generate],
)


@PROPERTY
@given(price=big_fen, stock=st.sampled_from([100_000_000, 99_999_999]))
@example(price=MAX_FEN, stock=100_000_000)
def test_product_price_and_stock_round_trip(settings, price, stock):
    async def run(client: httpx.AsyncClient, db: Database) -> None:
        boss = await admin(client, db)
        p = await product(client, boss, stock=stock, prices=(price,))
        got = (await client.get(f"/api/v1/products/{p['id']}")).json()["skus"][0]
        assert (got["price_fen"], got["stock"]) == (price, stock)

    _run(settings, run)


@PROPERTY
@given(amount=big_fen, threshold=big_fen, percent_cap=big_fen)
@example(amount=MAX_FEN, threshold=MAX_FEN, percent_cap=MAX_FEN)
def test_coupon_amounts_round_trip(settings, amount, threshold, percent_cap):
    threshold = max(amount, threshold)

    async def run(client: httpx.AsyncClient, db: Database) -> None:
        boss = await admin(client, db)
        for body in (
            coupon_body(amount_fen=amount, threshold_fen=threshold),
            coupon_body(kind="percent", amount_fen=0, percent_bp=9999, max_discount_fen=percent_cap),
        ):
            r = await client.post(f"{ADMIN}/coupons/templates", json=body, headers=boss)
            assert r.status_code == 201, r.text
            got = (await client.get(f"{ADMIN}/coupons/templates/{r.json()['id']}", headers=boss)).json()
            for k in ("amount_fen", "threshold_fen", "max_discount_fen"):
                assert got[k] == body.get(k, 0 if k != "max_discount_fen" else None)
        shop = (await client.get("/api/v1/coupons", headers=await shopper(client, "c"))).json()
        assert {c["threshold_fen"] for c in shop} >= {threshold}

    _run(settings, run)


@PROPERTY
@given(threshold=big_fen, amount=big_fen, end=edge_time)
@example(threshold=MAX_FEN, amount=MAX_FEN, end=LATEST)
def test_promotion_amounts_and_times_round_trip(settings, threshold, amount, end):
    start = EARLIEST

    async def run(client: httpx.AsyncClient, db: Database) -> None:
        boss = await admin(client, db)
        tiers = [{"threshold": max(threshold, amount), "amount_fen": amount}]
        for body in (
            promotion_body(tiers=tiers, starts_at=start.isoformat(), ends_at=end.isoformat()),
            promotion_body(
                kind="free_shipping",
                threshold=threshold,
                tiers=[],
                starts_at=start.isoformat(),
                ends_at=end.isoformat(),
            ),
        ):
            r = await client.post(f"{ADMIN}/promotions", json=body, headers=boss)
            assert r.status_code == 201, r.text
            got = (await client.get(f"{ADMIN}/promotions/{r.json()['id']}", headers=boss)).json()
            assert got["threshold"] == body.get("threshold", 0)
            assert [(t["threshold"], t["amount_fen"]) for t in got["tiers"]] == [
                (t["threshold"], t["amount_fen"]) for t in body["tiers"]
            ]
            assert datetime.fromisoformat(got["ends_at"]) == end
        assert (await client.get("/api/v1/promotions")).status_code == 200

    _run(settings, run)


@PROPERTY
@given(price=big_fen, end=edge_time)
@example(price=MAX_FEN - 1, end=LATEST)
def test_seckill_price_and_times_round_trip(settings, price, end):
    async def run(client: httpx.AsyncClient, db: Database) -> None:
        boss = await admin(client, db)
        p = await product(client, boss, stock=100, prices=(MAX_FEN,))
        body = seckill_body(p["skus"][0]["id"], price=min(price, MAX_FEN - 1), starts=EARLIEST.isoformat())
        body["ends_at"] = max(end, EARLIEST + timedelta(seconds=1)).isoformat()
        r = await client.post(f"{ADMIN}/seckill/sessions", json=body, headers=boss)
        assert r.status_code == 201, r.text
        got = (await client.get(f"{ADMIN}/seckill/sessions/{r.json()['id']}", headers=boss)).json()
        assert got["items"][0]["price_fen"] == body["items"][0]["price_fen"]
        assert datetime.fromisoformat(got["starts_at"]) == EARLIEST
        assert datetime.fromisoformat(got["ends_at"]) == datetime.fromisoformat(body["ends_at"])
        assert (await client.get("/api/v1/seckill/sessions")).status_code == 200

    _run(settings, run)


@PROPERTY
@given(price=big_fen, end=edge_time)
@example(price=MAX_FEN - 1, end=LATEST)
def test_groupbuy_price_and_times_round_trip(settings, price, end):
    async def run(client: httpx.AsyncClient, db: Database) -> None:
        boss = await admin(client, db)
        p = await product(client, boss, stock=100, prices=(MAX_FEN,))
        price_fen = min(price, MAX_FEN - 1)
        body = groupbuy_body(p, skus=[{"sku_id": p["skus"][0]["id"], "price_fen": price_fen}])
        body |= {"starts_at": EARLIEST.isoformat(), "ends_at": max(end, EARLIEST + timedelta(days=1)).isoformat()}
        r = await client.post(f"{ADMIN}/groupbuy/activities", json=body, headers=boss)
        assert r.status_code == 201, r.text
        got = (await client.get(f"{ADMIN}/groupbuy/activities/{r.json()['id']}", headers=boss)).json()
        assert got["skus"][0]["price_fen"] == price_fen
        assert datetime.fromisoformat(got["ends_at"]) == datetime.fromisoformat(body["ends_at"])
        assert (await client.get("/api/v1/groupbuy/activities")).status_code == 200

    _run(settings, run)


def _run(settings: Any, body: Any) -> None:
    """One Hypothesis example on a fresh app and emptied tables (fixtures are per test, examples are not)."""
    import asyncio

    async def go() -> None:
        async with running_app(settings) as application:
            from fissionmall.core.db import get_db

            transport = httpx.ASGITransport(app=application, client=("10.1.2.3", 5555))
            async with httpx.AsyncClient(transport=transport, base_url="http://shop.test", timeout=60) as c:
                await body(c, get_db())

    asyncio.run(go())
