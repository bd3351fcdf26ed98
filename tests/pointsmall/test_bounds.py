"""积分商城 at the platform's bounds: times outside 2000–2100 and money past MAX_FEN are refused with a
code; a row saved before the bounds existed (year 9999 or 1, only SQL could make it) still renders in the
shop's list, the admin API and the console."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from fissionmall.core.schemas import MAX_FEN
from fissionmall.pointsmall.models import MallItem
from tests.console_helpers import console
from tests.helpers import admin
from tests.pointsmall.helpers import ADMIN, API, coupon_item, template


@pytest.mark.parametrize("far", ["9999-12-31T23:59:59Z", "1999-12-31T23:59:59Z", "2100-01-01T00:00:01Z"])
async def test_times_outside_the_window_are_refused(client, db, far):
    boss = await admin(client, db)
    tpl = await template(client, boss)
    body = {"kind": "coupon", "coupon_template_id": tpl["id"], "points": 1, "stock": 1, "ends_at": far}
    r = await client.post(ADMIN, json=body, headers=boss)
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR", r.text
    item = await coupon_item(client, boss, tpl)
    r = await client.put(f"{ADMIN}/{item['id']}", json={"starts_at": far}, headers=boss)
    assert r.status_code == 422, r.text


async def test_money_at_the_bound_is_stored_and_one_past_it_is_refused(client, db):
    boss = await admin(client, db)
    tpl = await template(client, boss)
    ok = await coupon_item(client, boss, tpl, cash_fen=MAX_FEN, points=100_000_000)
    assert (ok["cash_fen"], ok["points"]) == (MAX_FEN, 100_000_000)
    for over in ({"cash_fen": MAX_FEN + 1}, {"points": 100_000_001}, {"stock": 1_000_001}):
        body = {"kind": "coupon", "coupon_template_id": tpl["id"], "points": 1, "stock": 1, **over}
        r = await client.post(ADMIN, json=body, headers=boss)
        assert r.status_code == 422, (over, r.text)


@pytest.mark.parametrize("when", [datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)])
async def test_a_row_from_before_the_bounds_cannot_take_a_page_down(client, db, when):
    boss = await admin(client, db)
    await coupon_item(client, boss, await template(client, boss))
    async with db.tx() as s:
        await s.execute(update(MallItem).values(ends_at=when))
    assert (await client.get(API)).status_code == 200
    r = await client.get(ADMIN, headers=boss)
    assert r.status_code == 200 and r.json()[0]["ends_at"].endswith("+00:00"), r.text
    await console(client, db, "owner")
    for path in ("/admin/points-mall", "/admin/points-mall/redemptions"):
        r = await client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
