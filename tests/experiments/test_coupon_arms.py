"""An arm whose plan is a coupon template: its shoppers are issued the coupon once when exposed, and the
checkout prices it in (best pick); the other arm's shoppers get none. Keeping it gives it to everyone."""

from __future__ import annotations

from sqlalchemy import func, select

from fissionmall.coupons.models import Coupon
from tests.experiments.helpers import experiment, shoppers_by_arm
from tests.helpers import admin, order, product, shopper
from tests.pricing.helpers import ADMIN, iso, template


async def _coupons_of(client, me) -> list[dict]:
    return (await client.get("/api/v1/me/coupons", headers=me)).json()["items"]


async def test_a_coupon_arm_issues_its_coupon_on_exposure_and_prices_it(client, db):
    boss = await admin(client, db)
    tea = await product(client, boss, prices=(6000,), stock=100, title="茶叶")
    sku = tea["skus"][0]["id"]
    tpl = await template(client, boss, name="实验券满100减30", amount_fen=3000, issue_mode="operator", total=10)
    arms = [
        {"name": "不发券", "weight": 1, "plan": {}, "control": True},
        {"name": "发券", "weight": 1, "plan": {"coupon_template_ids": [tpl["id"]]}},
    ]
    body = {"name": "发券实验", "product_id": tea["id"], "arms": arms, "starts_at": iso(-1), "ends_at": iso(7)}
    exp = await experiment(client, boss, **body)
    (none_arm,), (coupon_arm,) = await shoppers_by_arm(client, exp)
    items = {"items": [{"sku_id": sku, "qty": 2}]}

    # The product page's preview exposes and issues; the next preview picks the coupon as the best one.
    for _ in range(3):
        r = await client.post("/api/v1/coupons/checkout-preview", json=items, headers=coupon_arm)
        assert r.status_code == 200, r.text
    assert r.json()["coupon"]["name"] == "实验券满100减30" and r.json()["discount_fen"] == 3000
    payable = r.json()["payable_fen"]
    assert [c["template_id"] for c in await _coupons_of(client, coupon_arm)] == [tpl["id"]]
    r = await client.post("/api/v1/coupons/checkout-preview", json=items, headers=none_arm)
    assert r.json()["coupon"] is None and await _coupons_of(client, none_arm) == []
    mine = (await _coupons_of(client, coupon_arm))[0]["id"]
    placed = await order(client, coupon_arm, items["items"], coupon_id=mine)
    assert placed.status_code == 201 and placed.json()["payable_fen"] == payable, placed.text

    # Kept: every shopper whose cart holds the product is issued it from now on (once).
    r = await client.post(
        f"{ADMIN}/experiments/{exp['id']}/keep-winner", json={"arm_id": exp["arms"][1]["id"]}, headers=boss
    )
    assert r.status_code == 200, r.text
    late = await shopper(client, "latecomer")
    for _ in range(2):
        await client.post("/api/v1/coupons/checkout-preview", json=items, headers=late)
    await client.post("/api/v1/coupons/checkout-preview", json=items, headers=none_arm)
    assert [c["template_id"] for c in await _coupons_of(client, late)] == [tpl["id"]]
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Coupon)) == 3
