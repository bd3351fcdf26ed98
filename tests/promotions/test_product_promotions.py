"""The product page (GET /api/v1/products/{id}) names the live promotions that cover it."""

from __future__ import annotations

from tests.helpers import admin, product
from tests.pricing.helpers import promotion


async def test_product_shows_its_live_promotions_and_not_paused_ones(client, db):
    boss = await admin(client, db)
    p = await product(client, boss)
    promo = await promotion(
        client, boss, kind="full_reduction", name="满100减20", tiers=[{"threshold": 10000, "amount_fen": 2000}]
    )
    r = await client.get(f"/api/v1/products/{p['id']}")
    shown = r.json()["promotions"]
    assert [(x["id"], x["kind"], x["name"]) for x in shown] == [(promo["id"], "full_reduction", "满100减20")]
    assert "100" in shown[0]["label"] and "20" in shown[0]["label"]
