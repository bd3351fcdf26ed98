"""The risk layer's console pages: 风控规则 (edit, refused with the error's position, preview), 决策记录,
审核队列 (decided once, who and why), and credit on the customer page."""

from __future__ import annotations

from fissionmall.risk import decisions, reviews
from fissionmall.risk.decisions import Action, Subject
from tests.console_helpers import console
from tests.helpers import shopper
from tests.risk.engine_helpers import act, only, rule
from tests.risk.test_engine_api import PAID, _hold

FORM = {"label": "同设备多账号", "name": "dev_accounts", "condition": "accounts_device_5m > 3", "outcome": "deny"}


async def test_the_rules_page_edits_previews_and_refuses_a_malformed_rule(app, client, db):
    csrf = await console(client, db, "operator")
    page = await client.get("/admin/risk/rules")
    assert (
        page.status_code == 200 and "同一设备 5 分钟内超过 2 个账号" in page.text and "accounts_device_5m" in page.text
    )
    r = await client.post("/admin/risk/rules", data={**FORM, "csrf_token": csrf, "condition": "accounts_device_5m >"})
    assert r.status_code == 422 and "第 21 个字符处" in r.text and "规则代号" in r.text
    r = await client.post(
        "/admin/risk/rules", data={**FORM, "csrf_token": csrf, "condition": "acts_customer_1h > 0", "enabled": "on"}
    )
    assert r.status_code == 422 and "拒绝所有买家" in r.text
    r = await client.post(
        "/admin/risk/rules", data={**FORM, "csrf_token": csrf, "actions": ["coupon_claim"], "enabled": "on"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/risk/rules?ok=saved"
    page = await client.get(r.headers["location"])
    assert "规则已保存" in page.text and 'data-rule="dev_accounts"' in page.text
    # The preview (htmx fragment) over what was decided today.
    await only(db, rule("acts_device_1h > 100", name="loose"))
    for cid in (1, 2, 3):
        await act(db, Action.COUPON_CLAIM, customer_id=cid, device_id="same")
    data = {**FORM, "csrf_token": csrf, "condition": "acts_device_1h > 1", "actions": ["coupon_claim"]}
    r = await client.post("/admin/risk/rules/preview", data=data, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "共 3 次判断" in r.text and "会命中 <strong>2</strong> 次" in r.text
    r = await client.post("/admin/risk/rules/preview", data={**data, "condition": "nope > 1"})
    assert "未知的指标 nope" in r.text


async def test_a_viewer_reads_the_rules_but_cannot_save(app, client, db):
    csrf = await console(client, db, "finance")
    assert (await client.get("/admin/risk/rules")).status_code == 403
    r = await client.post("/admin/risk/rules", data={**FORM, "csrf_token": csrf})
    assert r.status_code == 403


async def test_the_decision_log_and_the_review_queue(app, client, db):
    PAID.clear()
    csrf = await console(client, db, "operator")
    await only(db, rule("acts_customer_1h > 1", name="too_often", label="一小时内重复开团"))
    await act(db, Action.GROUP_OPEN, customer_id=31, device_id="dev-31")
    await act(db, Action.GROUP_OPEN, customer_id=31, device_id="dev-31")
    page = await client.get("/admin/risk/decisions", params={"customer_id": "31", "outcome": "deny"})
    assert page.status_code == 200 and page.text.count("data-decision=") == 1
    assert "一小时内重复开团" in page.text and "<code>too_often</code>" not in page.text  # its name, not its code
    assert "开团" in page.text and "拒绝" in page.text
    assert (await client.get("/admin/risk/decisions", params={"customer_id": "abc"})).status_code == 200

    rid = await _hold(db, ref_id=90, customer_id=31)
    page = await client.get("/admin/risk/reviews")
    assert f'data-review="{rid}"' in page.text and "测试提现" in page.text
    url = f"/admin/risk/reviews/{rid}/decide"
    r = await client.post(url, data={"csrf_token": csrf, "decision": "release", "note": "核实无误"})
    assert r.status_code == 303
    r = await client.post(url, data={"csrf_token": csrf, "decision": "void"})
    assert r.status_code == 409 and "已经处理过了" in r.text
    assert PAID == [("release", 90)]
    page = await client.get("/admin/risk/reviews", params={"status": "released"})
    assert "核实无误" in page.text and "operator" in page.text
    assert reviews.KINDS["test_payout"].label == "测试提现"


async def test_the_customer_page_shows_the_credit_score(app, client, db):
    await console(client, db, "operator")
    me = await shopper(client, "credit-page")
    cid = (await client.get("/api/v1/me", headers=me)).json()["id"]
    await decisions.report(db, subject=Subject(customer_id=cid), signal="seckill_scripting")
    from fissionmall.risk import engine

    await engine.flush_now(db)
    page = await client.get(f"/admin/customers/{cid}")
    assert page.status_code == 200 and "50 / 100" in page.text and "营销活动暂不可参加" in page.text


async def test_the_lists_page_adds_and_removes_entries_that_take_effect_at_once(app, client, db):
    csrf = await console(client, db, "operator")
    await only(db)
    page = await client.get("/admin/risk/lists")
    assert page.status_code == 200 and "名单是空的" in page.text and "黑白名单" in page.text
    r = await client.post("/admin/risk/lists", data={"csrf_token": csrf, "kind": "block", "dim": "device", "value": ""})
    assert r.status_code == 422 and "请填写设备编号" in r.text
    r = await client.post(
        "/admin/risk/lists", data={"csrf_token": csrf, "kind": "block", "dim": "customer", "value": "abc"}
    )
    assert r.status_code == 422 and "买家编号须是正整数" in r.text
    form = {"csrf_token": csrf, "kind": "block", "dim": "device", "value": "farm-phone", "note": "刷单设备"}
    r = await client.post("/admin/risk/lists", data=form)
    assert r.status_code == 303, r.text
    assert (await act(db, Action.COUPON_CLAIM, customer_id=5, device_id="farm-phone")).reasons == ("block_list",)
    r = await client.post("/admin/risk/lists", data=form)
    assert r.status_code == 409 and "名单里已有这一条" in r.text
    page = await client.get("/admin/risk/lists")
    assert "farm-phone" in page.text and "刷单设备" in page.text and "黑名单" in page.text
    entry = page.text.split('data-entry="', 1)[1].split('"', 1)[0]
    r = await client.post(f"/admin/risk/lists/{entry}/delete", data={"csrf_token": csrf})
    assert r.status_code == 303
    assert (await act(db, Action.COUPON_CLAIM, customer_id=5, device_id="farm-phone")).reasons == ()


async def test_the_customer_page_restores_the_score_and_freezes_marketing(app, client, db):
    csrf = await console(client, db, "operator")
    await only(db)
    me = await shopper(client, "credit-buttons")
    cid = (await client.get("/api/v1/me", headers=me)).json()["id"]
    await decisions.report(db, subject=Subject(customer_id=cid), signal="seckill_scripting")
    page = await client.get(f"/admin/customers/{cid}")
    assert 'id="credit-clear"' in page.text and 'id="credit-freeze"' in page.text
    r = await client.post(f"/admin/risk/credit/{cid}", data={"csrf_token": csrf, "act": "cleared"})
    assert r.status_code == 303 and r.headers["location"] == f"/admin/customers/{cid}"
    assert (await act(db, Action.GROUP_OPEN, customer_id=cid)).reasons == ()
    page = await client.get(f"/admin/customers/{cid}")
    assert "100 / 100" in page.text and 'id="credit-clear"' not in page.text
    r = await client.post(f"/admin/risk/credit/{cid}", data={"csrf_token": csrf, "act": "frozen"})
    assert r.status_code == 303
    assert (await act(db, Action.GROUP_OPEN, customer_id=cid)).reasons == ("frozen",)
    assert (await act(db, Action.ORDER, customer_id=cid)).reasons == ()  # shopping is never refused
    page = await client.get(f"/admin/customers/{cid}")
    assert "已冻结" in page.text and 'id="credit-unfreeze"' in page.text
    await client.post(f"/admin/risk/credit/{cid}", data={"csrf_token": csrf, "act": "unfrozen"})
    assert (await act(db, Action.GROUP_OPEN, customer_id=cid)).reasons == ()
    r = await client.post(f"/admin/risk/credit/{cid}", data={"csrf_token": csrf, "act": "explode"})
    assert r.status_code == 422
    r = await client.post("/admin/risk/credit/999999", data={"csrf_token": csrf, "act": "frozen"})
    assert r.status_code == 404 and "找不到这个买家" in r.text
