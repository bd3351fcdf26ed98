"""`python -m fissionmall.wechat.fake`: both fakes on one app, with the settings a shop needs."""

from __future__ import annotations

import httpx

from fissionmall.core import clock
from fissionmall.payments.wechatpay.gateway import client_from_settings
from fissionmall.settings import Settings
from fissionmall.wechat.fake import build
from fissionmall.wechat.miniprogram import MiniProgramClient


async def test_runner_serves_both_fakes_with_generated_settings(tmp_path):
    clock.reset()
    app, env = build(tmp_path, 8900)
    settings = Settings(
        env="dev", var_dir=tmp_path, **{k.removeprefix("FISSIONMALL_").lower(): v for k, v in env.items()}
    )
    assert settings.wechat_pay_configured and settings.wechat_login_configured
    transport = httpx.ASGITransport(app=app)
    pay = client_from_settings(settings, transport)
    prepay_id = await pay.jsapi_prepay(
        out_trade_no="P0000000001",
        description="订单 X",
        amount_fen=100,
        openid="o-1",
        notify_url="http://127.0.0.1:8000/api/v1/payments/wechatpay/notify",
        time_expire=clock.now(),
    )
    assert prepay_id.startswith("wx")
    assert (await pay.query("P0000000001"))["trade_state"] == "NOTPAY"
    mp = MiniProgramClient(appid=settings.wechat_app_id, secret=settings.wechat_app_secret, transport=transport)
    assert (await mp.code2session("abc")).openid == "fake-abc"
