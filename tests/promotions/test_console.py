"""Console pages for promotions: each kind's form in 元 / 折 / 件 with pickers and rows, every mistake at once."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from fissionmall.promotions.models import Promotion
from tests.console_helpers import console
from tests.helpers import admin, product

WHEN = {"starts_at": "2026-01-01T00:00", "ends_at": "2030-01-01T00:00"}


def _error_beside(html: str, path: str) -> str:
    m = re.search(rf'<span class="field-error" data-error-for="{re.escape(path)}">([^<]*)</span>', html)
    return m.group(1) if m else ""


async def _promotions(db) -> list[Promotion]:
    async with db.read() as s:
        return list((await s.scalars(select(Promotion).order_by(Promotion.id))).all())


async def test_promotions_are_created_and_paused_from_the_console(client, db):
    csrf = await console(client, db, "owner")
    form = {"csrf_token": csrf, "kind": "full_reduction", "name": "满减", **WHEN, "scope": "all", "basis": "amount"}
    rows = {
        "tier_threshold": ["100", "300", ""],
        "tier_mode": ["amount", "amount", "amount"],
        "tier_off": ["20", "50", ""],
    }
    r = await client.post("/admin/promotions/new", data={**form, **rows})
    assert r.status_code == 303, r.text
    (p,) = await _promotions(db)
    assert p.tiers == [
        {"threshold": 10_000, "amount_fen": 2000, "percent_bp": 0},
        {"threshold": 30_000, "amount_fen": 5000, "percent_bp": 0},
    ]
    # 10:00 typed is 10:00 in the shop's zone (Asia/Shanghai: 02:00 UTC).
    assert p.starts_at.replace(tzinfo=UTC) == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    page = (await client.get("/admin/promotions")).text
    assert "满100减20 / 满300减50" in page
    edit = (await client.get(f"/admin/promotions/{p.id}")).text
    assert 'name="tier_threshold" value="300"' in edit and 'value="2026-01-01T00:00"' in edit
    r = await client.post(f"/admin/promotions/{p.id}/status", data={"csrf_token": csrf, "status": "paused"})
    assert r.status_code == 303
    assert "已暂停" in (await client.get(f"/admin/promotions/{p.id}?ok=paused")).text
    bad = {"tier_threshold": ["100", "100"], "tier_mode": ["amount", "amount"], "tier_off": ["20", "30"]}
    r = await client.post("/admin/promotions/new", data={**form, "name": "坏", **bad})
    assert r.status_code == 422 and "门槛越高" in _error_beside(r.text, "tiers")
    # 满2件9折: a count basis and a discount in 折.
    zhe = {"basis": "count", "tier_threshold": "2", "tier_mode": "zhe", "tier_off": "9"}
    r = await client.post("/admin/promotions/new", data={**form, "name": "满2件9折", **zhe})
    assert r.status_code == 303, r.text
    assert (await _promotions(db))[-1].tiers == [{"threshold": 2, "amount_fen": 0, "percent_bp": 1000}]


async def test_gift_limited_discount_and_tiered_price_take_picked_skus_yuan_and_zhe_exactly(client, db):
    boss = await admin(client, db)
    shirt = await product(client, boss, title="T恤", prices=(9900, 5000))
    mug = await product(client, boss, title="马克杯", prices=(1990,))
    big, small, cup = (k["id"] for k in shirt["skus"] + mug["skus"])
    csrf = await console(client, db, "owner")
    base = {"csrf_token": csrf, **WHEN}

    gift = {"kind": "gift", "name": "满199送杯", "scope": "all", "basis": "amount", "threshold": "199.99"}
    gift |= {"gift_sku_id": str(cup), "gift_qty": "2", "gift_stock": "100"}
    r = await client.post("/admin/promotions/new", data={**base, **gift})
    assert r.status_code == 303, r.text
    limited = {"kind": "limited_discount", "name": "限时", "sku_id": [str(big), str(small)]}
    limited |= {"item_mode": ["zhe", "price"], "item_value": ["8.5", "39.9"]}
    r = await client.post("/admin/promotions/new", data={**base, **limited})
    assert r.status_code == 303, r.text
    tiered = {"kind": "tiered_price", "name": "阶梯", "sku_id": str(small)}
    tiered |= {"tier_qty": ["1", "2", ""], "tier_price": ["50", "45.5", ""]}
    r = await client.post("/admin/promotions/new", data={**base, **tiered})
    assert r.status_code == 303, r.text

    g, lim, tier = await _promotions(db)
    assert (g.threshold, g.gift_sku_id, g.gift_qty, g.gift_stock) == (19_999, cup, 2, 100)
    assert lim.items == [
        {"sku_id": big, "price_fen": None, "percent_bp": 1500},
        {"sku_id": small, "price_fen": 3990, "percent_bp": None},
    ]
    assert (tier.sku_id, tier.tiers) == (
        small,
        [{"min_qty": 1, "unit_price_fen": 5000}, {"min_qty": 2, "unit_price_fen": 4550}],
    )

    # Each edit page shows the choices by name and the rows back in 元 and 折; saving unchanged keeps them.
    page = (await client.get(f"/admin/promotions/{lim.id}")).text
    assert "T恤 · 规格0" in page and 'name="item_value" value="8.5"' in page and 'value="39.9"' in page
    r = await client.post(f"/admin/promotions/{lim.id}", data={**base, **limited, "name": "限时（改）"})
    assert r.status_code == 303, r.text

    def set_(items: list[dict]) -> list[dict]:  # an edit stores the row without the unset side
        return [{k: v for k, v in i.items() if v is not None} for i in items]

    assert set_((await _promotions(db))[1].items) == set_(lim.items)
    page = (await client.get(f"/admin/promotions/{g.id}")).text
    assert "马克杯 · 规格0" in page and 'value="199.99"' in page


async def test_one_submit_shows_every_mistake_beside_its_field(client, db):
    csrf = await console(client, db, "owner")
    base = {"csrf_token": csrf, "name": "", "starts_at": "2026-13-01T00:00", "ends_at": ""}
    r = await client.post(
        "/admin/promotions/new", data={**base, "kind": "gift", "scope": "products", "threshold": "几百"}
    )
    assert r.status_code == 422
    expected = {
        "name": "请填写活动名称",
        "starts_at": "开始时间格式不正确",
        "ends_at": "请选择结束时间",
        "scope_ids": "请选择适用的商品",
        "threshold": "门槛格式不正确",
        "gift_sku_id": "请选择赠品",
        "gift_stock": "请填写赠品总数",
    }
    for path, text in expected.items():
        assert text in _error_beside(r.text, path), (path, _error_beside(r.text, path))
    rows = {"tier_qty": ["0", "两"], "tier_price": ["abc", "45"]}
    r = await client.post("/admin/promotions/new", data={**base, **WHEN, "kind": "tiered_price", **rows})
    assert r.status_code == 422
    assert "请选择参加阶梯价的商品规格" in _error_beside(r.text, "sku_id")
    assert "起购件数不能小于 1" in _error_beside(r.text, "price_tiers.0.min_qty")
    assert "单价格式不正确" in _error_beside(r.text, "price_tiers.0.unit_price_fen")
    assert "起购件数格式不正确" in _error_beside(r.text, "price_tiers.1.min_qty")
    items = {"sku_id": ["1", "x"], "item_mode": ["zhe", "price"], "item_value": ["12", ""]}
    r = await client.post("/admin/promotions/new", data={**base, **WHEN, "kind": "limited_discount", **items})
    assert r.status_code == 422
    assert "折扣格式不正确" in _error_beside(r.text, "items.0.percent_bp")
    assert "请重新选择这个商品规格" in _error_beside(r.text, "items.1.sku_id")
    assert "请填写活动价" in _error_beside(r.text, "items.1.price_fen")
    assert await _promotions(db) == []


GARBAGE = ["", "-1", "1e5", "１２", "9" * 30, "1.999", "\x00", "<b>", "x" * 3000, "2030-02-30T10:00", "0"]
FIELDS = [
    "name",
    "starts_at",
    "ends_at",
    "scope",
    "product_id",
    "category_id",
    "basis",
    "threshold",
    "gift_sku_id",
    "gift_qty",
    "gift_stock",
    "sku_id",
    "tier_threshold",
    "tier_mode",
    "tier_off",
    "tier_qty",
    "tier_price",
    "item_mode",
    "item_value",
]


async def test_garbage_in_any_field_of_any_kind_is_a_422_never_a_500(client, db):
    boss = await admin(client, db)
    sku = (await product(client, boss))["skus"][0]["id"]
    csrf = await console(client, db, "owner")
    good = {
        "csrf_token": csrf,
        "name": "x",
        **WHEN,
        "scope": "all",
        "basis": "amount",
        "threshold": "10",
        "gift_sku_id": str(sku),
        "gift_stock": "5",
        "sku_id": str(sku),
        "tier_threshold": "100",
        "tier_mode": "amount",
        "tier_off": "10",
        "tier_qty": "2",
        "tier_price": "9",
        "item_mode": "price",
        "item_value": "9",
    }
    kinds = ["full_reduction", "gift", "free_shipping", "limited_discount", "tiered_price", "nonsense"]
    for i, field in enumerate(FIELDS):
        for j, junk in enumerate(GARBAGE):
            data = {**good, "kind": kinds[(i + j) % len(kinds)], field: junk}
            r = await client.post("/admin/promotions/new", data=data)
            assert r.status_code in (303, 422), (data["kind"], field, junk, r.status_code)
    (p,) = (await _promotions(db))[:1]
    r = await client.post(f"/admin/promotions/{p.id}", data={**good, "tier_off": "x" * 3000, "item_value": "\x00"})
    assert r.status_code in (303, 422)
