"""`make demo` is a living shop: every tool of the README tour has something live on a fresh database."""

from __future__ import annotations

import contextlib
import os
import pathlib
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select

from fissionmall.analytics import rollups
from fissionmall.analytics.kinds import NON_GOODS_SOURCES
from fissionmall.analytics.recorder import shop_day
from fissionmall.core import clock
from fissionmall.core.db import Database
from fissionmall.demo.campaigns import DEMO_NICKNAMES, seed
from fissionmall.demo.loader import load_demo
from fissionmall.ops import monitor
from fissionmall.orders.models import Order
from fissionmall.risk import engine as risk_engine
from fissionmall.settings import Settings, get_settings
from tests.console_helpers import console
from tests.helpers import ADDRESS, pay, run_jobs, shopper
from tests.seckill.helpers import attempt, drain

PASSWORD = "demo-test-password"
ROOT = pathlib.Path(__file__).resolve().parents[2]


async def _loaded(client: httpx.AsyncClient, db: Database, settings: Settings) -> dict[str, Any]:
    assert await load_demo(settings, admin_password=PASSWORD) is True
    info = await seed(client, admin_password=PASSWORD, db=db)
    assert await load_demo(settings, admin_password=PASSWORD) is False  # a second load refuses: already there
    return info


async def test_the_demo_has_every_tool_live(client, db, settings):
    info = await _loaded(client, db, settings)
    boss_login = {"username": "admin", "password": PASSWORD}
    boss = {
        "Authorization": f"Bearer {(await client.post('/api/admin/v1/auth/login', json=boss_login)).json()['token']}"
    }
    visitor = await shopper(client, "demo-visitor")
    await run_jobs(db)

    # the tour's two shoppers have names, not the sandbox's 微信用户 + the code's tail
    for code, nickname in DEMO_NICKNAMES.items():
        assert (await client.get("/api/v1/me", headers=await shopper(client, code))).json()["nickname"] == nickname

    # 领券中心: amount and percent templates with thresholds, claimable; the 新人礼包 reached the newcomer
    centre = (await client.get("/api/v1/coupons", headers=visitor)).json()
    rows = centre["items"] if isinstance(centre, dict) else centre
    assert len(rows) >= 3 and {r["kind"] for r in rows} == {"amount", "percent"}
    assert all(r["can_claim"] for r in rows) and any(r["threshold_fen"] > 0 for r in rows)
    r = await client.post(f"/api/v1/coupons/{rows[0]['id']}/claim", headers=visitor)
    assert r.status_code in (200, 201), r.text
    mine = (await client.get("/api/v1/me/coupons", headers=visitor)).json()
    names = {c["name"] for c in (mine["items"] if isinstance(mine, dict) else mine)}
    assert {"新人无门槛5元", "新人满59减15", rows[0]["name"]} <= names

    # products carry a gallery of generated pictures that exist on disk
    products = (await client.get("/api/v1/products", params={"limit": 100})).json()["items"]
    assert len(products) >= 12
    detail = (await client.get(f"/api/v1/products/{products[0]['id']}")).json()
    assert 2 <= len(detail["images"]) <= 3
    for url in detail["images"]:
        assert (settings.media_dir / url.removeprefix("/media/")).is_file()

    # 满减 over 199: the preview shows the reduction step
    by_title = {p["title"]: p for p in products}
    buds = (await client.get(f"/api/v1/products/{by_title['蓝牙无线耳机']['id']}")).json()
    sku = next(k for k in buds["skus"] if k["name"] == "黑色")
    r = await client.post(
        "/api/v1/checkout/preview",
        json={"items": [{"sku_id": sku["id"], "qty": 1}], "address": ADDRESS},
        headers=visitor,
    )
    assert r.status_code == 200, r.text
    steps = r.json()["steps"]
    assert any(st["kind"] == "reduction" and st["amount_fen"] == -3000 for st in steps), steps

    # The mall itself: 运费模板 (the default by the piece, 满99包邮, no delivery to 港澳台; a free one whose
    # products carry a derived 包邮), a spec matrix with 划线价 and a sold-out combination, a 图文详情
    templates = (await client.get("/api/admin/v1/shipping/templates", headers=boss)).json()
    rows_t = templates["items"] if isinstance(templates, dict) else templates
    assert {t["name"] for t in rows_t} == {"普通快递", "产地直发包邮"}
    assert by_title["赣南脐橙"]["labels"].count("包邮") == 1 and "包邮" not in by_title["海南贵妃芒果"]["labels"]
    suit = (await client.get(f"/api/v1/products/{by_title['婴儿纯棉连体衣']['id']}")).json()
    assert [d["name"] for d in suit["specs"]] == ["颜色", "尺码"] and len(suit["skus"]) == 9
    assert all(k["list_price_fen"] > k["price_fen"] for k in suit["skus"])
    assert [k["spec"] for k in suit["skus"] if k["stock"] == 0] == [{"颜色": "雾蓝", "尺码": "80"}]
    oranges = (await client.get(f"/api/v1/products/{by_title['赣南脐橙']['id']}")).json()
    assert "<img" in oranges["detail_html"] and "<h3>" in oranges["detail_html"]
    small = next(k for k in suit["skus"] if k["price_fen"] == 5900)
    for region, fee in (("新疆维吾尔自治区 乌鲁木齐市 天山区", 2000), ("上海市 浦东新区", 800)):
        r = await client.post(
            "/api/v1/checkout/preview",
            json={"items": [{"sku_id": small["id"], "qty": 1}], "address": {**ADDRESS, "region": region}},
            headers=visitor,
        )
        assert r.status_code == 200, r.text
        assert [st["amount_fen"] for st in r.json()["steps"] if st["kind"] == "shipping"] == [fee], r.json()

    # 首页轮播图: two banners from the 素材库, to the 领券中心 and to the product on flash sale now
    banners = (await client.get("/api/v1/banners")).json()["items"]
    assert [b["title"] for b in banners] == ["新人礼包 · 领券立减", "限时秒杀 · 蓝牙无线耳机"]
    assert banners[0]["link"] == "#/coupons" and banners[1]["link"] == f"#/p/{by_title['蓝牙无线耳机']['id']}"
    assert all(b["image_url"].startswith("/media/lib/") for b in banners)

    # 秒杀: one session on sale now (buyable at once), one later today
    sessions = (await client.get("/api/v1/seckill/sessions")).json()["sessions"]
    states = [{i["state"] for i in sess["items"]} for sess in sessions]
    assert {"active"} in states and len(sessions) >= 2
    live = next(sess for sess in sessions if {i["state"] for i in sess["items"]} == {"active"})
    item = live["items"][0]
    sku_prices = {
        k["id"]: k["price_fen"]
        for p in products
        for k in (await client.get(f"/api/v1/products/{p['id']}")).json()["skus"]
    }
    assert all(i["price_fen"] < sku_prices[i["sku_id"]] for sess in sessions for i in sess["items"])
    r = await attempt(client, visitor, item["id"])
    assert r.status_code == 202, r.text
    await drain(db)
    r = await client.get(f"/api/v1/seckill/attempts/{r.json()['attempt_id']}", headers=visitor)
    assert r.json()["status"] == "succeeded", r.text

    # 拼团: a forming group with a free seat; another shopper joins and pays
    acts = (await client.get("/api/v1/groupbuy/activities")).json()
    act = (acts["items"] if isinstance(acts, dict) else acts)[0]
    groups = (await client.get(f"/api/v1/groupbuy/activities/{act['id']}/groups")).json()
    assert [g["id"] for g in groups] == [info["group_id"]] and groups[0]["members"] < groups[0]["size"]
    joiner = await shopper(client, "demo-joiner")
    r = await client.post(
        f"/api/v1/groupbuy/groups/{info['group_id']}/join",
        json={"sku_id": act["skus"][0]["sku_id"], "qty": 1, "address": ADDRESS},
        headers=joiner,
    )
    assert r.status_code == 201, r.text
    await pay(client, joiner, r.json()["order"]["id"])
    await run_jobs(db)
    g = (await client.get(f"/api/v1/groupbuy/groups/{info['group_id']}", headers=joiner)).json()
    assert g["paid_members"] == 2 and g["status"] == "forming"

    # 分销: switched on at 10% / 5%, one approved distributor whose code the banner prints
    config = (await client.get("/api/admin/v1/distribution/config", headers=boss)).json()
    assert config["enabled"] and config["level1_rate_bp"] == 1000 and config["level2_rate_bp"] == 500
    approved = (await client.get("/api/admin/v1/distribution/distributors?status=approved", headers=boss)).json()
    assert len(approved["items"]) == 1
    assert info["share_code"]

    # 会员: four levels (黄金 9折, 钻石 8折 包邮) and the member day on the 18th; the visitor is a 普通会员
    levels = (await client.get("/api/admin/v1/membership/levels", headers=boss)).json()
    assert [lv["name"] for lv in levels] == ["普通会员", "白银会员", "黄金会员", "钻石会员"], levels
    assert (await client.get("/api/v1/me", headers=visitor)).json()["level"] == "普通会员"
    day = (await client.get("/api/v1/membership/member-day")).json()
    assert day["enabled"] and day["day_of_month"] == 18, day
    # 付费会员: 尊享会员 for ¥99 a year, with member prices on two SKUs
    plans = (await client.get("/api/v1/membership/plans")).json()
    plans = plans["items"] if isinstance(plans, dict) else plans
    assert [(p["name"], p["price_fen"], p["days"]) for p in plans] == [("尊享会员", 9900, 365)]
    assert len(info["vip"]["member_prices"]) == 2
    # 储值: 充500送100 and 充200送30
    packs = (await client.get("/api/v1/wallet/packages")).json()
    packs = packs["items"] if isinstance(packs, dict) else packs
    assert sorted((p["pay_fen"], p["bonus_fen"]) for p in packs) == [(20000, 3000), (50000, 10000)]
    # 积分: signing in grants points; the 积分商城 has a coupon and a product
    r = await client.post("/api/v1/points/sign-in", headers=visitor)
    assert r.status_code == 200 and r.json()["granted"] > 0, r.text
    mall = (await client.get("/api/v1/points/mall")).json()
    mall = mall["items"] if isinstance(mall, dict) else mall
    assert {m["kind"] for m in mall} == {"coupon", "product"}
    # 砍价: an activity running now with a bargain a demo shopper started and a friend has cut
    acts = (await client.get("/api/v1/bargain/activities")).json()
    assert len(acts["items"] if isinstance(acts, dict) else acts) == 1
    bargain = (await client.get(f"/api/v1/bargain/{info['bargain']['bargain_id']}")).json()
    assert len(bargain["helps"]) == 1 and bargain["target_fen"] == 3900 < bargain["price_fen"], bargain
    # none of the tools' own coupons (birthday, membership, mall) is offered in the 领券中心
    assert not {r["name"] for r in rows} & {"会员生日礼券"}

    await console(client, db, "owner")  # the console pages below: 数据中心, 实验, 实时监控
    await _data_centre_is_live(client, db, boss)
    await _experiment_is_live(client, db, boss, info)
    await _risk_is_live(client, db, boss, info)
    await _monitor_is_live(client, db)


