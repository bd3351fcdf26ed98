"""付费会员's console pages: plans in 元 and 折, member prices with the picker, the list and its refund, the
customer's card."""

from __future__ import annotations

from sqlalchemy import select

from fissionmall.vip.models import VipPlan, VipPurchase, VipSkuPrice
from tests.console_helpers import console
from tests.vip.helpers import member, shop


async def test_the_owner_adds_and_edits_a_plan_sets_member_prices_and_refunds_from_the_list(client, db):
    s = await shop(client, db)
    csrf = await console(client, db, "owner")
    form = {
        "csrf_token": csrf,
        "name": "黄金年卡",
        "price": "199.9",
        "days": "365",
        "zhe": "9",
        "grant_template_id": str(s["template"]["id"]),
        "grant_count": "1",
        "cooling_days": "7",
        "active": "on",
    }
    r = await client.post("/admin/vip/plans/new", data=form)
    assert r.status_code == 303, r.text
    async with db.read() as tx:
        p = await tx.scalar(select(VipPlan).where(VipPlan.name == "黄金年卡"))
        assert p is not None and (p.price_fen, p.discount_bp, p.grant_count) == (19990, 9000, 1)
    page = await client.get(f"/admin/vip/plans/{p.id}")
    assert 'value="199.9"' in page.text and 'value="9"' in page.text
    r = await client.post(f"/admin/vip/plans/{p.id}", data={**form, "price": "abc"})
    assert r.status_code == 422 and "售价格式不正确" in r.text
    listing = await client.get("/admin/vip/plans")
    assert "黄金年卡" in listing.text and "全场商品9折" in listing.text

    a = s["skus"][0]
    r = await client.post(
        "/admin/vip/prices",
        data={"csrf_token": csrf, "sku_id": str(a), "price": "80", "product_id": str(s["product"]["id"])},
    )
    assert r.status_code == 303, r.text
    async with db.read() as tx:
        assert (await tx.scalar(select(VipSkuPrice.price_fen))) == 8000
    r = await client.post("/admin/vip/prices", data={"csrf_token": csrf, "sku_id": str(a), "price": "100"})
    assert r.status_code == 422 and "会员价须低于规格售价" in r.text
    assert "data-sku-picker" in (await client.get("/admin/vip/prices")).text

    await member(client, db, s)
    page = await client.get("/admin/vip/members")
    assert "尊享会员" in page.text and "无理由退款" in page.text
    async with db.read() as tx:
        purchase = await tx.scalar(select(VipPurchase))
    assert purchase is not None
    card = await client.get(f"/admin/customers/{purchase.customer_id}")
    assert "付费会员" in card.text and "生效中" in card.text
    r = await client.post(f"/admin/vip/members/{purchase.id}/refund", data={"csrf_token": csrf})
    assert r.status_code == 303, r.text
    async with db.read() as tx:
        assert (await tx.scalar(select(VipPurchase.status))) == "refunded"
