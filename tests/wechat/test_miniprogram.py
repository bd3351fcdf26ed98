"""Mini-program server APIs against the local fake: login, token refresh, share codes, messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fissionmall.core.errors import AppError
from fissionmall.wechat import miniprogram
from fissionmall.wechat.miniprogram import MiniProgramClient
from fissionmall.wechat.mpfake import FakeMiniProgram

APPID, SECRET = "wx1111111111111111", "s" * 32


@pytest.fixture
def fake_mp() -> FakeMiniProgram:
    return FakeMiniProgram(appid=APPID, secret=SECRET, accept_any_code=False)


@pytest.fixture
def mp(fake_mp: FakeMiniProgram) -> MiniProgramClient:
    return MiniProgramClient(
        appid=APPID, secret=SECRET, base_url="http://mp.fake", transport=httpx.ASGITransport(app=fake_mp.app)
    )


@pytest.fixture
def mp_settings(settings: Any, mp: MiniProgramClient) -> Iterator[Any]:
    """The shared test settings with WeChat login configured, its client pointed at the fake."""
    settings.wechat_app_id, settings.wechat_app_secret = APPID, SECRET
    settings.wechat_api_base_url = "http://mp.fake"
    miniprogram.CLIENTS[(APPID, "http://mp.fake")] = mp
    yield settings
    miniprogram.CLIENTS.clear()


async def test_login_with_a_real_code_then_the_reused_code_is_refused(mp_settings, client, fake_mp):
    code = fake_mp.issue_code("o-alice")
    r = await client.post("/api/v1/auth/wechat-login", json={"code": code})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["is_new"] is True
    r = await client.post("/api/v1/auth/wechat-login", json={"code": code})
    assert r.status_code == 400 and r.json()["error"]["code"] == "WECHAT_CODE_USED"
    r = await client.post("/api/v1/auth/wechat-login", json={"code": "never-issued"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "WECHAT_CODE_INVALID"


async def test_an_expired_access_token_is_refreshed_and_the_call_retried_once(mp, fake_mp):
    png = await mp.wxacode_unlimited(scene="d=42&g=7", page="pages/index/index")
    assert png.startswith(b"\x89PNG")
    assert fake_mp.state.token_fetches == 1
    await mp.wxacode_unlimited(scene="d=42")
    assert fake_mp.state.token_fetches == 1  # cached
    fake_mp.expire_token()
    png = await mp.wxacode_unlimited(scene="d=43")
    assert png.startswith(b"\x89PNG")
    assert fake_mp.state.token_fetches == 2
    assert fake_mp.state.calls[-3:] == ["getwxacodeunlimit", "stable_token", "getwxacodeunlimit"]


async def test_token_refreshed_before_expiry(mp, fake_mp):
    from fissionmall.core import clock

    clock.reset()
    await mp.access_token()
    clock.advance(7200 - 400)  # not yet inside the 5-minute margin: cached
    await mp.access_token()
    assert fake_mp.state.token_fetches == 1
    clock.advance(200)  # now inside it: fetched again before it expires
    await mp.access_token()
    clock.reset()
    assert fake_mp.state.token_fetches == 2


async def test_share_code_scene_rules_and_json_errors(mp, fake_mp):
    with pytest.raises(AppError) as e:
        await mp.wxacode_unlimited(scene="x" * 33)
    assert e.value.code == "WECHAT_SCENE_INVALID"
    assert "getwxacodeunlimit" not in fake_mp.state.calls


async def test_subscribe_quota_errors_are_recorded_not_raised(mp, fake_mp):
    ok = await mp.send_subscribe(openid="o-1", template_id="T1", data={"thing1": "订单已发货"})
    assert ok.ok and fake_mp.state.sent[0]["data"] == {"thing1": {"value": "订单已发货"}}
    fake_mp.refuse("o-2")
    res = await mp.send_subscribe(openid="o-2", template_id="T1", data={"thing1": "拼团成功"})
    assert not res.ok and res.errcode == 43101
    assert mp.quota_errors == [("T1", 43101, "user refuse to accept the msg")]


async def test_msg_sec_check(mp):
    assert await mp.msg_sec_check(openid="o-1", content="很好用") == "pass"
    assert await mp.msg_sec_check(openid="o-1", content="含违禁词的评论") == "risky"


async def test_a_distributors_poster_carries_the_mini_program_code(mp_settings, client, db, fake_mp, monkeypatch):
    from tests.distribution.support import configure
    from tests.helpers import admin, product

    boss = await admin(client, db)
    await configure(client, boss)
    p = await product(client, boss, prices=(10000,))
    r = await client.post("/api/v1/auth/wechat-login", json={"code": fake_mp.issue_code("o-sharer")})
    h = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.post("/api/v1/distribution/apply", headers=h)).json()["status"] == "approved"

    share = (await client.get("/api/v1/distribution/share", params={"product_id": p["id"]}, headers=h)).json()
    assert share["scene"].startswith("r=") and share["wxacode_png_url"], share
    code = await client.get(share["wxacode_png_url"])
    assert code.status_code == 200 and code.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert fake_mp.state.calls.count("getwxacodeunlimit") == 1
    again = (await client.get("/api/v1/distribution/share", params={"product_id": p["id"]}, headers=h)).json()
    assert again == share and fake_mp.state.calls.count("getwxacodeunlimit") == 1  # kept, not fetched again

    # WeChat refuses (quota, a page not yet released): the share still works, with a QR code on the poster.
    async def refuse(*args: Any, **kwargs: Any) -> bytes:
        raise AppError("WECHAT_CODE_IMAGE_FAILED", "WeChat made no share code (45009)", status=502)

    monkeypatch.setattr(MiniProgramClient, "wxacode_unlimited", refuse)
    shop = (await client.get("/api/v1/distribution/share", headers=h)).json()
    assert shop["wxacode_png_url"] is None
    assert (await client.get(shop["poster_png_url"])).status_code == 200
    assert shop["poster_png_url"] != share["poster_png_url"]
