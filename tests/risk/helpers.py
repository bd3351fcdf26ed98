"""A mall with every tool the risk layer guards live at once, and shoppers who say where they come from."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.distribution.models import Commission
from fissionmall.settings import get_settings
from tests.bargain.helpers import make_activity as make_bargain
from tests.groupbuy.helpers import make_activity as make_group_activity
from tests.groupbuy.helpers import order_body
from tests.helpers import ADDRESS, admin, product, run_jobs
from tests.pricing.helpers import template
from tests.seckill.helpers import loosen, session

# The ASGI test client's peer (tests/conftest.py) is a proxy the shop trusts, so X-Forwarded-For is the client.
PROXIES = ["10.0.0.0/8"]
FARM_NET = "198.51.100"  # the bot farm: one /24, one device id
NAT_IP = "203.0.113.7"  # ordinary shoppers behind one NAT address, each on their own phone
_grants = itertools.count()
RISK_CODES = {"RISK_DENIED", "RISK_FROZEN", "RISK_CHALLENGE", "CAPTCHA_REQUIRED"}


@dataclass
class Mall:
    boss: dict[str, str]
    sku_id: int
    seckill_item: int
    group_activity: dict[str, Any]
    bargain_activity: dict[str, Any]
    coupon_id: int
    new_user_coupon_id: int
    distributor: dict[str, str]
    distributor_id: int
    share_code: str


def trust_proxy(monkeypatch: Any) -> None:
    monkeypatch.setattr(get_settings(), "trusted_proxies", PROXIES)
    monkeypatch.setattr(get_settings(), "login_rate_per_minute", 10_000)
    monkeypatch.setattr(get_settings(), "order_rate_per_minute", 10_000)


def where(device: str | None, ip: str) -> dict[str, str]:
    """The headers a phone sends: its device id and, through the proxy, its address."""
    return {"X-Forwarded-For": ip, **({"X-Device-Id": device} if device else {})}


async def login(client: httpx.AsyncClient, code: str, device: str | None, ip: str, ref: str | None = None) -> dict:
    body = {"code": code, **({"ref": ref} if ref else {})}
    r = await client.post("/api/v1/auth/wechat-login", json=body, headers=where(device, ip))
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}", **where(device, ip)}


async def customer_id(client: httpx.AsyncClient, h: dict[str, str]) -> int:
    return int((await client.get("/api/v1/me", headers=h)).json()["id"])


async def build(client: httpx.AsyncClient, db: Database) -> Mall:
    """Every tool live: a flash sale, a group buy (groups of 2), a bargain, a claimable coupon, a new-user
    coupon, distribution with one approved distributor (on their own phone)."""
    boss = await admin(client, db)
    await loosen(client, boss)  # the flash sale's own rate limits out of the way: the risk layer is judged
    p = await product(client, boss, stock=10_000, prices=(9900,))
    sku = p["skus"][0]["id"]
    item = (await session(client, boss, sku, pool=1000, limit=1))["items"][0]["id"]
    group = await make_group_activity(client, boss, p, group_size=2, stock=1000, max_open_per_user=3)
    bargain = await make_bargain(client, boss, p, stock=1000, helpers_needed=3)
    coupon = await template(client, boss, name="店铺券", total=1000, per_user_limit=1)
    gift = await template(
        client, boss, name="新人券", total=1000, issue_mode="new_user", threshold_fen=0, amount_fen=500
    )
    r = await client.put(
        "/api/admin/v1/distribution/config",
        json={"enabled": True, "level1_rate_bp": 1000, "level2_rate_bp": 500, "min_withdraw_fen": 100},
        headers=boss,
    )
    assert r.status_code == 200, r.text
    dist = await login(client, "the-distributor", "distributor-phone", "192.0.2.10")
    r = await client.post("/api/v1/distribution/apply", headers=dist)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    await run_jobs(db)
    return Mall(
        boss=boss,
        sku_id=sku,
        seckill_item=item,
        group_activity=group,
        bargain_activity=bargain,
        coupon_id=coupon["id"],
        new_user_coupon_id=gift["id"],
        distributor=dist,
        distributor_id=await customer_id(client, dist),
        share_code=r.json()["share_code"],
    )


async def seckill_token(client: httpx.AsyncClient, h: dict[str, str], m: Mall) -> httpx.Response:
    return await client.post(f"/api/v1/seckill/items/{m.seckill_item}/token", headers=h)


async def seckill(client: httpx.AsyncClient, h: dict[str, str], m: Mall) -> httpx.Response:
    """The flash sale as the shop does it: a path token, then the attempt."""
    r = await seckill_token(client, h, m)
    if r.status_code != 200:
        return r
    body = {"qty": 1, "token": r.json()["token"], "address": ADDRESS}
    return await client.post(f"/api/v1/seckill/items/{m.seckill_item}/attempts", json=body, headers=h)


async def open_group(client: httpx.AsyncClient, h: dict[str, str], m: Mall) -> httpx.Response:
    act = m.group_activity
    return await client.post(f"/api/v1/groupbuy/activities/{act['id']}/groups", json=order_body(m.sku_id), headers=h)


async def join_group(
    client: httpx.AsyncClient, h: dict[str, str], m: Mall, group_id: int, sku_id: int | None = None
) -> httpx.Response:
    body = order_body(sku_id or m.sku_id)
    return await client.post(f"/api/v1/groupbuy/groups/{group_id}/join", json=body, headers=h)


async def claim(client: httpx.AsyncClient, h: dict[str, str], m: Mall) -> httpx.Response:
    return await client.post(f"/api/v1/coupons/{m.coupon_id}/claim", headers=h)


async def bind(client: httpx.AsyncClient, h: dict[str, str], m: Mall) -> httpx.Response:
    return await client.post("/api/v1/distribution/bind", json={"ref": m.share_code}, headers=h)


async def coupons_of(client: httpx.AsyncClient, h: dict[str, str], template_id: int) -> int:
    items = (await client.get("/api/v1/me/coupons", headers=h)).json()["items"]
    return sum(1 for c in items if c["template_id"] == template_id)


def refused_by_risk(r: httpx.Response) -> bool:
    """A refusal of the risk layer, in plain Chinese (no rule name, no English)."""
    if r.status_code not in (403, 429):
        return False
    err = r.json()["error"]
    msg = err["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in msg) and not any("a" <= ch.lower() <= "z" for ch in msg), msg
    return err["code"] in RISK_CODES


async def give_available(db: Database, *, customer_id: int, amount_fen: int) -> None:
    """Commission already settled to the distributor's available balance (what a month of sales leaves)."""
    async with db.tx() as s:
        s.add(
            Commission(
                distributor_customer_id=customer_id,
                order_id=None,
                order_line_id=None,
                withdrawal_id=None,
                level=1,
                kind="mature_in",
                bucket="available",
                amount_fen=amount_fen,
                base_fen=0,
                rate_bp=None,
                ref_key=f"test-{customer_id}-{next(_grants)}",
                created_at=clock.now(),
            )
        )


async def decide_at_once(
    client: httpx.AsyncClient, boss: dict[str, str], review_id: int, decisions: list[str]
) -> list[int]:
    """Several reviewers deciding one review at the same moment (concurrent requests): their statuses."""

    async def one(d: str) -> int:
        r = await client.post(f"/api/admin/v1/risk/reviews/{review_id}/decide", json={"decision": d}, headers=boss)
        assert r.status_code in (200, 409), r.text
        return r.status_code

    return list(await asyncio.gather(*(one(d) for d in decisions)))
