"""Console page 实验: created from the form, results with the methods named and the fairness note, the
winner kept with one click; a role without marketing sees no form."""

from __future__ import annotations

from sqlalchemy import select

from fissionmall.experiments.models import Experiment
from tests.console_helpers import console
from tests.helpers import admin, product
from tests.pricing.helpers import promotion


async def test_an_experiment_is_created_read_and_its_winner_kept_from_the_console(client, db):
    csrf = await console(client, db, "owner")
    boss = await admin(client, db, "owner", username="api-owner")
    p1 = await promotion(
        client, boss, kind="full_reduction", name="满100减20", tiers=[{"threshold": 10000, "amount_fen": 2000}]
    )
    p2 = await promotion(client, boss, kind="free_shipping", name="包邮", threshold=0)
    page = (await client.get("/admin/experiments")).text
    assert "大数据杀熟" in page and "分时段测试" in page and "满100减20" in page
    form = {
        "csrf_token": csrf,
        "name": "满减对比包邮",
        "product_id": "",
        "arm_name": ["满减", "包邮", "", ""],
        "arm_weight": ["1", "1", "1", "1"],
        "arm_promotion": [str(p1["id"]), str(p2["id"]), "", ""],
        "arm_template": ["", "", "", ""],
        "control": "0",
        "coverage": "50",
        "min_sample": "100",
        "starts_at": "2026-01-01T00:00",
        "ends_at": "2030-01-01T00:00",
    }
    bad = await client.post("/admin/experiments/new", data={**form, "arm_name": ["满减", "", "", ""]})
    assert bad.status_code == 422 and "保存失败" in bad.text
    r = await client.post("/admin/experiments/new", data=form)
    assert r.status_code == 303, r.text
    async with db.read() as s:
        (e,) = (await s.scalars(select(Experiment))).all()
    assert e.coverage_bp == 5000 and [a.control for a in e.arms] == [True, False]
    detail = (await client.get(r.headers["location"])).text
    assert "样本不足" in detail and "z 检验" in detail and "Welch" in detail and "大数据杀熟" in detail
    r = await client.post(f"/admin/experiments/{e.id}/coverage", data={"csrf_token": csrf, "coverage": "80"})
    assert r.status_code == 303
    r = await client.post(f"/admin/experiments/{e.id}/keep", data={"csrf_token": csrf, "arm_id": str(e.arms[1].id)})
    assert r.status_code == 303
    async with db.read() as s:
        e2 = await s.get(Experiment, e.id)
    assert e2.status == "ended" and e2.winner_arm_id == e.arms[1].id and e2.coverage_bp == 8000
    kept = (await client.get(f"/admin/experiments/{e.id}?ok=kept")).text
    assert "已保留胜出方案" in kept and "满100减20" in kept  # the paused arm's promotion still named
    assert kept.count("已保留胜出方案") == 1  # the notice once (the layout shows it), not twice
    assert (await client.get("/admin/experiments/999999")).status_code == 404
    # finance has no marketing: no page at all
    await console(client, db, "finance")
    assert (await client.get("/admin/experiments")).status_code == 403


async def test_a_product_experiment_names_its_product(client, db):
    csrf = await console(client, db, "owner")
    boss = await admin(client, db, "owner", username="api-owner")
    goods = await product(client, boss, title="手撕牛肉干")
    p1 = await promotion(
        client, boss, kind="full_reduction", name="满100减20", tiers=[{"threshold": 10000, "amount_fen": 2000}]
    )
    p2 = await promotion(client, boss, kind="free_shipping", name="包邮", threshold=0)
    form = {
        "csrf_token": csrf,
        "name": "牛肉干对比",
        "product_id": str(goods["id"]),
        "arm_name": ["满减", "包邮", "", ""],
        "arm_weight": ["1", "1", "1", "1"],
        "arm_promotion": [str(p1["id"]), str(p2["id"]), "", ""],
        "arm_template": ["", "", "", ""],
        "control": "0",
        "coverage": "100",
        "min_sample": "100",
        "starts_at": "2026-01-01T00:00",
        "ends_at": "2030-01-01T00:00",
    }
    r = await client.post("/admin/experiments/new", data=form)
    assert r.status_code == 303, r.text
    detail = (await client.get(r.headers["location"])).text
    assert f'href="/admin/products/{goods["id"]}" id="experiment-product">手撕牛肉干</a>' in detail
    assert f"商品 #{goods['id']}" not in detail  # its title, not its number
    # The product is chosen with the picker, and a refused form keeps it chosen (by its name, not an id).
    page = (await client.get("/admin/experiments")).text
    assert 'id="experiment-product-picker"' in page and "data-product-picker" in page and "商品 ID" not in page
    r = await client.post("/admin/experiments/new", data={**form, "name": ""})
    assert r.status_code == 422
    kept = r.text.split('id="experiment-product-picker"', 1)[1].split("</div>", 1)[0]
    assert "手撕牛肉干" in kept and f'name="product_id" value="{goods["id"]}"' in kept
