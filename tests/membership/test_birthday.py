"""The birthday gift: set once in the member centre, the level's coupon granted on the day, once a year."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from fissionmall.core import clock
from fissionmall.membership import growth
from tests.helpers import admin, shopper
from tests.membership.helpers import ADMIN, levels, me_level
from tests.pricing.helpers import template


async def test_birthday_coupon_once_a_year_and_the_birthday_set_once(client, db):
    boss = await admin(client, db)
    base = (await levels(client, boss))["普通会员"]
    t = await template(client, boss, name="生日券", amount_fen=1000, threshold_fen=0, per_user_limit=5)
    r = await client.put(f"{ADMIN}/levels/{base['id']}", json={"birthday_template_id": t["id"]}, headers=boss)
    assert r.status_code == 200 and r.json()["benefits"] == ["生日礼券"]
    me = await shopper(client, "alice")
    tomorrow = (clock.now().astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).date()
    born = tomorrow.replace(year=1990, day=min(tomorrow.day, 28))
    r = await client.put("/api/v1/me/birthday", json={"birthday": born.isoformat()}, headers=me)
    assert r.status_code == 200, r.text
    r = await client.put("/api/v1/me/birthday", json={"birthday": "1991-01-01"}, headers=me)
    assert r.status_code == 409 and r.json()["error"]["code"] == "BIRTHDAY_ALREADY_SET"
    assert (await me_level(client, me))["birthday"] == born.isoformat()
    day = born.replace(year=tomorrow.year)
    for _ in range(2):  # the job of one day run twice grants once
        async with db.tx() as s:
            await growth.birthday_gifts(s, day=day)
    mine = (await client.get("/api/v1/me/coupons", headers=me)).json()["items"]
    assert [c["template_id"] for c in mine] == [t["id"]]


async def test_bad_birthdays_are_refused(client, db):
    me = await shopper(client, "bob")
    for bad in ("2999-01-01", "1990-02-30", "tomorrow", "1800-01-01"):
        r = await client.put("/api/v1/me/birthday", json={"birthday": bad}, headers=me)
        assert r.status_code == 422 and r.json()["error"]["code"] == "BIRTHDAY_INVALID", bad
    assert (await me_level(client, me))["birthday"] is None
