"""Every create (and config) body ../shared/API.md names, posted with exactly the contract's fields, is
accepted (2xx). One row per call, in an order that builds the state the next rows need; a call that
refuses its contract body (a field made required the contract does not name) fails here.

A row: (what, who, method, path, body, save-as). `who` is a key of the headers built so far, path and body
may be functions of the state `st` (saved responses and ids); `save-as` stores the response JSON there.
Steps that are not contract calls (running due jobs) are `("run jobs", ...)` rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fissionmall.accounts import service as accounts
from fissionmall.core import clock
from tests.helpers import run_jobs

C, A = "/api/v1", "/api/admin/v1"
DAY = 24 * 3600


def _t(days: float) -> str:
    return (clock.now() + timedelta(days=days)).isoformat()


def _sku(st: dict[str, Any]) -> int:
    return int(st["product"]["skus"][0]["id"])


def _items(st: dict[str, Any]) -> dict[str, Any]:
    return {"items": [{"sku_id": _sku(st), "qty": 1}]}


WX_ADDRESS = {
    "errMsg": "chooseAddress:ok", "userName": "张三", "postalCode": "510000", "provinceName": "广东省",
    "cityName": "广州市", "countyName": "海珠区", "detailInfo": "新港中路397号", "nationalCode": "440105",
    "telNumber": "020-81167888",
}  # fmt: skip

# fmt: off
ROWS: list[tuple[str, str, str, Any, Any, str | None]] = [
    ("admin login", "-", "POST", f"{A}/auth/login", {"username": "boss", "password": "correct horse battery"}, "login"),
    ("product", "boss", "POST", f"{A}/products",
     {"title": "合同商品", "skus": [{"name": "默认", "price_fen": 10000, "stock": 500}]}, "product"),
    ("distribution config", "boss", "PUT", f"{A}/distribution/config",
     {"enabled": True, "levels": 2, "level1_rate_bp": 1000, "level2_rate_bp": 500, "frozen_days": 7,
      "bind_mode": "first", "min_withdraw_fen": 100, "self_purchase_commission": False}, None),
    ("coupon template", "boss", "POST", f"{A}/coupons/templates",
     {"name": "满100减10", "kind": "amount", "amount_fen": 1000, "threshold_fen": 10000, "scope": "all",
      "total": 100, "per_user_limit": 1, "valid_days": 30}, "template"),
    ("group-buy activity", "boss", "POST", f"{A}/groupbuy/activities",
     lambda st: {"product_id": st["product"]["id"], "skus": [{"sku_id": _sku(st), "price_fen": 8000}],
                 "group_size": 2, "duration_minutes": 60, "new_user_required": False, "leader_discount_fen": 0,
                 "max_open_per_user": 3, "starts_at": _t(-1), "ends_at": _t(7)}, "activity"),
    ("seckill session", "boss", "POST", f"{A}/seckill/sessions",
     lambda st: {"title": "10点场", "starts_at": _t(-0.01), "ends_at": _t(1),
                 "items": [{"sku_id": _sku(st), "price_fen": 990, "stock": 10, "per_user_limit": 1}]}, "session"),
    ("shopper login (distributor)", "-", "POST", f"{C}/auth/wechat-login", {"code": "dist"}, "dist_login"),
    ("distribution apply", "dist", "POST", f"{C}/distribution/apply", None, "applied"),
    ("shopper login with ref", "-", "POST", f"{C}/auth/wechat-login",
     lambda st: {"code": "friend", "ref": st["applied"]["share_code"]}, "friend_login"),
    ("run jobs", "-", "", None, None, None),
    ("address", "friend", "POST", f"{C}/me/addresses",
     {"name": "李四", "phone": "13900139000", "region": "广东省 深圳市 南山区", "detail": "科技园路 8 号"}, "address"),
    ("wx.chooseAddress", "friend", "POST", f"{C}/me/addresses/wechat", WX_ADDRESS, "wx_address"),
    ("address edit", "friend", "PUT", lambda st: f"{C}/me/addresses/{st['address']['id']}",
     {"name": "李四", "phone": "(0755)86013388", "region": "广东省 深圳市 南山区", "region_code": "440305",
      "detail": "科技园路 8 号 3 栋", "is_default": True}, None),
    ("get phone number", "friend", "POST", f"{C}/me/phone", {"code": "sandbox-13900001111"}, None),
    ("checkout preview", "friend", "POST", f"{C}/checkout/preview", _items, None),
    ("coupon claim", "friend", "POST", lambda st: f"{C}/coupons/{st['template']['id']}/claim", None, None),
    ("order, default address", "friend", "POST", f"{C}/orders", _items, "order"),
    ("order, inline address", "friend", "POST", f"{C}/orders",
     lambda st: {**_items(st), "address": {"name": "王五", "phone": "020-81167888", "region": "广东省 广州市",
                                           "detail": "某路 1 号"}}, "order2"),
    ("order to refund", "friend", "POST", f"{C}/orders", _items, "order3"),
    ("cart add", "friend", "POST", f"{C}/cart/items", lambda st: {"sku_id": _sku(st), "qty": 2}, "cart"),
    ("cart line edit", "friend", "PATCH", lambda st: f"{C}/cart/items/{st['cart']['items'][0]['id']}",
     {"qty": 1, "selected": True}, None),
    ("checkout preview from the cart", "friend", "POST", f"{C}/checkout/preview", {"from_cart": True}, None),
    ("order from the cart", "friend", "POST", f"{C}/orders", {"from_cart": True}, None),
    ("pay", "friend", "POST", lambda st: f"{C}/orders/{st['order']['id']}/pay", {"method": "gateway"}, "payment"),
    ("sandbox pay button", "friend", "POST", lambda st: f"{C}/payments/sandbox/{st['payment']['payment_id']}/succeed",
     None, None),
    ("pay the one to refund", "friend", "POST", lambda st: f"{C}/orders/{st['order3']['id']}/pay",
     {"method": "gateway"}, "payment3"),
    ("sandbox pay button (2)", "friend", "POST",
     lambda st: f"{C}/payments/sandbox/{st['payment3']['payment_id']}/succeed", None, None),
    ("cancel", "friend", "POST", lambda st: f"{C}/orders/{st['order2']['id']}/cancel", None, None),
    ("refund request", "friend", "POST", lambda st: f"{C}/orders/{st['order3']['id']}/refunds", {"reason": "不想要了"},
     "refund"),
    ("refund approve", "boss", "POST", lambda st: f"{A}/refunds/{st['refund']['id']}/approve", None, None),
    ("ship", "boss", "POST", lambda st: f"{A}/orders/{st['order']['id']}/ship",
     {"carrier": "顺丰", "tracking_no": "SF1234567"}, None),
    ("receive", "friend", "POST", lambda st: f"{C}/orders/{st['order']['id']}/receive", None, None),
    ("open a group", "friend", "POST", lambda st: f"{C}/groupbuy/activities/{st['activity']['id']}/groups",
     lambda st: {"sku_id": _sku(st), "qty": 1}, "group"),
    ("pay the group order", "friend", "POST", lambda st: f"{C}/orders/{st['group']['order']['id']}/pay",
     {"method": "gateway"}, "payment_g"),
    ("sandbox pay button (3)", "friend", "POST",
     lambda st: f"{C}/payments/sandbox/{st['payment_g']['payment_id']}/succeed", None, None),
    ("run jobs", "-", "", None, None, None),
    ("address (joiner)", "dist", "POST", f"{C}/me/addresses",
     {"name": "赵六", "phone": "+86 138 0013 8000", "region": "北京市 朝阳区", "detail": "建国路 88 号"}, None),
    ("join a group", "dist", "POST", lambda st: f"{C}/groupbuy/groups/{st['group']['group_id']}/join",
     lambda st: {"sku_id": _sku(st), "qty": 1}, None),
    ("bargain activity", "boss", "POST", f"{A}/bargain/activities",
     lambda st: {"product_id": st["product"]["id"], "sku_id": _sku(st), "target_fen": 3900, "helpers_needed": 1,
                 "min_cut_fen": 100, "max_cut_fen": 9000, "duration_minutes": 60, "stock": 5}, "bargain_activity"),
    ("start a bargain", "friend", "POST", lambda st: f"{C}/bargain/activities/{st['bargain_activity']['id']}/start",
     None, "bargain"),
    ("help a bargain", "dist", "POST", lambda st: f"{C}/bargain/{st['bargain']['bargain_id']}/help", None, None),
    ("order a bargain", "friend", "POST", lambda st: f"{C}/bargain/{st['bargain']['bargain_id']}/order", None, None),
    ("seckill token", "friend", "POST", lambda st: f"{C}/seckill/items/{st['session']['items'][0]['id']}/token",
     None, "token"),
    ("seckill attempt", "friend", "POST", lambda st: f"{C}/seckill/items/{st['session']['items'][0]['id']}/attempts",
     lambda st: {"qty": 1, "token": st["token"]["token"]}, None),
    ("seckill notify-me", "dist", "POST", lambda st: f"{C}/seckill/items/{st['session']['items'][0]['id']}/notify-me",
     None, None),
    # After-sales closes, the frozen days pass and the month settles: the distributor's commission is available.
    ("dev clock", "boss", "POST", f"{A}/dev/clock", {"advance_seconds": 8 * DAY}, None),
    ("admin login again (the clock moved past the token)", "-", "POST", f"{A}/auth/login",
     {"username": "boss", "password": "correct horse battery"}, "login"),
    ("dev clock (2)", "boss", "POST", f"{A}/dev/clock", {"advance_seconds": 8 * DAY}, None),
    ("admin login again (the clock moved past the token)", "-", "POST", f"{A}/auth/login",
     {"username": "boss", "password": "correct horse battery"}, "login"),
    ("dev clock (3)", "boss", "POST", f"{A}/dev/clock", {"advance_seconds": 31 * DAY}, None),
    ("admin login again (the clock moved past the token)", "-", "POST", f"{A}/auth/login",
     {"username": "boss", "password": "correct horse battery"}, "login"),
    ("shopper login again", "-", "POST", f"{C}/auth/wechat-login", {"code": "dist"}, "dist_login"),
    ("shopper login again (2)", "-", "POST", f"{C}/auth/wechat-login", {"code": "friend"}, "friend_login"),
    ("withdrawal", "dist", "POST", f"{C}/distribution/withdrawals", {"amount_fen": 500}, "withdrawal"),
    ("withdrawal approve", "boss", "POST", lambda st: f"{A}/withdrawals/{st['withdrawal']['id']}/approve", None, None),
    ("top-up package", "boss", "POST", f"{A}/wallet/packages", {"pay_fen": 50000, "bonus_fen": 10000}, "package"),
    ("top-up", "friend", "POST", f"{C}/wallet/top-ups", lambda st: {"package_id": st["package"]["id"]}, "topup"),
    ("pay the top-up", "friend", "POST", lambda st: f"{C}/orders/{st['topup']['id']}/pay", {"method": "gateway"},
     "payment_w"),
    ("sandbox pay button (4)", "friend", "POST",
     lambda st: f"{C}/payments/sandbox/{st['payment_w']['payment_id']}/succeed", None, None),
]
# fmt: on

LOGINS = {"login": "boss", "dist_login": "dist", "friend_login": "friend"}


async def test_every_contract_body_is_accepted_as_is(client, db):
    async with db.tx() as s:
        await accounts.create_admin(s, username="boss", password="correct horse battery", role="owner")
    st: dict[str, Any] = {}
    headers: dict[str, dict[str, str]] = {"-": {}}
    for what, who, method, path, body, save in ROWS:
        if what.startswith("run jobs"):
            await run_jobs(db)
            continue
        url = path(st) if callable(path) else path
        payload = body(st) if callable(body) else body
        r = await client.request(method, url, json=payload, headers=headers[who])
        assert 200 <= r.status_code < 300, f"{what}: {method} {url} {payload} → {r.status_code} {r.text}"
        if save:
            st[save] = r.json()
            if save in LOGINS:
                headers[LOGINS[save]] = {"Authorization": f"Bearer {st[save]['token']}"}
    # The order placed without an address went to the default one (the edited book entry).
    o = (await client.get(f"{C}/orders/{st['order']['id']}", headers=headers["friend"])).json()
    assert o["address"]["address_id"] == st["address"]["id"] and o["address"]["phone"] == "(0755)86013388"
