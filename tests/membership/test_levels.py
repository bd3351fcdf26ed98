"""The level editor: the default ladder on first use, the base level, refusals with their own codes."""

from __future__ import annotations

import pytest

from tests.authz import check_admin_matrix
from tests.helpers import admin, shopper
from tests.membership.helpers import ADMIN, levels

ADMIN_ROUTES: list[tuple[str, str, dict | None, str, str]] = [
    ("GET", f"{ADMIN}/levels", None, "marketing.read", "finance"),
    ("POST", f"{ADMIN}/levels", {"name": "x", "rank": 9, "threshold_fen": 9_000_000}, "marketing", "finance"),
    ("GET", f"{ADMIN}/levels/{{level_id}}", None, "marketing.read", "finance"),
    ("PUT", f"{ADMIN}/levels/{{level_id}}", {"name": "改名"}, "marketing", "finance"),
    ("DELETE", f"{ADMIN}/levels/{{level_id}}", None, "marketing", "finance"),
    ("GET", f"{ADMIN}/member-day", None, "marketing.read", "finance"),
    ("PUT", f"{ADMIN}/member-day", {"enabled": True}, "marketing", "finance"),
    ("GET", f"{ADMIN}/settings", None, "marketing.read", "finance"),
    ("PUT", f"{ADMIN}/settings", {"window_months": 3}, "marketing", "finance"),
]


async def test_authorization_matrix_and_nothing_changes(client, db):
    boss = await admin(client, db)
    before = await levels(client, boss)
    await check_admin_matrix(client, db, ADMIN_ROUTES, {"level_id": before["黄金会员"]["id"]}, await shopper(client))
    assert await levels(client, boss) == before
    assert (await client.get(f"{ADMIN}/settings", headers=boss)).json()["window_months"] == 12


async def test_default_ladder_is_saved_on_first_use_and_the_base_level_stays(client, db):
    boss = await admin(client, db)
    got = await levels(client, boss)
    assert list(got) == ["普通会员", "白银会员", "黄金会员", "钻石会员"]
    assert [lv["threshold_fen"] for lv in got.values()] == [0, 100_000, 500_000, 2_000_000]
    assert got["黄金会员"]["discount_bp"] == 9000 and got["黄金会员"]["benefits"][0] == "全场商品9折"
    assert got["钻石会员"]["free_shipping"] and "全场包邮" in got["钻石会员"]["benefits"]
    assert got["普通会员"]["is_base"] and not got["白银会员"]["is_base"]
    assert await levels(client, boss) == got  # saved once
    r = await client.delete(f"{ADMIN}/levels/{got['普通会员']['id']}", headers=boss)
    assert r.status_code == 409 and r.json()["error"]["code"] == "BASE_LEVEL_UNDELETABLE"
    public = (await client.get("/api/v1/membership/levels")).json()
    assert [lv["name"] for lv in public] == list(got)


async def test_create_edit_delete_a_level(client, db):
    boss = await admin(client, db)
    await levels(client, boss)
    r = await client.post(
        f"{ADMIN}/levels",
        json={"name": "黑金会员", "rank": 4, "threshold_fen": 5_000_000, "discount_bp": 7500, "priority_service": True},
        headers=boss,
    )
    assert r.status_code == 201, r.text
    lv = r.json()
    assert lv["benefits"] == ["全场商品7.5折", "专属客服优先接待"] and lv["members"] == 0
    r = await client.put(
        f"{ADMIN}/levels/{lv['id']}", json={"name": "至尊会员", "points_multiplier_bp": 30000}, headers=boss
    )
    assert r.status_code == 200 and r.json()["name"] == "至尊会员" and "购物积分3倍" in r.json()["benefits"]
    assert (await client.delete(f"{ADMIN}/levels/{lv['id']}", headers=boss)).status_code == 204
    assert "至尊会员" not in await levels(client, boss)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "新等级", "rank": 5, "threshold_fen": 500_000}, 409, "LEVEL_THRESHOLD_TAKEN"),
        ({"name": "新等级", "rank": 2, "threshold_fen": 700_000}, 409, "LEVEL_RANK_TAKEN"),
        ({"name": "黄金会员", "rank": 5, "threshold_fen": 9_000_000}, 409, "LEVEL_NAME_TAKEN"),
        ({"name": "新等级", "rank": 5, "threshold_fen": 300_000}, 422, "LEVEL_ORDER_INVALID"),
        (
            {"name": "新等级", "rank": 5, "threshold_fen": 9_000_000, "discount_bp": 500},
            422,
            "LEVEL_DISCOUNT_OUT_OF_RANGE",
        ),
        (
            {"name": "新等级", "rank": 5, "threshold_fen": 9_000_000, "discount_bp": 10_001},
            422,
            "LEVEL_DISCOUNT_OUT_OF_RANGE",
        ),
        (
            {"name": "新等级", "rank": 5, "threshold_fen": 9_000_000, "points_multiplier_bp": 5000},
            422,
            "LEVEL_MULTIPLIER_OUT_OF_RANGE",
        ),
        (
            {"name": "新等级", "rank": 5, "threshold_fen": 9_000_000, "birthday_template_id": 999},
            404,
            "BIRTHDAY_TEMPLATE_NOT_FOUND",
        ),
        ({"name": "新等级", "rank": 5, "threshold_fen": 0}, 422, "LEVEL_THRESHOLD_OUT_OF_RANGE"),
        ({"name": "新等级", "rank": 5, "threshold_fen": -1}, 422, "VALIDATION_ERROR"),
        ({"name": "新等级", "rank": 5, "threshold_fen": "100"}, 422, "VALIDATION_ERROR"),
        ({"name": "", "rank": 5, "threshold_fen": 9_000_000}, 422, "VALIDATION_ERROR"),
    ],
)
async def test_bad_levels_are_refused_with_their_code_and_nothing_changes(client, db, body, status, code):
    boss = await admin(client, db)
    before = await levels(client, boss)
    r = await client.post(f"{ADMIN}/levels", json=body, headers=boss)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert await levels(client, boss) == before


