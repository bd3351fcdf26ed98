"""The demo's 实验 (A/B test): 手撕牛肉干 满100减20 against 买2送1, running now, with its first shoppers.

Both arms' promotions are made through the admin API (scoped to the product), then the experiment with two
equal arms (满100减20 the control); sixteen shoppers open the product and preview a cart of two, which
exposes them to their arm, and most of them order and pay, so the results page has visitors, conversions
and revenue per arm (too few for a verdict: the minimum sample is the page's default). Shoppers outside the
test see neither promotion.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from fissionmall.core import clock
from fissionmall.experiments import rules

ADMIN = "/api/admin/v1"
API = "/api/v1"
PRODUCT, SKU = "手撕牛肉干", "五香味 250g"
NAME = "牛肉干 满减 vs 买赠"
SHOPPERS = 16
ADDRESS = {"name": "演示顾客", "phone": "13700137000", "region": "江苏省 南京市 鼓楼区", "detail": "中山路 18 号"}


def _ok(r: httpx.Response, *status: int) -> Any:
    if r.status_code not in (status or (200,)):
        raise RuntimeError(f"demo experiments: {r.request.method} {r.request.url.path} → {r.status_code} {r.text}")
    return r.json()


async def _login(c: httpx.AsyncClient, code: str) -> dict[str, str]:
    device = f"{code}-phone"
    token = _ok(await c.post(f"{API}/auth/wechat-login", json={"code": code}, headers={"X-Device-Id": device}))
    return {"Authorization": f"Bearer {token['token']}", "X-Device-Id": device}


async def seed(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Create the two arms' promotions and the running experiment, and expose its first shoppers."""
    now = clock.now()
    beef = ps[PRODUCT]
    sku = next(k for k in beef["skus"] if k["name"] == SKU)["id"]
    window = {"starts_at": (now - timedelta(minutes=5)).isoformat(), "ends_at": (now + timedelta(days=14)).isoformat()}
    scope = {"scope": "products", "scope_ids": [beef["id"]]}
    minus = {"kind": "full_reduction", "name": "牛肉干满100减20", "basis": "amount",
             "tiers": [{"threshold": 10000, "amount_fen": 2000}]}  # fmt: skip
    gift = {"kind": "gift", "name": "牛肉干买2送1", "basis": "count", "threshold": 2, "gift_sku_id": sku,
            "gift_qty": 1, "gift_stock": 200}  # fmt: skip
    ids = [
        _ok(await c.post(f"{ADMIN}/promotions", json={**window, **scope, **body}, headers=boss), 201)["id"]
        for body in (minus, gift)
    ]
    body = {
        "name": NAME,
        "product_id": beef["id"],
        "arms": [
            {"name": "满100减20", "weight": 1, "control": True, "plan": {"promotion_ids": [ids[0]]}},
            {"name": "买2送1", "weight": 1, "plan": {"promotion_ids": [ids[1]]}},
        ],
        **window,
    }
    exp = _ok(await c.post(f"{ADMIN}/experiments", json=body, headers=boss), 201)
    cart = {"items": [{"sku_id": sku, "qty": 2}], "address": ADDRESS}
    paid = 0
    seen = [0, 0]  # shoppers of each arm so far: which arm a shopper is in depends on their id's hash
    for n in range(SHOPPERS):
        me = await _login(c, f"demo-ab-{n}")
        _ok(await c.get(f"{API}/products/{beef['id']}", headers=me))
        _ok(await c.post(f"{API}/checkout/preview", json=cart, headers=me))
        cid = _ok(await c.get(f"{API}/me", headers=me))["id"]
        arm = rules.assign(exp["id"], cid, weights=[1, 1], coverage_bp=exp["coverage_bp"]) or 0
        seen[arm] += 1
        if seen[arm] % 3 == 0:
            continue  # every third shopper of an arm looked at the price and did not buy: both arms convert
        order = _ok(await c.post(f"{API}/orders", json=cart, headers=me), 201)
        pid = _ok(await c.post(f"{API}/orders/{order['id']}/pay", json={"method": "gateway"}, headers=me))
        _ok(await c.post(f"{API}/payments/sandbox/{pid['payment_id']}/succeed", headers=me))
        paid += 1
    return {"experiment_id": exp["id"], "shoppers": SHOPPERS, "paid": paid}
