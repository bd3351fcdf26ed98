"""The demo shop's campaigns, made through the public and admin APIs in-process so they obey every rule.

Coupons in the 领券中心 and a 新人礼包, a 满减 rule, a 限时折扣 and a 阶梯价, a flash sale running now and one
later today, two banners on the home page (to the 领券中心 and the flash sale), a group-buy activity with a
forming group (opened and paid by a demo shopper through the sandbox gateway), distribution switched on
with an approved demo distributor, and the retention tools (member levels and the member day, the paid
membership, top-up packages, points rules and the points mall) and a 砍价 activity with a bargain under way
(each tool's own demo/<tool>.py); then an A/B test running with its first shoppers, two weeks of
shoppers for the 数据中心 (backdated, demo/analytics.py) and the risk layer's refusals and a held withdrawal.
Times are real time: the dev clock is never moved here.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from fissionmall.core import clock, jobs
from fissionmall.core.db import Database, get_db
from fissionmall.core.schemas import to_local
from fissionmall.coupons.models import CouponTemplate
from fissionmall.demo.catalogue import PRODUCTS
from fissionmall.demo.images import banner_png
from fissionmall.settings import Settings

ADMIN = "/api/admin/v1"
API = "/api/v1"
ADDRESS = {"name": "演示团长", "phone": "13800138000", "region": "上海市 浦东新区", "detail": "世纪大道 100 号"}
LEADER_CODE = "demo-leader"  # sandbox WeChat: this code is the demo shopper who opened the group
DISTRIBUTOR_CODE = "demo-distributor"
INFO_FILE = "demo.json"

COUPONS: list[dict[str, Any]] = [
    {"name": "满99减10", "kind": "amount", "amount_fen": 1000, "threshold_fen": 9900, "valid_days": 30},
    {"name": "满299减50", "kind": "amount", "amount_fen": 5000, "threshold_fen": 29900, "valid_days": 30},
    {
        "name": "全场9折券",
        "kind": "percent",
        "percent_bp": 1000,
        "max_discount_fen": 3000,
        "threshold_fen": 5000,
        "valid_days": 15,
    },
    {
        "name": "数码配件8.5折",
        "kind": "percent",
        "percent_bp": 1500,
        "threshold_fen": 10000,
        "valid_days": 15,
        "scope": "categories",
        "category": "数码配件",
    },
]
# 运费模板: the default charges by the piece (remote provinces more, 满99包邮, no delivery to 港澳台); the
# products catalogued as 包邮 use the free one, so their 包邮 label is derived, as it is for a merchant's.
SHIPPING: list[dict[str, Any]] = [
    {
        "name": "普通快递",
        "is_default": True,
        "default_rule": {"first_units": 1, "first_fee_fen": 800, "additional_units": 1, "additional_fee_fen": 200},
        "rules": [
            {"regions": ["650000", "540000"], "first_units": 1, "first_fee_fen": 2000,
             "additional_units": 1, "additional_fee_fen": 1000},
        ],
        "free": [{"min_amount_fen": 9900}],
        "not_delivered": ["710000", "810000", "820000"],
    },
    {"name": "产地直发包邮", "default_rule": {"first_fee_fen": 0, "additional_fee_fen": 0}},
]  # fmt: skip
NEW_USER_PACK: list[dict[str, Any]] = [
    {"name": "新人无门槛5元", "kind": "amount", "amount_fen": 500, "threshold_fen": 0, "valid_days": 7},
    {"name": "新人满59减15", "kind": "amount", "amount_fen": 1500, "threshold_fen": 5900, "valid_days": 7},
]


def _iso(t: datetime) -> str:
    return t.isoformat()


def _ok(r: httpx.Response, status: int = 200) -> Any:
    if r.status_code != status:
        raise RuntimeError(f"demo load: {r.request.method} {r.request.url.path} -> {r.status_code} {r.text}")
    return r.json()


async def _products(c: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    """Demo products by title, each with its SKUs."""
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        page = _ok(await c.get(f"{API}/products", params={"limit": 100, **({"cursor": cursor} if cursor else {})}))
        rows = page["items"] if isinstance(page, dict) else page
        for row in rows:
            found[row["title"]] = _ok(await c.get(f"{API}/products/{row['id']}"))
        cursor = page.get("next_cursor") if isinstance(page, dict) else None
        if not cursor:
            return found


def _sku(p: dict[str, Any], name: str) -> dict[str, Any]:
    return next(k for k in p["skus"] if k["name"] == name)


async def _coupons(c: httpx.AsyncClient, boss: dict[str, str], category_ids: dict[str, int]) -> None:
    for spec in COUPONS + [{**t, "issue_mode": "new_user"} for t in NEW_USER_PACK]:
        body = {"total": 1000, "per_user_limit": 1, "scope": "all", **spec}
        if "category" in body:
            body["scope_ids"] = [category_ids[body.pop("category")]]
        _ok(await c.post(f"{ADMIN}/coupons/templates", json=body, headers=boss), 201)


async def _shipping(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]]) -> None:
    ids = [_ok(await c.post(f"{ADMIN}/shipping/templates", json=t, headers=boss), 201)["id"] for t in SHIPPING]
    for p in PRODUCTS:
        if "包邮" in p["labels"]:
            body = {"shipping_template_id": ids[1]}
            _ok(await c.put(f"{ADMIN}/products/{ps[p['title']]['id']}", json=body, headers=boss))


async def _promotions(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]]) -> None:
    now = clock.now()
    window = {"starts_at": _iso(now - timedelta(minutes=5)), "ends_at": _iso(now + timedelta(days=30))}
    bodies: list[dict[str, Any]] = [
        {"kind": "full_reduction", "name": "全场满减", "basis": "amount",
         "tiers": [{"threshold": 19900, "amount_fen": 3000}, {"threshold": 39900, "amount_fen": 7000}]},
        {"kind": "limited_discount", "name": "面膜限时85折",
         "ends_at": _iso(now + timedelta(days=3)),
         "items": [{"sku_id": _sku(ps["玻尿酸补水面膜"], "10片装")["id"], "percent_bp": 1500}]},
        {"kind": "tiered_price", "name": "抽纸多买更省", "sku_id": _sku(ps["原木抽纸"], "3层100抽×6包")["id"],
         "price_tiers": [{"min_qty": 2, "unit_price_fen": 1290}, {"min_qty": 4, "unit_price_fen": 1190}]},
    ]  # fmt: skip
    for body in bodies:
        _ok(await c.post(f"{ADMIN}/promotions", json={**window, **body}, headers=boss), 201)


def later_today(now: datetime) -> tuple[datetime, datetime]:
    """The evening session's window: on the hour two to three hours from now, or sooner when that would
    run past the shop's midnight, so it is always later *today* on the shop's clock (never tomorrow)."""
    local = to_local(now)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    start = (local + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    if start + timedelta(hours=1) <= midnight:
        return start, min(start + timedelta(hours=2), midnight - timedelta(seconds=1))
    # late evening: halfway to midnight, until just before it (a minute at least, in the last seconds of a day)
    start = max((local + (midnight - local) / 2).replace(second=0, microsecond=0), local + timedelta(seconds=10))
    return start, max(midnight - timedelta(seconds=1), start + timedelta(minutes=1))


async def _seckill(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]]) -> None:
    now = clock.now()
    later, later_end = later_today(now)
    sessions = [
        # running now until the evening session starts (and at least an hour)
        ("正在疯抢", now - timedelta(minutes=10), max(later, now + timedelta(hours=1)),
         [("蓝牙无线耳机", "白色", 9900, 30, 1), ("每日坚果混合装", "25g×30袋", 5990, 50, 2)]),
        ("今日晚场", later, later_end,
         [("纯棉四件套", "1.5米床 灰色", 12900, 20, 1), ("不锈钢保温杯", "500ml 奶白", 4900, 40, 2)]),
    ]  # fmt: skip
    for title, start, end, items in sessions:
        rows = [
            {"sku_id": _sku(ps[p], k)["id"], "price_fen": price, "stock": pool, "per_user_limit": limit}
            for p, k, price, pool, limit in items
        ]
        body = {"title": title, "starts_at": _iso(start), "ends_at": _iso(end), "items": rows}
        _ok(await c.post(f"{ADMIN}/seckill/sessions", json=body, headers=boss), 201)


# 首页轮播图: uploaded to the 素材库 like a merchant's pictures, linking to the 领券中心 and the flash sale.
BANNERS: list[dict[str, Any]] = [
    {"art": "newcomer", "title": "新人礼包 · 领券立减", "link_kind": "coupons"},
    {"art": "flash", "title": "限时秒杀 · 蓝牙无线耳机", "link_kind": "product", "product": "蓝牙无线耳机"},
]


async def _banners(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]]) -> None:
    for spec in BANNERS:
        files = {"file": (f"banner-{spec['art']}.png", banner_png(spec["art"]), "image/png")}
        asset = _ok(await c.post(f"{ADMIN}/media", files=files, headers=boss), 201)
        body = {"image": asset["id"], "title": spec["title"], "link_kind": spec["link_kind"]}
        if "product" in spec:
            body["product_id"] = ps[spec["product"]]["id"]
        _ok(await c.post(f"{ADMIN}/banners", json=body, headers=boss), 201)


async def _shopper(c: httpx.AsyncClient, code: str) -> dict[str, str]:
    token = _ok(await c.post(f"{API}/auth/wechat-login", json={"code": code}))["token"]
    return {"Authorization": f"Bearer {token}"}


async def _pay(c: httpx.AsyncClient, who: dict[str, str], order_id: int) -> None:
    pid = _ok(await c.post(f"{API}/orders/{order_id}/pay", json={"method": "gateway"}, headers=who))["payment_id"]
    _ok(await c.post(f"{API}/payments/sandbox/{pid}/succeed", headers=who))


async def _groupbuy(
    c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]], db: Database | None
) -> int:
    now = clock.now()
    orange = ps["赣南脐橙"]
    body = {
        "title": "赣南脐橙 3人团",
        "product_id": orange["id"],
        "skus": [
            {"sku_id": _sku(orange, "5斤装")["id"], "price_fen": 1990},
            {"sku_id": _sku(orange, "10斤装")["id"], "price_fen": 3590},
        ],
        "group_size": 3,
        "duration_minutes": 24 * 60,
        "new_user_required": False,
        "leader_discount_fen": 200,
        "max_open_per_user": 3,
        "starts_at": _iso(now - timedelta(minutes=10)),
        "ends_at": _iso(now + timedelta(days=7)),
    }
    act = _ok(await c.post(f"{ADMIN}/groupbuy/activities", json=body, headers=boss), 201)
    leader = await _shopper(c, LEADER_CODE)
    order = {"sku_id": body["skus"][0]["sku_id"], "qty": 1, "address": ADDRESS}
    opened = _ok(await c.post(f"{API}/groupbuy/activities/{act['id']}/groups", json=order, headers=leader), 201)
    await _pay(c, leader, opened["order"]["id"])
    await _settle(c, db)  # the payment's events: the group now shows as forming with a free seat
    gid = int(opened["group_id"])
    for _ in range(100):  # a running server's own worker opens it (no `db` to run the jobs here)
        if (await c.get(f"{API}/groupbuy/groups/{gid}")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    return gid


async def _settle(c: httpx.AsyncClient, db: Database | None) -> None:
    """Run the due jobs in-process (`make demo`); against a running server its worker runs them."""
    if db is not None:
        await jobs.run_due(db)


async def _distribution(c: httpx.AsyncClient, boss: dict[str, str]) -> str:
    config = {"enabled": True, "levels": 2, "level1_rate_bp": 1000, "level2_rate_bp": 500, "frozen_days": 7,
              "bind_mode": "first", "min_withdraw_fen": 100, "self_purchase_commission": False,
              "approval": "manual"}  # fmt: skip
    _ok(await c.put(f"{ADMIN}/distribution/config", json=config, headers=boss))
    who = await _shopper(c, DISTRIBUTOR_CODE)
    _ok(await c.post(f"{API}/distribution/apply", headers=who))
    rows = _ok(await c.get(f"{ADMIN}/distribution/distributors", params={"status": "pending"}, headers=boss))
    for d in rows["items"]:
        _ok(await c.post(f"{ADMIN}/distribution/distributors/{d['id']}/decide", json={"approve": True}, headers=boss))
    return str(_ok(await c.get(f"{API}/distribution/me", headers=who))["share_code"])


async def seed(c: httpx.AsyncClient, *, admin_password: str, db: Database | None) -> dict[str, Any]:
    """Make every campaign of the demo through the API; returns what the ready banner prints. `c` is the app
    in-process (`make demo`, with its `db`) or a running demo server over HTTP (`db` None: browser tests)."""
    login = {"username": "admin", "password": admin_password}
    boss = {"Authorization": f"Bearer {_ok(await c.post(f'{ADMIN}/auth/login', json=login))['token']}"}
    ps = await _products(c)
    cats = _ok(await c.get(f"{API}/categories"))
    category_ids = {row["name"]: row["id"] for row in (cats["items"] if isinstance(cats, dict) else cats)}
    await _shipping(c, boss, ps)
    await _coupons(c, boss, category_ids)
    await _promotions(c, boss, ps)
    await _seckill(c, boss, ps)
    await _banners(c, boss, ps)
    loyalty = await _loyalty(c, boss, ps)
    group_id = await _groupbuy(c, boss, ps, db)
    share_code = await _distribution(c, boss)
    await _settle(c, db)
    live = await _live(c, boss, ps, db)
    await _name_shoppers(c, db)
    return {"share_code": share_code, "group_id": group_id, **loyalty, **live}


# The tools that seed their own part (demo/<tool>.py: seed(c, boss, ps) -> what the tour names); in this
# order, since a later one may use an earlier one's data (the points mall, the points rules).
LOYALTY = ("membership", "vip", "wallet", "points", "pointsmall", "bargain")


async def _loyalty(c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    import importlib

    out: dict[str, Any] = {}
    for name in LOYALTY:
        module = importlib.import_module(f"fissionmall.demo.{name}")
        got = await module.seed(c, boss, ps)
        if got:
            out[name] = got
    return out


# The merchant's data, A/B tests and the risk layer (demo/<tool>.py: seed(c, boss, ps, db=...)), after the
# other campaigns: the dashboard's history buys from them, the risk layer judges what they were used for.
# `make demo` loads them in-process (with `db`); seeded over HTTP (`db` None) they are left out.
LIVE = ("experiments", "analytics", "risk")


async def _live(
    c: httpx.AsyncClient, boss: dict[str, str], ps: dict[str, dict[str, Any]], db: Database | None
) -> dict[str, Any]:
    import importlib
    import inspect

    out: dict[str, Any] = {}
    if db is None:  # a running server seeded over HTTP (browser tests): its per-address login limit stands,
        return out  # and these tools' sixty-odd shoppers would exceed it; they are loaded in-process only
    for name in LIVE:
        module = importlib.import_module(f"fissionmall.demo.{name}")
        takes_db = "db" in inspect.signature(module.seed).parameters
        got = await (module.seed(c, boss, ps, db=db) if takes_db else module.seed(c, boss, ps))
        await _settle(c, db)
        if got:
            out[name] = got
    return out


# WeChat gives no nickname at login, so a shopper starts as 微信用户 + four characters of the openid ("微信用户ader"
# for the sandbox code demo-leader); the demo's two shoppers get names a tour can point at.
DEMO_NICKNAMES = {LEADER_CODE: "团长小美", DISTRIBUTOR_CODE: "分销员阿强"}


async def _name_shoppers(c: httpx.AsyncClient, db: Database | None) -> None:
    if db is None:  # a running server's data: the tests that seed it over HTTP read no nickname
        return
    from fissionmall.accounts.models import Customer

    for code, nickname in DEMO_NICKNAMES.items():
        me = _ok(await c.get(f"{API}/me", headers=await _shopper(c, code)))
        async with db.tx() as s:
            await s.execute(update(Customer).where(Customer.id == int(me["id"])).values(nickname=nickname))


async def load_campaigns(settings: Settings, *, admin_password: str) -> dict[str, Any] | None:
    """Seed the campaigns once (None when the shop already has coupon templates); the app runs in-process."""
    from fissionmall.app import create_app

    # The load signs in some sixty demo shoppers from one address within a minute or two (demo/analytics.py,
    # experiments.py): the per-address login limit is the served shop's, not the loader's.
    loader = settings.model_copy(update={"login_rate_per_minute": max(settings.login_rate_per_minute, 1000)})
    application = create_app(loader, run_worker=False)
    async with application.router.lifespan_context(application):
        db = get_db()
        async with db.read() as s:
            if await s.scalar(select(func.count()).select_from(CouponTemplate)):
                return None
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://demo.local", timeout=120) as c:
            info = await seed(c, admin_password=admin_password, db=db)
    (settings.var_dir / INFO_FILE).write_text(json.dumps(info) + "\n")
    return info


def saved_info(settings: Settings) -> dict[str, Any]:
    """What the last demo load saved for the banner ({} when nothing was saved)."""
    path = settings.var_dir / INFO_FILE
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}
