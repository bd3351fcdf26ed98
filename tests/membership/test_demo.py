"""The demo's membership seed runs through the admin API and leaves the ladder and the member day."""

from __future__ import annotations

from fissionmall.demo import membership as demo
from tests.helpers import admin


async def test_demo_seed(client, db):
    boss = await admin(client, db)
    got = await demo.seed(client, boss, {})
    assert got["levels"] == ["普通会员", "白银会员", "黄金会员", "钻石会员"] and got["member_day"] == 18
    day = (await client.get("/api/v1/membership/member-day")).json()
    assert day["enabled"] and day["day_of_month"] == 18
    levels = (await client.get("/api/v1/membership/levels")).json()
    assert [lv["has_birthday_gift"] for lv in levels] == [False, False, True, True]
