"""A local WeChat Pay APIv3 fake: checks our signatures, signs its answers, keeps state.

It behaves like WeChat where our code depends on it:
- every request must carry a valid WECHATPAY2-SHA256-RSA2048 Authorization (merchant key,
  serial, 5-minute timestamp window, nonce never reused), else 401 SIGN_ERROR;
- every answer is signed with the platform key (Wechatpay-* headers);
- same `out_trade_no` + same parameters → the same prepay_id; different → OUT_TRADE_NO_USED;
  paid or closed orders refuse new prepay; the same `out_refund_no` returns the first refund;
  the same profit-sharing `out_order_no` or transfer `out_bill_no` returns the first one;
- transfers must name the platform key in `Wechatpay-Serial`, and from 2,000 元 on carry a
  `user_name` that decrypts with the platform private key;
- notifications (payment, refund, transfer) are built on demand, AEAD-encrypted with the
  APIv3 key and signed, and can be sent twice, late (stale timestamp), with a wrong serial,
  tampered, encrypted with another key, or as a WECHATPAY/SIGNTEST/ probe.
State lives in memory; one instance is one merchant.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fissionmall.core import clock
from fissionmall.payments.wechatpay import crypto
from fissionmall.payments.wechatpay.client import rfc3339


@dataclass
class FakeNotification:
    headers: dict[str, str]
    body: bytes
    notify_url: str


@dataclass
class FakePayState:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    receivers: dict[str, dict[str, Any]] = field(default_factory=dict)
    splits: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    nonces: set[str] = field(default_factory=set)
    calls: list[tuple[str, str]] = field(default_factory=list)


class _Refuse(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class FakeWechatPay:
    MAX_SPLIT_BP = 3000  # WeChat's default: at most 30% of an order goes to receivers

    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        merchant_public_pem: str,
        merchant_serial: str,
        apiv3_key: str,
        platform_key: rsa.RSAPrivateKey | None = None,
        platform_key_id: str = "PUB_KEY_ID_0000000000000000000001",
    ) -> None:
        self.mchid = mchid
        self.appid = appid
        self._merchant = crypto.load_public(merchant_public_pem)
        self.merchant_serial = merchant_serial
        self.apiv3_key = apiv3_key
        self.platform_key = platform_key or crypto.generate_key()
        self.platform_key_id = platform_key_id
        self.state = FakePayState()
        self.app = Starlette(routes=self._routes())

    @property
    def platform_public_pem(self) -> str:
        return crypto.public_pem(self.platform_key)

    # ---- HTTP plumbing --------------------------------------------------------------------------

    def _respond(self, status: int, data: dict[str, Any] | None) -> Response:
        body = b"" if data is None else json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        headers = crypto.signed_headers(
            self.platform_key, serial=self.platform_key_id, body=body, timestamp=str(int(clock.now().timestamp()))
        )
        if data is not None:
            headers["Content-Type"] = "application/json"
        return Response(body, status_code=status, headers=headers)

    async def _check_signature(self, request: Request, body: bytes) -> None:
        auth = crypto.parse_authorization(request.headers.get("authorization", ""))
        if auth is None:
            raise _Refuse(401, "SIGN_ERROR", "Authorization 缺失或格式错误")
        if auth["mchid"] != self.mchid or auth["serial_no"] != self.merchant_serial:
            raise _Refuse(401, "SIGN_ERROR", "商户号或证书序列号不匹配")
        try:
            skew = abs(clock.now().timestamp() - int(auth["timestamp"]))
        except ValueError as exc:
            raise _Refuse(401, "SIGN_ERROR", "timestamp 无效") from exc
        if skew > 300:
            raise _Refuse(401, "SIGN_ERROR", "timestamp 超出 5 分钟")
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        msg = crypto.request_message(request.method, path, auth["timestamp"], auth["nonce_str"], body.decode())
        if not crypto.verify(self._merchant, msg, auth["signature"]):
            raise _Refuse(401, "SIGN_ERROR", "签名错误")
        if auth["nonce_str"] in self.state.nonces:
            raise _Refuse(401, "SIGN_ERROR", "请求重放")
        self.state.nonces.add(auth["nonce_str"])

    def _check_serial(self, request: Request, *, required: bool) -> None:
        """Wechatpay-Serial names the platform key the request's encrypted fields use: it must be ours,
        and calls that carry encrypted fields (transfers) must send it."""
        serial = request.headers.get("wechatpay-serial")
        if serial is None:
            if required:
                raise _Refuse(400, "PARAM_ERROR", "请求头 Wechatpay-Serial 缺失")
            return
        if serial != self.platform_key_id:
            raise _Refuse(400, "PARAM_ERROR", "Wechatpay-Serial 与微信支付公钥 ID 不匹配")

    def _routes(self) -> list[Route]:
        def wrap(fn: Any, *, serial_required: bool = False) -> Any:
            async def endpoint(request: Request) -> Response:
                body = await request.body()
                try:
                    await self._check_signature(request, body)
                    self._check_serial(request, required=serial_required)
                    data = json.loads(body) if body else {}
                    if not isinstance(data, dict):
                        raise _Refuse(400, "PARAM_ERROR", "body 不是对象")
                    self.state.calls.append((request.method, request.url.path))
                    status, out = fn(request, data)
                except _Refuse as exc:
                    return self._respond(exc.status, {"code": exc.code, "message": exc.message})
                except (ValueError, KeyError, TypeError) as exc:
                    return self._respond(400, {"code": "PARAM_ERROR", "message": f"参数错误: {exc}"})
                return self._respond(status, out)

            return endpoint

        return [
            Route("/v3/pay/transactions/jsapi", wrap(self._jsapi), methods=["POST"]),
            Route("/v3/pay/transactions/out-trade-no/{no}", wrap(self._query), methods=["GET"]),
            Route("/v3/pay/transactions/out-trade-no/{no}/close", wrap(self._close), methods=["POST"]),
            Route("/v3/refund/domestic/refunds", wrap(self._refund), methods=["POST"]),
            Route("/v3/refund/domestic/refunds/{no}", wrap(self._query_refund), methods=["GET"]),
            Route("/v3/profitsharing/receivers/add", wrap(self._add_receiver), methods=["POST"]),
            Route("/v3/profitsharing/orders", wrap(self._split), methods=["POST"]),
            Route("/v3/profitsharing/orders/unfreeze", wrap(self._unfreeze), methods=["POST"]),
            Route("/v3/profitsharing/orders/{no}", wrap(self._query_split), methods=["GET"]),
            Route(
                "/v3/fund-app/mch-transfer/transfer-bills", wrap(self._transfer, serial_required=True), methods=["POST"]
            ),
            Route(
                "/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{no}", wrap(self._query_transfer), methods=["GET"]
            ),
        ]

    # ---- payments -------------------------------------------------------------------------------

    def _jsapi(self, request: Request, d: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if d.get("appid") != self.appid or d.get("mchid") != self.mchid:
            raise _Refuse(400, "APPID_MCHID_NOT_MATCH", "appid 和 mch_id 不匹配")
        no = str(d["out_trade_no"])
        amount = d["amount"]
        total = amount["total"]
        if not isinstance(total, int) or total <= 0 or amount.get("currency", "CNY") != "CNY":
            raise _Refuse(400, "PARAM_ERROR", "amount.total 必须为正整数（分），币种 CNY")
        if not 6 <= len(no) <= 32 or not d["payer"]["openid"] or not d.get("notify_url"):
            raise _Refuse(400, "PARAM_ERROR", "out_trade_no / payer.openid / notify_url 无效")
        params = {k: d.get(k) for k in ("description", "amount", "payer", "attach", "settle_info", "time_expire")}
        existing = self.state.orders.get(no)
        if existing is not None:
            if existing["trade_state"] == "SUCCESS" or existing["trade_state"] == "REFUND":
                raise _Refuse(400, "ORDERPAID", "该订单已支付")
            if existing["trade_state"] == "CLOSED":
                raise _Refuse(400, "ORDER_CLOSED", "订单已关闭")
            if existing["params"] != params:
                raise _Refuse(403, "OUT_TRADE_NO_USED", "商户订单号重复")
            return 200, {"prepay_id": existing["prepay_id"]}
        prepay_id = "wx" + secrets.token_hex(16)
        self.state.orders[no] = {
            "out_trade_no": no,
            "prepay_id": prepay_id,
            "params": params,
            "total": total,
            "openid": d["payer"]["openid"],
            "attach": d.get("attach", ""),
            "notify_url": d["notify_url"],
            "profit_sharing": bool((d.get("settle_info") or {}).get("profit_sharing")),
            "trade_state": "NOTPAY",
            "transaction_id": None,
            "success_time": None,
            "refunded": 0,
            "split": 0,
            "unfrozen": False,
        }
        return 200, {"prepay_id": prepay_id}

    def _order(self, no: str) -> dict[str, Any]:
        o = self.state.orders.get(unquote(no))
        if o is None:
            raise _Refuse(404, "ORDER_NOT_EXIST", "订单不存在")
        return o

    def transaction(self, o: dict[str, Any]) -> dict[str, Any]:
        t: dict[str, Any] = {
            "appid": self.appid,
            "mchid": self.mchid,
            "out_trade_no": o["out_trade_no"],
            "trade_state": o["trade_state"],
            "trade_state_desc": {"NOTPAY": "未支付", "SUCCESS": "支付成功", "CLOSED": "已关闭", "REFUND": "转入退款"}[
                o["trade_state"]
            ],
            "attach": o["attach"],
            "payer": {"openid": o["openid"]},
            "amount": {"total": o["total"], "currency": "CNY"},
        }
        if o["transaction_id"]:
            t.update(
                transaction_id=o["transaction_id"],
                trade_type="JSAPI",
                bank_type="OTHERS",
                success_time=o["success_time"],
            )
            coupon = o.get("coupon")
            t["amount"].update(payer_total=o["total"] - (coupon["amount"] if coupon else 0), payer_currency="CNY")
            if coupon:
                t["promotion_detail"] = [coupon]
        return t

    def _query(self, request: Request, d: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if request.query_params.get("mchid") != self.mchid:
            raise _Refuse(400, "PARAM_ERROR", "mchid 缺失或不匹配")
        return 200, self.transaction(self._order(request.path_params["no"]))

    def _close(self, request: Request, d: dict[str, Any]) -> tuple[int, None]:
        o = self._order(request.path_params["no"])
        if o["trade_state"] in ("SUCCESS", "REFUND"):
            raise _Refuse(400, "ORDERPAID", "订单已支付，不能关闭")
        o["trade_state"] = "CLOSED"
        return 204, None

    # ---- refunds ------------------------------------------------------------------------------

    def _refund(self, request: Request, d: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        o = self._order(str(d["out_trade_no"]))
        no = str(d["out_refund_no"])
        amt = d["amount"]
        existing = self.state.refunds.get(no)
        if existing is not None:
            if existing["amount"]["refund"] != amt["refund"] or existing["out_trade_no"] != o["out_trade_no"]:
                raise _Refuse(400, "INVALID_REQUEST", "同一 out_refund_no 的参数不一致")
            return 200, existing
        if o["trade_state"] not in ("SUCCESS", "REFUND"):
            raise _Refuse(
                403, "RESOURCE_NOT_EXISTS" if o["trade_state"] == "NOTPAY" else "INVALID_REQUEST", "订单未支付"
            )
        if amt["total"] != o["total"] or amt.get("currency", "CNY") != "CNY":
            raise _Refuse(400, "PARAM_ERROR", "订单金额与原订单不一致")
        if not isinstance(amt["refund"], int) or amt["refund"] <= 0 or o["refunded"] + amt["refund"] > o["total"]:
            raise _Refuse(403, "NOT_ENOUGH", "退款金额超过可退金额")
        o["refunded"] += amt["refund"]
        o["trade_state"] = "REFUND"
        coupon_fen = o["coupon"]["amount"] if o.get("coupon") else 0
        refund = {
            "refund_id": "50" + secrets.token_hex(14),
            "out_refund_no": no,
            "transaction_id": o["transaction_id"],
            "out_trade_no": o["out_trade_no"],
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": rfc3339(clock.now()),
            "status": "PROCESSING",
            "notify_url": d.get("notify_url", ""),
            "amount": {
                "total": o["total"],
                "refund": amt["refund"],
                # A coupon-funded order refunds the coupon's share to the coupon, the rest to the payer.
                "payer_total": o["total"] - coupon_fen,
                "payer_refund": amt["refund"] - amt["refund"] * coupon_fen // o["total"],
                "currency": "CNY",
            },
        }
        self.state.refunds[no] = refund
        return 200, refund

    def _query_refund(self, request: Request, d: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        r = self.state.refunds.get(unquote(request.path_params["no"]))
        if r is None:
            raise _Refuse(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return 200, r

    # ---- profit sharing -----------------------------------------------------------------------

    def _add_receiver(self, request: Request, d: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if d.get("appid") != self.appid or d.get("type") != "PERSONAL_OPENID" or not d.get("account"):
            raise _Refuse(400, "PARAM_ERROR", "接收方参数错误")
        r = {"type": d["type"], "account": d["account"], "relation_type": d.get("relation_type", "DISTRIBUTOR")}
        self.state.receivers[d["account"]] = r
        return 200, r

    def _by_transaction(self, transaction_id: str) -> dict[str, Any]:
        for o in self.state.orders.values():
            if o["transaction_id"] == transaction_id:
                return o
        raise _Refuse(404, "RESOURCE_NOT_EXISTS", "订单不存在")

    def _split(self, request: Request, d: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        no = str(d["out_order_no"])
        existing = self.state.splits.get(no)
        if existing is not None:
            return 200, existing
        o = self._by_transaction(str(d["transaction_id"]))
        if not o["profit_sharing"]:
            raise _Refuse(403, "NO_AUTH", "下单时未设置 settle_info.profit_sharing")
        if o["unfrozen"]:
            raise _Refuse(400, "INVALID_REQUEST", "订单已解冻，不能再分账")
        receivers = d["receivers"]
        total = 0
        for r in receivers:
            if r["account"] not in self.state.receivers:
                raise _Refuse(400, "RECEIVER_INVALID", "分账接收方未添加")
            if not isinstance(r["amount"], int) or r["amount"] <= 0:
                raise _Refuse(400, "PARAM_ERROR", "分账金额必须为正整数（分）")
            total += r["amount"]
        if o["split"] + total > o["total"] * self.MAX_SPLIT_BP // 10000:
            raise _Refuse(
                400, "RECEIVER_HIGH_RISK" if total > o["total"] else "INVALID_REQUEST", "分账金额超过最大比例"
            )
        o["split"] += total
        if d.get("unfreeze_unsplit"):
            o["unfrozen"] = True
        split = {
            "transaction_id": o["transaction_id"],
            "out_order_no": no,
            "order_id": "3008" + secrets.token_hex(12),
            "state": "FINISHED",
            "receivers": [
                {
                    "amount": r["amount"],
                    "description": r.get("description", ""),
                    "type": r["type"],
                    "account": r["account"],
                    "result": "SUCCESS",
                    "fail_reason": "",
                    "detail_id": "3600" + secrets.token_hex(12),
                    "create_time": rfc3339(clock.now()),
                    "finish_time": rfc3339(clock.now()),
                }
                for r in receivers
            ],
        }
        self.state.splits[no] = split
        return 200, split

    def _query_split(self, request: Request, d: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        s = self.state.splits.get(unquote(request.path_params["no"]))
        if s is None or s["transaction_id"] != request.query_params.get("transaction_id"):
            raise _Refuse(404, "RESOURCE_NOT_EXISTS", "分账单不存在")
        return 200, s

    def _unfreeze(self, request: Request, d: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        no = str(d["out_order_no"])
        existing = self.state.splits.get(no)
        if existing is not None:
            return 200, existing
        o = self._by_transaction(str(d["transaction_id"]))
        o["unfrozen"] = True
        split = {
            "transaction_id": o["transaction_id"],
            "out_order_no": no,
            "order_id": "3008" + secrets.token_hex(12),
            "state": "FINISHED",
            "receivers": [],
        }
        self.state.splits[no] = split
        return 200, split

    # ---- transfers ----------------------------------------------------------------------------

    REAL_NAME_FROM_FEN = 200_000  # 2,000 元: WeChat requires the payee's name from here on

    def decrypt_sensitive(self, ciphertext: str) -> str:
        """What WeChat does with an encrypted field: RSA-OAEP (SHA-1) with the platform private key."""
        raw = base64.b64decode(ciphertext, validate=True)
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        return self.platform_key.decrypt(raw, oaep).decode()

    def _transfer(self, request: Request, d: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if d.get("appid") != self.appid:
            raise _Refuse(400, "PARAM_ERROR", "appid 不匹配")
        no = str(d["out_bill_no"])
        amount = d["transfer_amount"]
        if not isinstance(amount, int) or amount < 10:
            raise _Refuse(400, "PARAM_ERROR", "转账金额至少 0.1 元")
        user_name = None
        if d.get("user_name") is not None:
            try:
                user_name = self.decrypt_sensitive(str(d["user_name"]))
            except ValueError as exc:
                raise _Refuse(400, "PARAM_ERROR", "user_name 解密失败，请使用微信支付公钥加密") from exc
        if amount >= self.REAL_NAME_FROM_FEN and not user_name:
            raise _Refuse(400, "PARAM_ERROR", "转账金额 >= 2000 元时，收款用户姓名 user_name 必填")
        params = {k: d.get(k) for k in ("openid", "transfer_amount", "transfer_scene_id")}
        existing = self.state.transfers.get(no)
        if existing is not None:
            if existing["params"] != params:
                raise _Refuse(400, "INVALID_REQUEST", "同一 out_bill_no 的参数不一致")
            return 200, self._bill_out(existing)
        bill = {
            "out_bill_no": no,
            "transfer_bill_no": "1330" + secrets.token_hex(14),
            "create_time": rfc3339(clock.now()),
            "update_time": rfc3339(clock.now()),
            "state": "WAIT_USER_CONFIRM",
            "package_info": "ABBQO+oYAAABAAAAAAAk" + secrets.token_urlsafe(24),
            "params": params,
            "openid": d["openid"],
            "transfer_amount": amount,
            "user_name": user_name,
            "notify_url": d.get("notify_url", ""),
        }
        self.state.transfers[no] = bill
        return 200, self._bill_out(bill)

    @staticmethod
    def _bill_out(b: dict[str, Any]) -> dict[str, Any]:
        out = {k: b[k] for k in ("out_bill_no", "transfer_bill_no", "create_time", "state")}
        if b["state"] == "WAIT_USER_CONFIRM":
            out["package_info"] = b["package_info"]
        return out

    def _query_transfer(self, request: Request, d: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        b = self.state.transfers.get(unquote(request.path_params["no"]))
        if b is None:
            raise _Refuse(404, "NOT_FOUND", "转账单不存在")
        return 200, {
            **self._bill_out(b),
            "mch_id": self.mchid,
            "appid": self.appid,
            "transfer_amount": b["transfer_amount"],
            "openid": b["openid"],
            "update_time": b["update_time"],
        }

    # ---- what "WeChat" does on its own: pay, settle refunds, confirm transfers ----------------

    def pay(self, out_trade_no: str, *, coupon_fen: int = 0, coupon_type: str = "CASH") -> FakeNotification:
        """The shopper pays: the order becomes SUCCESS; returns its TRANSACTION.SUCCESS notification.

        `coupon_fen` > 0: the shopper used a WeChat Pay coupon (代金券) worth that much, as WeChat
        reports it: `amount.total` stays the order's amount, `payer_total` is total − coupon, and
        `promotion_detail[]` names the coupon. `CASH` coupons are pre-funded (by WeChat or the
        merchant's own budget), `NOCASH` ones (免充值) are borne by the merchant at settlement.
        """
        o = self.state.orders[out_trade_no]
        if o["trade_state"] == "NOTPAY":
            if not 0 <= coupon_fen < o["total"]:
                raise ValueError("a coupon must leave the payer at least 1 fen to pay")
            o["trade_state"] = "SUCCESS"
            o["transaction_id"] = "4200" + secrets.token_hex(14)[:24]
            o["success_time"] = rfc3339(clock.now())
            if coupon_fen:
                merchant = coupon_fen if coupon_type == "NOCASH" else 0
                o["coupon"] = {
                    "coupon_id": "10" + secrets.token_hex(5),
                    "name": "微信支付代金券",
                    "scope": "GLOBAL",
                    "type": coupon_type,
                    "amount": coupon_fen,
                    "stock_id": "9865000",
                    "wechatpay_contribute": coupon_fen - merchant,
                    "merchant_contribute": merchant,
                    "other_contribute": 0,
                    "currency": "CNY",
                }
        return self.payment_notification(out_trade_no)

    def payment_notification(self, out_trade_no: str, /, **resource_overrides: Any) -> FakeNotification:
        o = self.state.orders[out_trade_no]
        resource = {**self.transaction(o), **resource_overrides}
        return self.notification("TRANSACTION.SUCCESS", "transaction", resource, o["notify_url"], "支付成功")

    def settle_refund(self, out_refund_no: str, status: str = "SUCCESS") -> FakeNotification:
        r = self.state.refunds[out_refund_no]
        if r["status"] == "PROCESSING":
            r["status"] = status
            if status == "SUCCESS":
                r["success_time"] = rfc3339(clock.now())
            else:
                self.state.orders[r["out_trade_no"]]["refunded"] -= r["amount"]["refund"]
        return self.refund_notification(out_refund_no)

    def refund_notification(self, out_refund_no: str) -> FakeNotification:
        r = self.state.refunds[out_refund_no]
        resource = {
            "mchid": self.mchid,
            "out_trade_no": r["out_trade_no"],
            "transaction_id": r["transaction_id"],
            "out_refund_no": r["out_refund_no"],
            "refund_id": r["refund_id"],
            "refund_status": r["status"],
            "success_time": r.get("success_time", ""),
            "user_received_account": r["user_received_account"],
            "amount": {k: r["amount"][k] for k in ("total", "refund", "payer_total", "payer_refund")},
        }
        event = {"SUCCESS": "REFUND.SUCCESS", "ABNORMAL": "REFUND.ABNORMAL", "CLOSED": "REFUND.CLOSED"}.get(
            r["status"], "REFUND.SUCCESS"
        )
        return self.notification(event, "refund", resource, r["notify_url"], "退款成功")

    def confirm_transfer(self, out_bill_no: str, state: str = "SUCCESS") -> FakeNotification:
        """The user taps "confirm" (or the bill fails): returns the MCHTRANSFER.BILL.FINISHED notification."""
        b = self.state.transfers[out_bill_no]
        if b["state"] == "WAIT_USER_CONFIRM":
            b["state"] = state
            b["update_time"] = rfc3339(clock.now())
        resource = {
            "out_bill_no": b["out_bill_no"],
            "transfer_bill_no": b["transfer_bill_no"],
            "state": b["state"],
            "mch_id": self.mchid,
            "transfer_amount": b["transfer_amount"],
            "openid": b["openid"],
            "fail_reason": "" if b["state"] == "SUCCESS" else "USER_NOT_CONFIRM",
            "create_time": b["create_time"],
            "update_time": b["update_time"],
        }
        return self.notification("MCHTRANSFER.BILL.FINISHED", "mch_payment", resource, b["notify_url"], "商家转账完成")

    def notification(
        self,
        event_type: str,
        original_type: str,
        resource: dict[str, Any],
        notify_url: str,
        summary: str,
        *,
        apiv3_key: str | None = None,
        serial: str | None = None,
        age_seconds: int = 0,
        signtest: bool = False,
        raw_body: bytes | None = None,
    ) -> FakeNotification:
        """A signed, encrypted notification; the keyword arguments make the bad ones."""
        enc = crypto.aead_encrypt(
            apiv3_key or self.apiv3_key,
            json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode(),
            associated_data=original_type,
        )
        payload = {
            "id": secrets.token_hex(18),
            "create_time": rfc3339(clock.now()),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": {"original_type": original_type, **enc},
        }
        body = raw_body if raw_body is not None else json.dumps(payload, ensure_ascii=False).encode()
        ts = str(int(clock.now().timestamp()) - age_seconds)
        headers = crypto.signed_headers(
            self.platform_key, serial=serial or self.platform_key_id, body=body, timestamp=ts
        )
        if signtest:
            headers["Wechatpay-Signature"] = crypto.SIGNTEST_PREFIX + secrets.token_hex(16)
        headers["Content-Type"] = "application/json"
        return FakeNotification(headers=headers, body=body, notify_url=notify_url)
