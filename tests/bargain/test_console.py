"""The bargaining console: the editor (SKU picker, live check, refusal of unreachable rules), the list with
its funnel, bargains by state. (Chinese only: the platform crawl of the demo console reads these pages.)"""

from __future__ import annotations

from sqlalchemy import select

from fissionmall.bargain.models import BargainActivity
from tests.bargain.helpers import friends, help_, make_activity, start
from tests.console_helpers import console
from tests.helpers import admin, product, shopper


async def test_operator_creates_an_activity_and_unreachable_rules_are_refused_with_the_figures(client, db):
    boss = await admin(client, db, username="api-boss")
    p = await product(client, boss, prices=(9900,), stock=50)
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/bargain/new")
    assert page.status_code == 200 and "bargain_form.js" in page.text
    form = {
        "csrf_token": csrf,
        "sku_id": str(p["skus"][0]["id"]),
        "title": "邀请 5 人助力，¥39 抱回家",
        "start_fen": "",
        "target_fen": "39",
        "helpers_needed": "5",
        "min_cut_fen": "1",
        "max_cut_fen": "5",
        "boost": "2",
        "duration_minutes": "1440",
        "buy_minutes": "1440",
        "pay_minutes": "15",
        "stock": "10",
        "max_starts_per_user": "1",
        "daily_help_limit": "10",
        "starts_at": "",
        "ends_at": "",
    }
    r = await client.post("/admin/bargain/new", data=form)
    assert r.status_code == 400
    assert "5 人每人最多砍 ¥5.00，合计 ¥25.00，不够砍掉 ¥60.00" in r.text
    async with db.read() as s:
        assert (await s.scalars(select(BargainActivity))).all() == []
    r = await client.post("/admin/bargain/new", data={**form, "max_cut_fen": "20"})
    assert r.status_code == 303, r.text
    async with db.read() as s:
        act = (await s.scalars(select(BargainActivity))).one()
        assert (act.start_fen, act.target_fen, act.max_cut_fen, act.new_user_boost_bp, act.stock) == (
            9900,
            3900,
            2000,
            20_000,
            10,
        )
    listing = await client.get("/admin/bargain")
    assert listing.status_code == 200 and "邀请 5 人助力" in listing.text
    edit = await client.get(f"/admin/bargain/{act.id}/edit")
    assert edit.status_code == 200 and 'value="39"' in edit.text
    r = await client.post(
        f"/admin/bargain/{act.id}/edit", data={**form, "target_fen": "39", "max_cut_fen": "20", "helpers_needed": "6"}
    )
    assert r.status_code == 303, r.text


async def test_the_live_check_answers_as_the_save_does(client, db):
    await console(client, db, "operator")
    r = await client.get("/admin/bargain/check", params={"start": 9900, "target": 3900, "helpers": 10, "hi": 500})
    assert r.json()["ok"] is False and r.json()["code"] == "CUT_BOUNDS_UNREACHABLE"
    r = await client.get("/admin/bargain/check", params={"start": 9900, "target": 3900, "helpers": 10})
    assert r.json()["ok"] is True and sum(r.json()["sample_cuts"]) == 6000
    r = await client.get("/admin/bargain/check", params={"start": "", "target": "x", "helpers": ""})
    assert r.json()["ok"] is None


async def test_bargains_by_state_and_the_funnel_on_the_list(client, db):
    boss = await admin(client, db, username="api-boss")
    act = await make_activity(
        client,
        boss,
        await product(client, boss, prices=(9900,)),
        helpers_needed=1,
        min_cut_fen=None,
        max_cut_fen=None,
        max_starts_per_user=2,
    )
    b1 = (await start(client, await shopper(client, "a"), act))["bargain_id"]
    await start(client, await shopper(client, "b"), act)
    await help_(client, (await friends(client, 1))[0], b1)
    await console(client, db, "operator")
    page = await client.get("/admin/bargain/bargains", params={"status": "reached"})
    assert page.status_code == 200
    assert f'data-bargain-id="{b1}"' in page.text and page.text.count("data-bargain-id=") == 1
    listing = await client.get("/admin/bargain")
    assert '<td class="num" data-figure="started">2</td>' in listing.text
    assert '<td class="num" data-figure="reached">1</td>' in listing.text
