"""Subscribe messages go out on the events a merchant mapped to templates, and only those."""

from __future__ import annotations

from sqlalchemy import func, select

from fissionmall.core.jobs import Job
from tests.helpers import admin, order, pay, product, run_jobs
from tests.wechat.test_miniprogram import fake_mp, mp, mp_settings  # noqa: F401 - fixtures

PAID = {
    "template_id": "TPL-PAID",
    "page": "pages/order/detail?id={order_id}",
    "data": {"character_string1": "{order_no}", "amount2": "{paid_yuan}", "thing3": "{title}"},
}


async def test_a_paid_order_sends_its_template_and_an_unmapped_event_queues_nothing(mp_settings, client, db, fake_mp):  # noqa: F811
    mp_settings.wechat_subscribe_templates = {"OrderPaid": PAID}
    boss = await admin(client, db)
    sku = (await product(client, boss, title="一个名字特别特别长的测试商品标题超过二十个字"))["skus"][0]["id"]
    r = await client.post("/api/v1/auth/wechat-login", json={"code": fake_mp.issue_code("o-alice")})
    me = {"Authorization": f"Bearer {r.json()['token']}"}
    oid = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    await pay(client, me, oid)
    await run_jobs(db)
    o = (await client.get(f"/api/v1/orders/{oid}", headers=me)).json()
    assert len(fake_mp.state.sent) == 1
    msg = fake_mp.state.sent[0]
    assert msg["touser"] == "o-alice" and msg["template_id"] == "TPL-PAID"
    assert msg["page"] == f"pages/order/detail?id={oid}"
    assert msg["data"]["character_string1"]["value"] == o["no"]
    assert msg["data"]["amount2"]["value"] == "27.90"
    assert len(msg["data"]["thing3"]["value"]) == 20  # cut to WeChat's limit

    await client.post(
        f"/api/admin/v1/orders/{oid}/ship", json={"carrier": "顺丰", "tracking_no": "SF1234567"}, headers=boss
    )
    await run_jobs(db)
    async with db.read() as s:
        queued = await s.scalar(select(func.count()).select_from(Job).where(Job.handler.like("wechat.subscribe.%")))
    assert queued == 1  # OrderShipped has no template: no job was even written
    assert len(fake_mp.state.sent) == 1


async def test_no_templates_no_jobs(settings, client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss))["skus"][0]["id"]
    r = await client.post("/api/v1/auth/wechat-login", json={"code": "plain"})
    me = {"Authorization": f"Bearer {r.json()['token']}"}
    oid = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    await pay(client, me, oid)
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Job).where(Job.handler.like("wechat.%"))) == 0