async def _data_centre_is_live(client: httpx.AsyncClient, db: Database, boss: dict[str, str]) -> None:
    """数据中心: two weeks of history per day, per tool, funnels, the distributor and both touch models, and
    the figures agree with the orders table to the fen."""
    async with db.tx() as s:
        await rollups.catch_up(s, settle_seconds=0)  # the worker's loop: the events the test itself made
    today = shop_day(clock.now())
    span = {"from": (today - timedelta(days=13)).isoformat(), "to": today.isoformat()}
    dash = (await client.get("/api/admin/v1/dashboard", params=span, headers=boss)).json()
    assert len([d for d in dash["daily"] if d["orders"] > 0]) >= 12, dash["daily"]
    lo = datetime.combine(today - timedelta(days=13), datetime.min.time(), tzinfo=ZoneInfo(get_settings().timezone))
    async with db.read() as s:
        goods = (Order.paid_at >= lo, Order.source.not_in(NON_GOODS_SOURCES))
        n, fen = (await s.execute(select(func.count(), func.coalesce(func.sum(Order.paid_fen), 0)).where(*goods))).one()
    assert (dash["overview"]["orders"], dash["overview"]["paid_fen"]) == (n, fen) and n >= 25
    assert dash["overview"]["new_customers"] >= 20 and dash["overview"]["discount_fen"] > 0
    assert sum(d["paid_fen"] for d in dash["daily"]) == fen
    touches = {a["tool"]: a for a in dash["attribution"]}
    assert touches["distribution"]["first_orders"] > 0 and touches["seckill"]["last_orders"] > 0, touches
    assert sum(a["first_paid_fen"] for a in touches.values()) == sum(a["last_paid_fen"] for a in touches.values())
    tools = {
        x["tool"]: x
        for x in (await client.get("/api/admin/v1/dashboard/tools", params=span, headers=boss)).json()["items"]
    }
    for tool in ("coupons", "promotions", "seckill", "groupbuy", "normal"):
        assert tools[tool]["orders"] > 0 and tools[tool]["paid_fen"] > 0, (tool, tools.get(tool))
    assert tools["coupons"]["participants"] > 0 and tools["coupons"]["discount_fen"] > 0
    assert tools["distribution"]["commission_fen"] > 0 if "distribution" in tools else True
    funnels = (await client.get("/api/admin/v1/dashboard/funnels", params=span, headers=boss)).json()["items"]
    seen = {f["tool"]: [st["people"] for st in f["steps"]] for f in funnels}
    for tool in ("seckill", "groupbuy"):  # viewed → participated → ordered → paid, each step with people
        assert seen[tool][0] > seen[tool][1] > 0 and seen[tool][-1] > 0, seen
    assert seen["coupons"][1] > 0 and {f["worst_step"] for f in funnels} - {None}, funnels
    dists = (await client.get("/api/admin/v1/dashboard/distributors", params=span, headers=boss)).json()["items"]
    assert (
        [d["nickname"] for d in dists] == ["分销员阿强"] and dists[0]["orders"] > 0 and dists[0]["commission_fen"] > 0
    )
    page = await client.get("/admin/data", params=span)
    assert page.status_code == 200 and "数据中心" in page.text


