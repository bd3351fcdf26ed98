"""Console pages: settings (rates in %, amounts in 元, overrides as rows), distributor approval and drill-down,
withdrawals, and who may see them."""

from __future__ import annotations

import re
from typing import Any

import httpx

from fissionmall.distribution.settings_form import pct, preview
from tests.console_helpers import PASSWORD, _form_login, console
from tests.distribution.helpers import CONFIG, buy, complete, configure, distributor, login, me, settle_now
from tests.helpers import admin, product

SETTINGS = {
    "enabled": "on",
    "approval": "auto",
    "levels": "2",
    "bind_mode": "first",
    "binding_expiry_days": "0",
    "level1_rate": "10",
    "level2_rate": "5",
    "cap_rate": "30",
    "frozen_days": "7",
    "min_withdraw": "1.00",
    "withdraw_fee_rate": "0",
    "src_groupbuy": "shop",
    "src_seckill": "shop",
    "src_bargain": "shop",
}


def _rows(prefix: str, *rows: tuple[Any, str, str, str, str]) -> dict[str, list[str]]:
    """Override rows as the form posts them: (product or SKU id, 一级, its unit, 二级, its unit) per row."""
    cols = ("id", "l1", "l1_unit", "l2", "l2_unit")
    return {f"{prefix}_{c}": [str(r[i]) for r in rows] for i, c in enumerate(cols)}


def _errors(html: str) -> list[str]:
    return re.findall(r'class="field-error">([^<]+)<', html)


async def _post(client: httpx.AsyncClient, csrf: str, **changes: Any) -> httpx.Response:
    return await client.post("/admin/distribution/config", data={"csrf_token": csrf, **SETTINGS, **changes})


async def test_rates_in_percent_and_amounts_in_yuan_are_stored_as_exact_bp_and_fen(client, db):
    boss = await admin(client, db)
    csrf = await console(client, db, "operator")
    r = await _post(
        client,
        csrf,
        level1_rate="10.5",
        level2_rate="0.35",
        cap_rate="29.99",
        withdraw_fee_rate="０.６",  # full-width, as a phone keyboard types it
        min_withdraw="12.34",
        frozen_days="14",
        binding_expiry_days="30",
        src_groupbuy="own",
        src_groupbuy_level1="3",
        src_groupbuy_level2="",
        src_seckill="none",
    )
    assert r.status_code == 303, r.text
    cfg = (await client.get(CONFIG, headers=boss)).json()
    assert (cfg["level1_rate_bp"], cfg["level2_rate_bp"], cfg["cap_bp"], cfg["withdraw_fee_bp"]) == (1050, 35, 2999, 60)
    assert (cfg["min_withdraw_fen"], cfg["frozen_days"], cfg["binding_expiry_days"]) == (1234, 14, 30)
    assert cfg["source_rates"] == {"groupbuy": {"level1_rate_bp": 300, "level2_rate_bp": 0}, "seckill": None}

    # Shown back as the operator typed them: % and 元, never basis points or fen.
    page = (await client.get("/admin/distribution")).text
    for name, shown in (
        ("level1_rate", "10.5"),
        ("level2_rate", "0.35"),
        ("cap_rate", "29.99"),
        ("min_withdraw", "12.34"),
    ):
        assert f'name="{name}" value="{shown}"' in page
    assert 'name="src_groupbuy_level1" value="3"' in page
    assert re.search(r'name="src_seckill".*?<option value="none" selected>', page, re.S)
    assert "1050" not in page and "advanced" not in page
    assert "一件 ¥199 的商品：一级佣金 ¥20.90，二级 ¥0.70" in page  # 199 × 10.5% = 20.895 → 20.90 (half up)


def test_percent_text_reads_back_exactly():
    assert [pct(bp) for bp in (0, 5, 50, 1000, 1050, 1234, 10000)] == ["0", "0.05", "0.5", "10", "10.5", "12.34", "100"]
    assert preview(level1_bp=1000, level2_bp=500, levels=2) == "一件 ¥199 的商品：一级佣金 ¥19.90，二级 ¥9.95"
    assert preview(level1_bp=1000, level2_bp=500, levels=1, price_fen=1990) == "一件 ¥19.90 的商品：一级佣金 ¥1.99"


