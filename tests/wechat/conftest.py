"""WeChat fixtures: the app with payment_gateway="wechatpay" pointed at the in-process Pay fake.

Keys are generated at test time (nothing is committed); the fakes run in-process through
httpx.ASGITransport, so they see exactly the bytes our client sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fissionmall.core.db import Database, get_db
from fissionmall.payments.gateway import register
from fissionmall.payments.wechatpay import crypto
from fissionmall.payments.wechatpay.fake import FakeNotification, FakeWechatPay
from fissionmall.payments.wechatpay.gateway import WechatPayGateway
from fissionmall.settings import Settings, use_settings
from tests.conftest import RUN_ID, running_app

APPID = "wx8888888888888888"
MCHID = "1900000109"
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
APIV3 = "a12d3924fd499edac8a5efc0a7e2b4c9"[:32]
PUBKEY_ID = "PUB_KEY_ID_0114232134912410000000000000"


@pytest.fixture(scope="session")
def merchant_key() -> Any:
    return crypto.generate_key()


@pytest.fixture(scope="session")
def platform_key() -> Any:
    return crypto.generate_key()


@pytest.fixture
def wx_settings(backend: dict[str, str], tmp_path: Path, merchant_key: Any, platform_key: Any) -> Settings:
    s = Settings(
        env="dev",
        database_url=backend["db"],
        redis_url=backend["redis"],
        redis_prefix=f"fmtest:{RUN_ID}:wx:",
        secret_key="test-secret-" + "x" * 32,
        var_dir=tmp_path / "var",
        embedded_worker=False,
        login_rate_per_minute=10_000,
        order_rate_per_minute=10_000,
        payment_gateway="wechatpay",
        wechat_app_id=APPID,
        wechat_mch_id=MCHID,
        wechat_mch_private_key=crypto.private_pem(merchant_key),
        wechat_mch_serial=SERIAL,
        wechat_apiv3_key=APIV3,
        wechat_platform_public_key=crypto.public_pem(platform_key),
        wechat_platform_public_key_id=PUBKEY_ID,
        wechat_pay_base_url="http://wxpay.fake",
        wechat_notify_base_url="https://shop.example.com",
    )
    use_settings(s)
    return s


@pytest.fixture
def fake_pay(merchant_key: Any, platform_key: Any) -> FakeWechatPay:
    return FakeWechatPay(
        mchid=MCHID,
        appid=APPID,
        merchant_public_pem=crypto.public_pem(merchant_key),
        merchant_serial=SERIAL,
        apiv3_key=APIV3,
        platform_key=platform_key,
        platform_key_id=PUBKEY_ID,
    )


class FlakyTransport(httpx.AsyncBaseTransport):
    """Forwards to the fake; with `drop` > 0 the fake does the work but the answer is lost (a timeout)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.drop = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.drop > 0:
            self.drop -= 1
            await response.aread()
            raise httpx.ReadTimeout("the answer never came", request=request)
        return response


@pytest.fixture
def transport(fake_pay: FakeWechatPay) -> FlakyTransport:
    return FlakyTransport(httpx.ASGITransport(app=fake_pay.app))


@pytest.fixture
async def wx_app(wx_settings: Settings, transport: FlakyTransport) -> AsyncIterator[Any]:
    # app.py registered the gateway from settings (real base URL); route it to the fake.
    def to_fake() -> None:
        register(WechatPayGateway(wx_settings, transport=transport))

    async with running_app(wx_settings, on_start=to_fake) as application:
        yield application


@pytest.fixture
def wx_db(wx_app: Any) -> Database:
    return get_db()


@pytest.fixture
async def wx_client(wx_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    t = httpx.ASGITransport(app=wx_app, client=("10.1.2.3", 5555))
    async with httpx.AsyncClient(transport=t, base_url="http://shop.test", timeout=60) as c:
        yield c


async def deliver(client: httpx.AsyncClient, note: FakeNotification) -> httpx.Response:
    """WeChat posting a notification to our notify URL."""
    path = httpx.URL(note.notify_url).path if note.notify_url else "/api/v1/payments/wechatpay/notify"
    return await client.post(path, content=note.body, headers=note.headers)
