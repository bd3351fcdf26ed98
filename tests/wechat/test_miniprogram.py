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
    from tests.distribution.helpers import configure
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


# ---- share codes as WeChat takes them: page, build, check_path ----------------------------------------


def test_the_share_page_setting_loses_its_leading_slash_and_refuses_a_query_or_spaces():
    from pydantic import ValidationError

    from fissionmall.settings import Settings

    assert Settings(wechat_share_page="/pages/item/item").wechat_share_page == "pages/item/item"
    assert Settings(wechat_share_page="pages/item/item").wechat_share_page == "pages/item/item"
    for bad in ("pages/item/item?id=1", "pages/item /item", "/pages/a b"):
        with pytest.raises(ValidationError):
            Settings(wechat_share_page=bad)
    assert Settings().wechat_env_version == "release"
    with pytest.raises(ValidationError):
        Settings(wechat_env_version="beta")


async def test_the_fake_refuses_a_page_with_a_leading_slash_and_the_client_never_sends_one(mp, fake_mp):
    token = await mp.access_token()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_mp.app), base_url="http://mp.fake") as c:
        r = await c.post(
            "/wxa/getwxacodeunlimit",
            params={"access_token": token},
            json={"scene": "d=1", "page": "/pages/index/index", "check_path": False},
        )
    assert r.json() == {"errcode": 41030, "errmsg": "invalid page"}
    png = await mp.wxacode_unlimited(scene="d=1", page="/pages/index/index")
    assert png.startswith(b"\x89PNG") and fake_mp.state.codes_made[-1]["page"] == "pages/index/index"


async def test_env_version_is_a_setting_and_trial_codes_skip_the_published_page_check(settings, mp, fake_mp):
    fake_mp.published_pages = {"pages/index/index"}
    # release: WeChat checks the page is published, so a page only the trial build has is refused
    with pytest.raises(AppError) as e:
        await mp.wxacode_unlimited(scene="d=2", page="pages/new/new")
    assert e.value.code == "WECHAT_CODE_IMAGE_FAILED"
    await mp.wxacode_unlimited(scene="d=2", page="pages/index/index")
    assert fake_mp.state.codes_made[-1] | {"scene": ""} == {
        "scene": "",
        "width": 430,
        "page": "pages/index/index",
        "env_version": "release",
        "check_path": True,
    }
    settings.wechat_env_version = "trial"
    assert (await mp.wxacode_unlimited(scene="d=3", page="pages/new/new")).startswith(b"\x89PNG")
    made = fake_mp.state.codes_made[-1]
    assert (made["env_version"], made["check_path"], made["page"]) == ("trial", False, "pages/new/new")


async def test_a_distributors_code_opens_the_configured_build(mp_settings, client, db, fake_mp):
    from tests.distribution.helpers import configure
    from tests.helpers import admin

    mp_settings.wechat_env_version = "develop"
    mp_settings.wechat_share_page = "/pages/share/share"  # as someone might still have it in the code
    boss = await admin(client, db)
    await configure(client, boss)
    r = await client.post("/api/v1/auth/wechat-login", json={"code": fake_mp.issue_code("o-trial")})
    h = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.post("/api/v1/distribution/apply", headers=h)).status_code == 200
    share = (await client.get("/api/v1/distribution/share", headers=h)).json()
    assert share["wxacode_png_url"], share
    (made,) = fake_mp.state.codes_made
    assert (made["env_version"], made["check_path"], made["page"]) == ("develop", False, "pages/share/share")


async def test_login_40226_is_a_4xx(mp):
    import json as _json

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=_json.dumps({"errcode": 40226, "errmsg": "high risk user"}))

    risky = MiniProgramClient(
        appid=APPID, secret=SECRET, base_url="http://mp.fake", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(AppError) as e:
        await risky.code2session("0abc")
    assert e.value.status == 403 and e.value.code == "WECHAT_USER_HIGH_RISK"