async def test_garbage_gets_every_refusal_beside_its_field_and_saves_nothing(client, db):
    boss = await admin(client, db)
    await configure(client, boss)
    csrf = await console(client, db, "operator")
    r = await _post(
        client,
        csrf,
        level1_rate="十",
        level2_rate="5.555",
        min_withdraw="abc",
        frozen_days="400",
        withdraw_fee_rate="",
        bind_mode="random",
        src_bargain="own",
        src_bargain_level1="-1",
        **_rows("ov_p", (0, "x", "rate", "", "fixed")),
    )
    assert r.status_code == 400
    errors = _errors(r.text)
    assert len(errors) == 9, errors
    assert "一级佣金比例格式不正确，请填写 0 到 100 之间的百分比" in errors
    assert "二级佣金比例格式不正确，请填写 0 到 100 之间的百分比" in errors
    assert any(m.startswith("最低提现金额格式不正确") for m in errors)
    assert "冻结天数不能大于 365" in errors
    assert "请填写提现手续费" in errors
    assert "请选择绑定方式" in errors
    assert "请重新选择商品" in errors
    assert "保存失败：有 9 处需要修改" in r.text
    # What was typed comes back, so nothing needs typing twice.
    assert 'name="level1_rate" value="十"' in r.text and 'name="min_withdraw" value="abc"' in r.text
    assert (await client.get(CONFIG, headers=boss)).json()["level1_rate_bp"] == 1000  # nothing saved


async def test_the_rules_refuse_beside_the_field_they_concern_all_at_once(client, db):
    boss = await admin(client, db)
    p = await product(client, boss, prices=(19900,), title="高端耳机")
    csrf = await console(client, db, "operator")
    r = await _post(
        client,
        csrf,
        levels="3",
        cap_rate="35",
        src_groupbuy="own",
        src_groupbuy_level1="20",
        src_groupbuy_level2="15",
        **_rows("ov_p", (p["id"], "25", "rate", "6", "rate"), (p["id"], "1", "rate", "1", "rate")),
    )
    assert r.status_code == 400
    errors = _errors(r.text)
    assert "最多两级分销：三级及以上涉嫌传销，系统不允许" in errors
    assert "单笔订单佣金上限不能超过 30%" in errors
    assert "该商品已设置过单独佣金，请删除重复的一行" in errors

    r = await _post(
        client,
        csrf,
        level1_rate="20",
        level2_rate="15",
        cap_rate="30",
        src_groupbuy="own",
        src_groupbuy_level1="20",
        src_groupbuy_level2="15",
        **_rows("ov_p", (p["id"], "25", "rate", "6", "rate")),
    )
    assert r.status_code == 400
    errors = _errors(r.text)
    assert errors.count("一级与二级佣金比例之和（35%）不能超过单笔订单佣金上限（30%）") == 2
    assert "一级与二级佣金比例之和（31%）不能超过单笔订单佣金上限（30%）" in errors
    assert "高端耳机" in r.text  # the row keeps its product, by name


async def test_override_rows_are_saved_and_shown_again_by_name(client, db):
    boss = await admin(client, db)
    earphones = await product(client, boss, prices=(19900,), title="高端耳机")
    tea = await product(client, boss, prices=(5000, 8000), title="明前龙井")
    sku = tea["skus"][1]["id"]
    csrf = await console(client, db, "operator")
    r = await _post(
        client,
        csrf,
        **_rows("ov_p", (earphones["id"], "20", "rate", "2.5", "rate"), (tea["id"], "5", "fixed", "", "rate")),
        **_rows("ov_s", (sku, "12", "rate", "1.50", "fixed")),
    )
    assert r.status_code == 303, r.text
    cfg = (await client.get(CONFIG, headers=boss)).json()
    assert cfg["overrides"] == [
        {"product_id": earphones["id"], "sku_id": None, "level1_rate_bp": 2000, "level2_rate_bp": 250,
         "level1_fixed_fen": None, "level2_fixed_fen": None},
        {"product_id": tea["id"], "sku_id": None, "level1_rate_bp": None, "level2_rate_bp": None,
         "level1_fixed_fen": 500, "level2_fixed_fen": None},
        {"product_id": None, "sku_id": sku, "level1_rate_bp": 1200, "level2_rate_bp": None,
         "level1_fixed_fen": None, "level2_fixed_fen": 150},
    ]  # fmt: skip

    page = (await client.get("/admin/distribution")).text
    assert "高端耳机" in page and "明前龙井" in page and "规格1" in page
    rows = re.findall(r"<tr data-picker-item=.*?</tr>", page, re.S)
    assert len(rows) == 3
    assert 'name="ov_p_l1" value="20"' in rows[0] and 'name="ov_p_l2" value="2.5"' in rows[0]
    assert 'name="ov_p_l1" value="5.00"' in rows[1] and '<option value="fixed" selected>' in rows[1]
    assert 'name="ov_s_l2" value="1.50"' in rows[2]

    # A row the operator deleted is gone after the next save.
    assert (await _post(client, csrf, **_rows("ov_p", (tea["id"], "5", "fixed", "", "rate")))).status_code == 303
    cfg = (await client.get(CONFIG, headers=boss)).json()
    assert [o["product_id"] for o in cfg["overrides"]] == [tea["id"]]