async def _experiment_is_live(
    client: httpx.AsyncClient, db: Database, boss: dict[str, str], info: dict[str, Any]
) -> None:
    """实验: 满100减20 against 买2送1 running now, visitors and orders in both arms, a newcomer priced by arm."""
    exps = (await client.get("/api/admin/v1/experiments", headers=boss)).json()["items"]
    (exp,) = [e for e in exps if e["running"]]
    assert exp["id"] == info["experiments"]["experiment_id"] and [a["name"] for a in exp["arms"]] == [
        "满100减20",
        "买2送1",
    ]
    res = (await client.get(f"/api/admin/v1/experiments/{exp['id']}/results", headers=boss)).json()
    arms = res["arms"]
    assert len(arms) == 2 and all(a["visitors"] > 0 and a["conversions"] > 0 for a in arms), arms
    assert (
        sum(a["visitors"] for a in arms) == info["experiments"]["shoppers"] and res["verdict"] == "insufficient_sample"
    )
    beef = (await client.get(f"/api/v1/products/{exp['product_id']}")).json()
    sku = next(k for k in beef["skus"] if k["name"] == "五香味 250g")["id"]
    newcomer = await shopper(client, "demo-ab-newcomer")
    q = (
        await client.post(
            "/api/v1/checkout/preview",
            json={"items": [{"sku_id": sku, "qty": 2}], "address": ADDRESS},
            headers=newcomer,
        )
    ).json()
    reduced = any(st["kind"] == "reduction" and st["amount_fen"] == -2000 for st in q["steps"])
    gifted = any(line["payable_fen"] == 0 for line in q["lines"][1:])
    assert reduced != gifted, q  # exactly one arm's offer
    assert (await client.get(f"/admin/experiments/{exp['id']}")).status_code == 200