async def test_the_base_level_keeps_threshold_zero_and_no_discount(client, db):
    boss = await admin(client, db)
    base = (await levels(client, boss))["普通会员"]
    for body in ({"threshold_fen": 100}, {"discount_bp": 9000}, {"free_shipping": True}, {"rank": 3}):
        r = await client.put(f"{ADMIN}/levels/{base['id']}", json=body, headers=boss)
        assert r.status_code == 422 and r.json()["error"]["code"] == "BASE_LEVEL_FIXED", (body, r.text)
    r = await client.put(f"{ADMIN}/levels/{base['id']}", json={"name": "注册会员"}, headers=boss)
    assert r.status_code == 200 and r.json()["name"] == "注册会员"
    r = await client.put(f"{ADMIN}/levels/{base['id']}", json={"name": None}, headers=boss)
    assert r.status_code == 422


async def test_levels_need_marketing_permission(client, db):
    finance = await admin(client, db, role="finance")
    r = await client.post(f"{ADMIN}/levels", json={"name": "x", "rank": 5, "threshold_fen": 1}, headers=finance)
    assert r.status_code == 403
    me = await shopper(client)
    assert (await client.get(f"{ADMIN}/levels", headers=me)).status_code in (401, 403)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"day_of_month": 29}, "MEMBER_DAY_INVALID"),
        ({"day_of_month": 0}, "MEMBER_DAY_INVALID"),
        ({"day_of_month": "first"}, "MEMBER_DAY_INVALID"),
        ({"extra_rate_bp": 10_001}, "MEMBER_DAY_RATE_OUT_OF_RANGE"),
        ({"extra_rate_bp": 0}, "MEMBER_DAY_RATE_OUT_OF_RANGE"),
    ],
)
async def test_bad_member_day_is_refused(client, db, body, code):
    boss = await admin(client, db)
    r = await client.put(f"{ADMIN}/member-day", json={"enabled": True, **body}, headers=boss)
    assert r.status_code == 422 and r.json()["error"]["code"] == code
    assert (await client.get(f"{ADMIN}/member-day", headers=boss)).json()["enabled"] is False


async def test_member_day_last_and_settings(client, db):
    boss = await admin(client, db)
    r = await client.put(f"{ADMIN}/member-day", json={"enabled": True, "day_of_month": "last"}, headers=boss)
    assert r.status_code == 200 and r.json()["day_of_month"] == "last"
    pub = (await client.get("/api/v1/membership/member-day")).json()
    assert pub["label"].startswith("每月最后一天会员日") and pub["next_date"]
    r = await client.put(f"{ADMIN}/settings", json={"window_months": 0}, headers=boss)
    assert r.status_code == 422 and r.json()["error"]["code"] == "WINDOW_OUT_OF_RANGE"
    r = await client.put(f"{ADMIN}/settings", json={"window_months": 6, "stacks_with_limited": True}, headers=boss)
    assert r.status_code == 200
    assert (await client.get(f"{ADMIN}/settings", headers=boss)).json() == {
        "window_months": 6,
        "stacks_with_limited": True,
    }