async def test_operator_saves_settings_approves_a_distributor_and_finance_approves_a_withdrawal(client, db):
    boss = await admin(client, db)
    await configure(client, boss, approval="manual")
    h = await login(client, "applicant")
    assert (await client.post("/api/v1/distribution/apply", headers=h)).json()["status"] == "pending"

    csrf = await console(client, db, "operator")
    page = await client.get("/admin/distribution")
    assert page.status_code == 200 and "分销设置" in page.text
    r = await _post(client, csrf, approval="manual", level1_rate="12")
    assert r.status_code == 303
    assert (await client.get(CONFIG, headers=boss)).json()["level1_rate_bp"] == 1200

    page = await client.get("/admin/distribution/distributors", params={"status": "pending"})
    assert "待审核" in page.text and "微信用户cant" in page.text  # the nickname, not an id
    did = (await client.get("/api/admin/v1/distribution/distributors", headers=boss)).json()["items"][0]["id"]
    r = await client.post(f"/admin/distribution/distributors/{did}/decide", data={"csrf_token": csrf, "approve": "1"})
    assert r.status_code == 303
    assert (await client.get("/api/v1/distribution/me", headers=h)).json()["status"] == "approved"
    detail = await client.get(f"/admin/distribution/distributors/{did}")
    assert detail.status_code == 200 and "推广码" in detail.text

    # The operator may not see withdrawals; finance may, and may not save the settings.
    r = await client.get("/admin/distribution/withdrawals")
    assert r.status_code == 403
    await console(client, db, "finance")
    assert (await client.get("/admin/distribution/withdrawals")).status_code == 200
    r = await client.get("/admin/distribution")
    assert r.status_code == 403


async def test_a_product_override_set_in_the_console_pays_and_the_pages_name_people_and_products(client, db):
    boss = await admin(client, db)
    await configure(client, boss)
    earphones = await product(client, boss, prices=(19900,), title="高端耳机")
    csrf = await console(client, db, "owner")
    r = await _post(client, csrf, **_rows("ov_p", (earphones["id"], "20", "rate", "", "rate")))
    assert r.status_code == 303, r.text
    sharer, code = await distributor(client, db, "sharer")
    friend = await login(client, "friend", ref=code)
    o = await buy(client, db, friend, [{"sku_id": earphones["skus"][0]["id"], "qty": 1}])
    assert (await me(client, sharer))["pending_fen"] == 3980  # 20% of ¥199, not the shop's 10%
    did = (await client.get("/api/admin/v1/distribution/distributors", headers=boss)).json()["items"][0]["id"]
    page = (await client.get(f"/admin/distribution/distributors/{did}")).text
    ledger = page[page.index('id="ledger"') :]
    assert o["no"] in ledger and "高端耳机 · 规格0" in ledger and "买家 微信用户iend" in ledger and "¥39.80" in ledger
    assert f"#{o['id']}" not in page

    await complete(client, db, boss, friend, o["id"])
    await settle_now(db)
    sharer = await login(client, "sharer")  # a fresh token: 48 days have passed
    r = await client.post("/api/v1/distribution/withdrawals", json={"amount_fen": 1000}, headers=sharer)
    assert r.status_code == 201, r.text
    await _form_login(client, "owner-console", PASSWORD)  # the owner again (the session aged 48 days too)
    page = (await client.get("/admin/distribution/withdrawals")).text  # the name links to the distributor
    assert f'href="/admin/distribution/distributors/{did}">微信用户arer</a>' in page and "¥10.00" in page
    await console(client, db, "finance")  # who may not open a distributor's page: the name alone
    page = (await client.get("/admin/distribution/withdrawals")).text
    assert "<td>微信用户arer</td>" in page and "/admin/distribution/distributors/" not in page
