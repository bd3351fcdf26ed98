"""WeChat's user risk rank where WeChat is configured: a rule on it fires at its threshold; 61010 (WeChat
knows nothing of the user) is unknown and never refuses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fissionmall.risk.decisions import Action, Outcome
from fissionmall.wechat import miniprogram
from fissionmall.wechat.miniprogram import MiniProgramClient
from fissionmall.wechat.mpfake import FakeMiniProgram
from tests.risk.engine_helpers import act, only, rule

APPID, SECRET = "wx2222222222222222", "s" * 32


@pytest.fixture
def fake_mp() -> FakeMiniProgram:
    return FakeMiniProgram(appid=APPID, secret=SECRET)


@pytest.fixture
def settings_mp(settings: Any, fake_mp: FakeMiniProgram) -> Iterator[Any]:
    settings.wechat_app_id, settings.wechat_app_secret = APPID, SECRET
    settings.wechat_api_base_url = "http://mp.fake"
    miniprogram.CLIENTS[(APPID, "http://mp.fake")] = MiniProgramClient(
        appid=APPID, secret=SECRET, base_url="http://mp.fake", transport=httpx.ASGITransport(app=fake_mp.app)
    )
    yield settings
    miniprogram.CLIENTS.clear()


async def _login(client: httpx.AsyncClient, fake_mp: FakeMiniProgram, openid: str) -> int:
    r = await client.post("/api/v1/auth/wechat-login", json={"code": fake_mp.issue_code(openid)})
    assert r.status_code == 200, r.text
    return int(r.json()["user"]["id"])


async def test_the_risk_rank_fires_at_its_threshold_and_unknown_never_refuses(settings_mp, client, db, fake_mp):
    await only(db, rule("wechat_risk_rank >= 3", name="wx_high"))
    ranks = {"o-low": 2, "o-high": 3}
    fake_mp.state.risk_ranks.update(ranks)
    low, high, unknown = [await _login(client, fake_mp, o) for o in ("o-low", "o-high", "o-nobody")]
    assert (await act(db, Action.COUPON_CLAIM, customer_id=low)).outcome is Outcome.ALLOW
    v = await act(db, Action.COUPON_CLAIM, customer_id=high)
    assert v.outcome is Outcome.DENY and v.reasons == ("wx_high",)
    assert (await act(db, Action.COUPON_CLAIM, customer_id=unknown)).outcome is Outcome.ALLOW
    assert fake_mp.state.calls.count("getuserriskrank") == 3
    await act(db, Action.GROUP_OPEN, customer_id=high)
    assert fake_mp.state.calls.count("getuserriskrank") == 3  # cached


async def test_without_wechat_the_rank_is_unknown(app, db):
    await only(db, rule("wechat_risk_rank >= 0 or wechat_risk_rank < 0", name="wx_any", confirm=True))
    assert (await act(db, Action.COUPON_CLAIM)).outcome is Outcome.ALLOW
