"""The console's points pages: 积分规则 saved through the API's schema (mistakes in Chinese beside their
field, nothing saved), 积分明细 filtered by customer and kind, and the 人工调整 form on the customer page."""

from __future__ import annotations

from sqlalchemy import func, select

from fissionmall.points.models import PointsEntry, PointsRules
from tests.console_helpers import console
from tests.helpers import admin
from tests.points.helpers import balance_and_sum, customer, give, set_rules

RULES_FORM = {
    "enabled": "on",
    "earn_per_yuan": "2",
    "spend_points_per_yuan": "100",
    "spend_unit": "100",
    "spend_cap_bp": "30",
    "sign_in_enabled": "on",
    "sign_in_points": "５",  # full-width, as a phone types it
    "streak_day": ["7", "", "3"],
    "streak_points": ["20", "", "5"],
    "review_points": "0",
    "leader_points": "50",
    "expiry": "never",
    "refund_policy": "debt",
}


async def test_the_rules_form_saves_through_the_schema(client, db):
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/points/rules")
    assert page.status_code == 200 and "抵扣 1 元所需积分" in page.text
    r = await client.post("/admin/points/rules", data={**RULES_FORM, "csrf_token": csrf})
    assert r.status_code == 303, r.text
    got = (await client.get("/admin/points/rules?ok=saved")).text
    assert "积分规则已保存" in got and 'value="30"' in got and 'value="5"' in got
    async with db.read() as s:
        data = (await s.get(PointsRules, 1)).data
    assert data["spend_cap_bp"] == 3000 and data["sign_in_points"] == 5 and data["earn_per_yuan"] == 2
    assert data["streak_bonus"] == [{"day": 7, "points": 20}, {"day": 3, "points": 5}]
    assert data["expiry"] == "never" and data["enabled"] is True


async def test_rule_mistakes_read_in_chinese_beside_their_field(client, db):
    csrf = await console(client, db, "operator")
    bad = {**RULES_FORM, "csrf_token": csrf, "spend_cap_bp": "150", "earn_per_yuan": "abc", "streak_day": ["1"]}
    bad["streak_points"] = ["5"]
    r = await client.post("/admin/points/rules", data=bad)
    assert r.status_code == 422
    assert 'data-error-for="spend_cap_bp"' in r.text and "最高抵扣比例格式不正确" in r.text
    assert 'data-error-for="earn_per_yuan"' in r.text
    assert 'data-error-for="streak_bonus.0.day"' in r.text and "连续天数不能小于 2" in r.text
    assert 'value="abc"' in r.text  # shown again as typed
    r = await client.post(
        "/admin/points/rules",
        data={**RULES_FORM, "csrf_token": csrf, "spend_points_per_yuan": "300", "spend_unit": "100"},
    )
    assert r.status_code == 422 and 'data-error-for="spend_unit"' in r.text and "整分钱" in r.text
    r = await client.post(
        "/admin/points/rules",
        data={**RULES_FORM, "csrf_token": csrf, "streak_day": ["3", "7"], "streak_points": ["20", "5"]},
    )
    assert r.status_code == 422 and 'data-error-for="streak_bonus"' in r.text and "递增" in r.text
    async with db.read() as s:
        assert await s.get(PointsRules, 1) is None


async def test_a_finance_role_reads_the_rules_without_saving(client, db):
    csrf = await console(client, db, "finance")
    r = await client.post("/admin/points/rules", data={**RULES_FORM, "csrf_token": csrf})
    assert r.status_code == 403


async def test_the_ledger_page_filters_by_customer_and_kind(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    ha, a = await customer(client, "alice")
    _, b = await customer(client, "bob")
    await give(db, a, 300, ref="a1")
    await give(db, b, 700, ref="b1")
    assert (await client.post("/api/v1/points/sign-in", headers=ha)).status_code == 200
    await console(client, db, "operator")
    page = (await client.get("/admin/points/entries")).text
    assert page.count("data-entry-id=") == 3 and "每日签到" in page and "+700" in page
    mine = (await client.get(f"/admin/points/entries?customer_id={a}")).text
    assert mine.count("data-entry-id=") == 2 and "+700" not in mine
    signs = (await client.get(f"/admin/points/entries?customer_id={a}&kind=signin")).text
    assert signs.count("data-entry-id=") == 1 and "+5" in signs
    bad = await client.get("/admin/points/entries?customer_id=x")
    assert bad.status_code == 422 and "请用搜索框选择客户" in bad.text
    for i in range(25):
        await give(db, b, 1, ref=f"more{i}")
    first = (await client.get("/admin/points/entries")).text
    assert first.count("data-entry-id=") == 20 and 'rel="next"' in first


async def test_an_adjustment_on_the_customer_page(client, db):
    boss = await admin(client, db)
    await set_rules(client, boss)
    _, cid = await customer(client)
    csrf = await console(client, db, "operator")
    page = (await client.get(f"/admin/customers/{cid}")).text
    assert 'id="points-adjust"' in page and "调整原因" in page
    token = "a" * 24
    form = {"csrf_token": csrf, "token": token, "direction": "add", "amount": "120", "reason": ""}
    hx = {"HX-Request": "true"}
    r = await client.post(f"/admin/points/customers/{cid}/adjust", data=form, headers=hx)
    assert r.status_code == 200 and 'data-error-for="reason"' in r.text and "请填写调整原因" in r.text
    r = await client.post(f"/admin/points/customers/{cid}/adjust", data={**form, "reason": "客诉补偿"}, headers=hx)
    assert r.status_code == 303 and r.headers["location"] == f"/admin/customers/{cid}"  # htmx swaps its panel in
    again = await client.post(f"/admin/points/customers/{cid}/adjust", data={**form, "reason": "客诉补偿"}, headers=hx)
    assert again.status_code == 303  # the same form posted twice adds once (its token)
    below = {**form, "token": "b" * 24, "direction": "sub", "amount": "500", "reason": "误发"}
    r = await client.post(f"/admin/points/customers/{cid}/adjust", data=below, headers=hx)
    assert 'data-error-for="delta"' in r.text and "不能小于 0" in r.text
    assert r.headers["hx-retarget"] == "#points-adjust"
    plain = {**form, "token": "c" * 24, "direction": "sub", "amount": "20", "reason": "误发"}
    r = await client.post(f"/admin/points/customers/{cid}/adjust", data=plain)
    assert r.status_code == 303 and r.headers["location"] == f"/admin/customers/{cid}"
    assert await balance_and_sum(db, cid) == (100, 100)
    async with db.read() as s:
        ops = (await s.scalars(select(PointsEntry.operator_id).where(PointsEntry.kind == "adjust"))).all()
        assert len(ops) == 2 and all(ops)
    page = (await client.get(f"/admin/customers/{cid}")).text
    assert "人工调整" in page and "客诉补偿" in page


async def test_a_finance_role_cannot_adjust_points(client, db):
    _, cid = await customer(client)
    csrf = await console(client, db, "finance")
    form = {"csrf_token": csrf, "direction": "add", "amount": "100", "reason": "试试"}
    r = await client.post(f"/admin/points/customers/{cid}/adjust", data=form)
    assert r.status_code == 403
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(PointsEntry)) == 0
