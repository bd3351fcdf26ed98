"""Subscribe messages go out on the events a merchant mapped to templates, and only those."""

from __future__ import annotations

import pytest
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


# ---- WeChat's rules: state, configuration, formats, limits, empty values ----------------------------

PAID_AT = {
    "template_id": "TPL-PAID-AT",
    "page": "/pages/order/detail?id={order_id}",
    "data": {
        "character_string1": "{order_no}",
        "time2": "{paid_at}",
        "date3": "{created_at}",
        "amount4": "{paid_yuan}元",
    },
}


async def _paid_order(client, db, fake_mp) -> int:  # noqa: F811
    boss = await admin(client, db)
    sku = (await product(client, boss))["skus"][0]["id"]
    r = await client.post("/api/v1/auth/wechat-login", json={"code": fake_mp.issue_code("o-bob")})
    me = {"Authorization": f"Bearer {r.json()['token']}"}
    oid = (await order(client, me, [{"sku_id": sku, "qty": 1}])).json()["id"]
    await pay(client, me, oid)
    await run_jobs(db)
    return oid


async def test_times_get_wechats_format_and_the_state_follows_the_env_version(mp_settings, client, db, fake_mp):  # noqa: F811
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from fissionmall.orders.models import Order

    mp_settings.wechat_subscribe_templates = {"OrderPaid": PAID_AT}
    mp_settings.wechat_env_version = "trial"
    oid = await _paid_order(client, db, fake_mp)
    (msg,) = fake_mp.state.sent
    assert msg["miniprogram_state"] == "trial"
    assert msg["page"] == f"pages/order/detail?id={oid}"
    async with db.read() as s:
        o = await s.get(Order, oid)
    assert o is not None and o.paid_at is not None
    local = o.paid_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert msg["data"]["time2"]["value"] == local.strftime("%Y-%m-%d %H:%M")
    assert datetime.strptime(msg["data"]["date3"]["value"], "%Y-%m-%d")
    assert msg["data"]["amount4"]["value"].endswith("元")


async def test_develop_builds_get_developer_state(mp_settings, mp, fake_mp):  # noqa: F811
    mp_settings.wechat_env_version = "develop"
    assert (await mp.send_subscribe(openid="o-1", template_id="T1", data={"thing1": "已发货"})).ok
    mp_settings.wechat_env_version = "release"
    assert (await mp.send_subscribe(openid="o-1", template_id="T1", data={"thing1": "已发货"})).ok
    assert [m["miniprogram_state"] for m in fake_mp.state.sent] == ["developer", "formal"]


@pytest.mark.parametrize(
    ("templates", "complaint"),
    [
        ({"OrderPaid": {"template_id": "T", "data": {"thing1": "{carrier}"}}}, "{carrier} is not offered by OrderPaid"),
        ({"OrderPaid": {"template_id": "T", "data": {"thing1": "{no_such_field}"}}}, "{no_such_field}"),
        ({"GroupSucceeded": {"template_id": "T", "data": {"thing1": "{order_no}"}}}, "{order_no}"),
        ({"OrderPaid": {"template_id": "T", "data": {"thing1": ""}}}, "thing1: empty"),
        ({"OrderPaid": {"template_id": "T", "data": {"colour1": "{title}"}}}, "unknown field type"),
        ({"OrderPaid": {"template_id": "", "data": {"thing1": "{title}"}}}, "template_id is required"),
        ({"OrderPaid": {"template_id": "T", "data": {}}}, "data maps"),
        ({"OrderPayed": {"template_id": "T", "data": {"thing1": "{title}"}}}, "not an event"),
        ({"OrderPaid": {"template_id": "T", "data": {"phrase1": "已经支付成功啦"}}}, "phrase1"),
    ],
)
def test_a_template_wechat_would_refuse_or_send_empty_is_refused_when_configured(templates, complaint):
    from pydantic import ValidationError

    from fissionmall.settings import Settings

    with pytest.raises(ValidationError) as e:
        Settings(wechat_subscribe_templates=templates)
    assert complaint in str(e.value)


def test_a_good_template_loads_with_its_page_normalised():
    from fissionmall.settings import Settings

    s = Settings(
        wechat_subscribe_templates={"OrderShipped": {**PAID_AT, "data": {"thing1": "{carrier} {tracking_no}"}}}
    )
    assert s.wechat_subscribe_templates["OrderShipped"]["page"] == "pages/order/detail?id={order_id}"


def test_values_are_cut_or_refused_by_their_types_limits():
    from fissionmall.subscribe_fields import problem, shape

    tz = "Asia/Shanghai"
    assert shape("thing1", "商" * 30, tz) == "商" * 20
    assert shape("name2", "欧阳" * 8, tz) == "欧阳" * 5
    assert shape("phrase3", "已发货请注意查收", tz) == "已发货请注"
    assert len(shape("character_string4", "A" * 40, tz)) == 32
    assert len(shape("letter5", "a" * 40, tz)) == 32
    assert shape("symbol6", "!" * 9, tz) == "!!!!!"
    ok = {
        "number1": "1" * 32,
        "amount2": "27.90",
        "amount3": "¥100元",
        "phone_number4": "(020)81167888",
        "car_number5": "粤A12345",
        "time6": "2026-12-01 20:30",
        "time7": "20:30",
        "date8": "2026年12月1日",
        "date9": "2026-12-01 ~ 2026-12-03",
        "thing10": "商" * 20,
    }
    assert {k: problem(k, v) for k, v in ok.items()} == dict.fromkeys(ok)
    bad = {
        "number1": "1" * 33,
        "number2": "十二",
        "amount3": "27.901",
        "amount4": "二十元",
        "phone_number5": "1" * 18,
        "car_number6": "粤A123456789",
        "letter7": "abc1",
        "symbol8": "abc",
        "character_string9": "订单号",
        "name10": "张" * 11,
        "phrase11": "abc",
        "time12": "2026-12-01T20:30:00+08:00",
        "thing13": " ",
    }
    assert all(problem(k, v) for k, v in bad.items()), {k: problem(k, v) for k, v in bad.items()}


async def test_the_client_never_sends_a_value_wechat_refuses(mp, fake_mp):  # noqa: F811
    for data in ({"thing1": ""}, {"thing1": "已发货", "amount2": "27.901"}, {"number1": "abc"}):
        res = await mp.send_subscribe(openid="o-1", template_id="T1", data=data)
        assert not res.ok and res.errcode == 47003, data
    assert "subscribe" not in fake_mp.state.calls


async def test_the_fake_refuses_an_empty_value_with_47003(mp, fake_mp):  # noqa: F811
    import httpx

    token = await mp.access_token()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_mp.app), base_url="http://mp.fake") as c:
        r = await c.post(
            "/cgi-bin/message/subscribe/send",
            params={"access_token": token},
            json={"touser": "o-1", "template_id": "T1", "data": {"thing1": {"value": ""}}},
        )
    assert r.json()["errcode"] == 47003 and "thing1" in r.json()["errmsg"]
    assert fake_mp.state.sent == []


async def test_the_mini_program_reads_the_template_ids_per_event(mp_settings, client):  # noqa: F811
    r = await client.get("/api/v1/wechat/subscribe-templates")
    assert r.status_code == 200 and r.json() == {"templates": {}, "miniprogram_state": "formal"}
    mp_settings.wechat_subscribe_templates = {"OrderPaid": PAID, "OrderShipped": {**PAID, "template_id": "TPL-SHIP"}}
    r = await client.get("/api/v1/wechat/subscribe-templates")
    assert r.json()["templates"] == {"OrderPaid": "TPL-PAID", "OrderShipped": "TPL-SHIP"}
