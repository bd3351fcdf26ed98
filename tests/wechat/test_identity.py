"""Who the shopper is, as WeChat says: a high-risk refusal is a 4xx, unionid and the session key are kept
(the key sealed), and getPhoneNumber gives a phone stored sealed with a lookup hash, shown masked."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from fissionmall.accounts.models import Customer
from fissionmall.core.errors import AppError
from fissionmall.wechat import identity, vault
from tests.wechat.test_miniprogram import APPID, fake_mp, mp, mp_settings  # noqa: F401 - fixtures

LOGIN = "/api/v1/auth/wechat-login"


async def _login(client: httpx.AsyncClient, code: str) -> dict[str, str]:
    r = await client.post(LOGIN, json={"code": code})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def _customer(db, openid: str) -> Customer:
    async with db.read() as s:
        c = await s.scalar(select(Customer).where(Customer.openid == openid))
    assert c is not None
    return c


async def test_a_user_wechat_blocks_as_high_risk_gets_a_403_with_its_own_code(mp_settings, client, fake_mp):  # noqa: F811
    fake_mp.state.high_risk.add("o-risky")
    r = await client.post(LOGIN, json={"code": fake_mp.issue_code("o-risky")})
    assert r.status_code == 403, r.text
    err = r.json()["error"]
    assert err["code"] == "WECHAT_USER_HIGH_RISK" and "风险" in err["message"]


async def test_unionid_and_the_sealed_session_key_are_kept(mp_settings, client, db, fake_mp):  # noqa: F811
    fake_mp.state.unionids["o-union"] = "oUnion-1234567890"
    await _login(client, fake_mp.issue_code("o-union"))
    c = await _customer(db, "o-union")
    first = fake_mp.state.session_keys["o-union"]
    assert c.unionid == "oUnion-1234567890"
    assert c.session_key_enc and first not in c.session_key_enc
    assert identity.session_key_of(mp_settings.secret_key, c) == first
    # Sealed for this shopper: on another row, or under another secret, it does not open.
    assert identity.session_key_of("another-secret-" + "y" * 32, c) is None
    other = Customer(id=c.id + 1, openid="o-other", session_key_enc=c.session_key_enc)
    assert identity.session_key_of(mp_settings.secret_key, other) is None

    await _login(client, fake_mp.issue_code("o-union"))  # each login brings a new key
    c = await _customer(db, "o-union")
    assert identity.session_key_of(mp_settings.secret_key, c) == fake_mp.state.session_keys["o-union"] != first
    async with db.read() as s:
        assert (await s.scalars(select(Customer.id).where(Customer.unionid == "oUnion-1234567890"))).all() == [c.id]


async def test_get_phone_number_through_the_fake_is_stored_sealed_hashed_and_shown_masked(
    mp_settings,  # noqa: F811
    client,
    db,
    fake_mp,  # noqa: F811
):
    me = await _login(client, fake_mp.issue_code("o-phone"))
    assert (await client.get("/api/v1/me", headers=me)).json()["phone"] is None
    code = fake_mp.issue_phone_code("13800138000")
    r = await client.post("/api/v1/me/phone", json={"code": code}, headers=me)
    assert r.status_code == 200, r.text
    assert r.json() == {"phone": "138****8000", "country_code": "86"}
    assert (await client.get("/api/v1/me", headers=me)).json()["phone"] == "138****8000"
    assert "getuserphonenumber" in fake_mp.state.calls

    c = await _customer(db, "o-phone")
    assert c.phone_enc and "13800138000" not in c.phone_enc
    assert identity.phone_of(mp_settings.secret_key, c) == ("86", "13800138000")
    assert c.phone_hash == vault.phone_hash(mp_settings.secret_key, "+86 138-0013-8000")
    async with db.read() as s:
        assert await identity.customers_with_phone(s, number="138 0013 8000") == [c.id]
        assert await identity.customers_with_phone(s, number="13900000000") == []

    # getPhoneNumber codes are single use, and unknown ones are refused: a clear 400 either way.
    for bad in (code, "never-issued"):
        r = await client.post("/api/v1/me/phone", json={"code": bad}, headers=me)
        assert r.status_code == 400 and r.json()["error"]["code"] == "WECHAT_PHONE_CODE_INVALID", r.text


async def test_the_phone_fake_refuses_a_reused_or_unknown_code_with_40029(mp, fake_mp):  # noqa: F811
    code = fake_mp.issue_phone_code("13800138000")
    info = await mp.phone_number(code)
    assert info == {"phoneNumber": "13800138000", "purePhoneNumber": "13800138000", "countryCode": "86"}
    token = await mp.access_token()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake_mp.app), base_url="http://mp.fake") as c:
        for bad in (code, "unknown"):
            r = await c.post("/wxa/business/getuserphonenumber", params={"access_token": token}, json={"code": bad})
            assert r.json()["errcode"] == 40029
    with pytest.raises(AppError) as e:
        await mp.phone_number(code)
    assert e.value.code == "WECHAT_PHONE_CODE_INVALID" and e.value.status == 400
    assert (await mp.phone_number(fake_mp.issue_phone_code("81234567", "852")))["countryCode"] == "852"


async def test_sandbox_phone_in_dev(settings, client):
    r = await client.post(LOGIN, json={"code": "phoner"})
    me = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await client.post("/api/v1/me/phone", json={"code": "sandbox-13900001111"}, headers=me)
    assert r.status_code == 200 and r.json()["phone"] == "139****1111", r.text
    r = await client.post("/api/v1/me/phone", json={"code": "whatever"}, headers=me)
    assert r.status_code == 400 and r.json()["error"]["code"] == "WECHAT_PHONE_CODE_INVALID"


async def test_only_a_shopper_can_set_a_phone_and_a_refusal_stores_nothing(settings, client, db):
    from fissionmall.accounts.models import Customer
    from tests.helpers import admin

    r = await client.post(LOGIN, json={"code": "nophone"})
    me = {"Authorization": f"Bearer {r.json()['token']}"}
    boss = await admin(client, db)
    for headers, status in (({}, 401), (boss, 401)):
        r = await client.post("/api/v1/me/phone", json={"code": "sandbox-13900002222"}, headers=headers)
        assert r.status_code == status and r.json()["error"]["code"].isupper(), r.text
    r = await client.post("/api/v1/me/phone", json={"code": "whatever"}, headers=me)
    assert r.status_code == 400
    async with db.read() as s:
        assert (await s.scalars(select(Customer.phone_hash))).all() == [None]


def test_phone_numbers_normalise_to_one_hash_and_mask():
    key = "k" * 40
    same = {vault.phone_hash(key, n) for n in ("13800138000", "+86 138 0013 8000", "86-13800138000")}
    assert len(same) == 1 and vault.phone_hash(key, "13800138001") not in same
    assert vault.phone_hash("other" * 8, "13800138000") not in same
    assert vault.mask_phone("13800138000") == "138****8000"