async def _risk_is_live(client: httpx.AsyncClient, db: Database, boss: dict[str, str], info: dict[str, Any]) -> None:
    """风控: the default rules, decisions with the bot phone's refusals, the distributor's held withdrawal
    that a reviewer releases once; and a fifth account on the bot phone is refused now."""
    rules = {r["name"]: r for r in (await client.get("/api/admin/v1/risk/rules", headers=boss)).json()}
    assert {"device_many_accounts", "large_withdrawal", "distributor_same_device", "demo_withdrawal_review"} <= set(
        rules
    )
    assert info["risk"]["bot_claims"][:2] == [201, 201] and all(c >= 400 for c in info["risk"]["bot_claims"][2:])
    bot = await client.post(
        "/api/v1/auth/wechat-login", json={"code": "demo-bot-9"}, headers={"X-Device-Id": "demo-bot-phone"}
    )
    bot_h = {"Authorization": f"Bearer {bot.json()['token']}", "X-Device-Id": "demo-bot-phone"}
    coupons = (await client.get("/api/v1/coupons", headers=bot_h)).json()
    tpl = next(t for t in (coupons["items"] if isinstance(coupons, dict) else coupons) if t["name"] == "满299减50")
    r = await client.post(f"/api/v1/coupons/{tpl['id']}/claim", headers=bot_h)
    assert 400 <= r.status_code < 500 and "device_many_accounts" not in r.text, r.text  # plain Chinese, no rule name
    await risk_engine.flush_now(db)
    decisions = (await client.get("/api/admin/v1/risk/decisions", params={"limit": 100}, headers=boss)).json()["items"]
    assert len({d["action"] for d in decisions}) >= 4, {d["action"] for d in decisions}
    q = {"outcome": "deny", "action": "coupon_claim", "limit": 100}
    denied = (await client.get("/api/admin/v1/risk/decisions", params=q, headers=boss)).json()["items"]
    denied = [d for d in denied if d["device_id"] == "demo-bot-phone"]
    assert len(denied) >= 3 and all(any("device_many_accounts" in x for x in d["reasons"]) for d in denied), denied
    held = info["risk"]["withdrawal"]
    assert held["status"] == "held" and held["amount_fen"] >= 1000
    queue = (await client.get("/api/admin/v1/risk/reviews", params={"status": "pending"}, headers=boss)).json()["items"]
    (review,) = [v for v in queue if v["kind"] == "withdrawal"]
    assert review["ref_id"] == held["id"] and review["reasons"], review
    dist = await shopper(client, "demo-distributor")
    me = (await client.get("/api/v1/distribution/me", headers=dist)).json()
    assert review["customer_id"] == int((await client.get("/api/v1/me", headers=dist)).json()["id"])
    assert me["withdrawing_fen"] == held["amount_fen"] and me["available_fen"] == 0, me
    decide = f"/api/admin/v1/risk/reviews/{review['id']}/decide"
    assert (await client.post(decide, json={"decision": "release"}, headers=boss)).status_code == 200
    assert (await client.post(decide, json={"decision": "void"}, headers=boss)).status_code == 409
    await run_jobs(db)
    await run_jobs(db)
    mine = (await client.get("/api/v1/distribution/withdrawals", headers=dist)).json()["items"]
    assert [w["status"] for w in mine if w["id"] == held["id"]] == ["paid"]


async def _monitor_is_live(client: httpx.AsyncClient, db: Database) -> None:
    """实时监控: this hour's orders and payments, as the database has them, and the flash sale's attempts."""
    figures = await monitor.figures(db)
    start = monitor.window_start(clock.now())
    async with db.read() as s:
        placed = await s.scalar(select(func.count()).where(Order.created_at >= start))
        paid = await s.scalar(select(func.count()).where(Order.created_at >= start, Order.paid_at.is_not(None)))
    assert (figures["payments"]["placed"], figures["payments"]["paid"]) == (placed, paid) and paid >= 10
    assert figures["orders_peak"] > 0 and figures["payments"]["success_bp"] is not None
    assert figures["seckill"], figures["seckill"]
    page = await client.get("/admin/monitor")
    assert page.status_code == 200 and "实时监控" in page.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM (uvicorn's graceful stop), SIGKILL if it lingers."""
    proc.terminate()
    if proc.poll() is None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=15)
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


def test_the_cli_prints_the_banner_after_the_port_is_bound(tmp_path: pathlib.Path) -> None:
    port = _free_port()
    outside = {k: v for k, v in os.environ.items() if not k.startswith(("FISSIONMALL_SERVICE_", "FISSIONMALL_RETURN_"))}
    env = {**outside, "FISSIONMALL_ENV": "dev", "FISSIONMALL_VAR_DIR": str(tmp_path / "var"),
           "FISSIONMALL_SECRET_KEY": "demo-cli-secret-" + "z" * 32, "FISSIONMALL_REDIS_URL": "",
           "FISSIONMALL_DATABASE_URL": "", "PYTHONPATH": str(ROOT / "src")}  # fmt: skip
    cmd = [sys.executable, "-m", "fissionmall.cli", "demo", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if "share link:" in line:
                break
        assert any("fissionmall demo is ready" in line for line in seen), "".join(seen)
        # the banner is out: the port already answers, no waiting
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/healthz", timeout=10).status_code == 200
        # The demo shop has a 客服 contact (联系客服 shows) unless the environment names its own.
        info = httpx.get(base + "/api/v1/shop/info", timeout=10).json()
        assert info["service_phone"] == "400-820-8820" and info["service_wechat"] == "liebian-kefu"
        # the running flash sale is buyable on the real server, which has no Redis (a separate process loaded it)
        me = httpx.post(base + "/api/v1/auth/wechat-login", json={"code": "cli-visitor"}, timeout=10).json()
        h = {"Authorization": f"Bearer {me['token']}"}
        sessions = httpx.get(base + "/api/v1/seckill/sessions", timeout=10).json()["sessions"]
        item = next(i for sess in sessions for i in sess["items"] if i["state"] == "active")
        tok = httpx.post(f"{base}/api/v1/seckill/items/{item['id']}/token", headers=h, timeout=10).json()["token"]
        body = {"qty": 1, "token": tok, "address": ADDRESS}
        r = httpx.post(f"{base}/api/v1/seckill/items/{item['id']}/attempts", json=body, headers=h, timeout=10)
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 60
        status = "queued"
        while status == "queued" and time.monotonic() < deadline:
            status = httpx.get(
                f"{base}/api/v1/seckill/attempts/{r.json()['attempt_id']}", headers=h, timeout=10
            ).json()["status"]
            time.sleep(0.2)
        assert status == "succeeded"
    finally:
        _stop(proc)
    # a second start keeps the data and says so
    again = subprocess.run([*cmd, "--load-only"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "already loaded" in again.stdout and "share link:" in again.stdout
