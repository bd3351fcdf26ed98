"""A small WeChat Pay APIv3 client on httpx + cryptography (direct-merchant mode).

Every request is signed (WECHATPAY2-SHA256-RSA2048); every 2xx response and every
notification is verified against the platform public key (with its id as the serial),
with a freshness window on the timestamp; `WECHATPAY/SIGNTEST/` probe signatures are
refused. Notification resources are decrypted with the APIv3 key (AEAD_AES_256_GCM).
The base URL and the httpx transport are constructor arguments, so tests and
`fissionmall fake-wechat` point it at a local fake without touching private state.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from fissionmall.core import clock
from fissionmall.core.errors import AppError
from fissionmall.payments.errors import PaymentsError
from fissionmall.payments.wechatpay import crypto

log = logging.getLogger("fissionmall.wechat.pay")

CN_TZ_OFFSET = timedelta(hours=8)


def rfc3339(dt: datetime) -> str:
    """WeChat's time format, in Beijing time: 2026-11-22T10:34:56+08:00."""
    from datetime import timezone

    return dt.astimezone(timezone(CN_TZ_OFFSET)).replace(microsecond=0).isoformat()


class WechatPayError(AppError):
    """WeChat refused a call (4xx with its code) or could not be reached / verified (5xx)."""

    def __init__(self, code: str, message: str, *, status: int, wechat_code: str = "", http_status: int = 0):
        super().__init__(code, message, status=status)
        self.wechat_code = wechat_code
        self.http_status = http_status


class NotificationRejected(ValueError):
    """A notification that must not be applied; `code` says why (UPPER_SNAKE)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = str(code)  # the plain string, as the notification log stores it


@dataclass(frozen=True)
class PayEvent:
    """A verified, decrypted notification."""

    id: str
    event_type: str  # TRANSACTION.SUCCESS, REFUND.SUCCESS, MCHTRANSFER.BILL.FINISHED, …
    resource_type: str  # original_type: transaction | refund | mch_payment | profitsharing
    resource: dict[str, Any]


class WechatPayClient:
    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        private_key_pem: str,
        serial: str,
        apiv3_key: str,
        platform_public_key_pem: str,
        platform_public_key_id: str,
        base_url: str = "https://api.mch.weixin.qq.com",
        timeout_seconds: float = 10.0,
        max_age_seconds: int = 300,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if len(apiv3_key.encode()) != 32:
            raise ValueError("the APIv3 key is 32 bytes")
        self.mchid = mchid
        self.appid = appid
        self.serial = serial
        self._key = crypto.load_private(private_key_pem)
        self._apiv3 = apiv3_key
        self._platform = crypto.load_public(platform_public_key_pem)
        self.platform_key_id = platform_public_key_id
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds
        self._max_age = max_age_seconds
        self._transport = transport

    # ---- signing and transport ----------------------------------------------------------------

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a signed request; verify and decode the answer. Non-2xx raises WechatPayError."""
        text = "" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        ts = str(int(clock.now().timestamp()))
        auth = crypto.authorization(
            self._key, mchid=self.mchid, serial=self.serial, method=method, url_path=path, body=text, timestamp=ts
        )
        # Wechatpay-Serial names the platform key our encrypted fields (user_name, …) are sealed with;
        # the transfer API refuses a request without it, and it does no harm elsewhere.
        headers = {
            "Authorization": auth,
            "Accept": "application/json",
            "User-Agent": "fissionmall",
            "Wechatpay-Serial": self.platform_key_id,
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as c:
                r = await c.request(method, self.base_url + path, content=text.encode() or None, headers=headers)
        except httpx.HTTPError as exc:
            # The cause (chained) says what failed; the caller reads the code's Chinese text.
            code = PaymentsError.WECHATPAY_UNAVAILABLE
            raise WechatPayError(code, code.text, status=code.status) from exc
        if r.status_code >= 300:
            try:
                err = r.json()
            except ValueError:
                err = {}
            wcode = str(err.get("code") or "UNKNOWN")
            status = 502 if r.status_code >= 500 or r.status_code == 401 else 409
            raise WechatPayError(
                f"WECHATPAY_{wcode}",
                str(err.get("message") or f"微信支付返回错误（HTTP {r.status_code}）"),
                status=status,
                wechat_code=wcode,
                http_status=r.status_code,
            )
        try:
            self.verify(dict(r.headers), r.content)
        except NotificationRejected as exc:
            code = PaymentsError.WECHATPAY_RESPONSE_UNVERIFIED
            raise WechatPayError(code, code.text, status=code.status) from exc
        if r.status_code == 204 or not r.content:
            return {}
        data = r.json()
        return data if isinstance(data, dict) else {"data": data}

    def verify(self, headers: dict[str, str], body: bytes) -> None:
        """Check a WeChat signature (response or notification). Raises NotificationRejected."""
        h = crypto.SignedHeaders.from_headers(headers)
        if h is None:
            raise NotificationRejected(PaymentsError.SIGNATURE_MISSING, "the Wechatpay-* signature headers are missing")
        if h.signature.startswith(crypto.SIGNTEST_PREFIX):
            raise NotificationRejected(PaymentsError.SIGNATURE_PROBE, "a WECHATPAY/SIGNTEST/ probe is never accepted")
        if h.serial != self.platform_key_id:
            raise NotificationRejected(PaymentsError.SERIAL_UNKNOWN, f"unknown platform key id {h.serial[:64]!r}")
        try:
            age = abs(clock.now().timestamp() - int(h.timestamp))
        except ValueError as exc:
            raise NotificationRejected(PaymentsError.TIMESTAMP_INVALID, "the timestamp is not a number") from exc
        if age > self._max_age:
            raise NotificationRejected(PaymentsError.TIMESTAMP_STALE, f"the timestamp is {int(age)} s off")
        if not crypto.verify(self._platform, crypto.response_message(h.timestamp, h.nonce, body), h.signature):
            raise NotificationRejected(PaymentsError.SIGNATURE_INVALID, "the signature does not verify")

    def decode(self, headers: dict[str, str], body: bytes) -> PayEvent:
        """Verify a notification, then decrypt its resource."""
        self.verify(headers, body)
        try:
            data = json.loads(body)
            res = data["resource"]
            plain = crypto.aead_decrypt(self._apiv3, res)
            resource = json.loads(plain)
            if not isinstance(resource, dict):
                raise TypeError("resource is not an object")
            return PayEvent(
                id=str(data.get("id", "")),
                event_type=str(data["event_type"]),
                resource_type=str(res.get("original_type", "")),
                resource=resource,
            )
        except crypto.DecryptError as exc:
            raise NotificationRejected(
                PaymentsError.DECRYPT_FAILED, "the resource does not decrypt with our APIv3 key"
            ) from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise NotificationRejected(
                PaymentsError.NOTIFICATION_MALFORMED, "the notification body is malformed"
            ) from exc

    def pay_params(self, prepay_id: str) -> dict[str, str]:
        """What wx.requestPayment takes: timeStamp, nonceStr, package, signType, paySign."""
        ts = str(int(clock.now().timestamp()))
        n = crypto.nonce()
        package = f"prepay_id={prepay_id}"
        return {
            "appId": self.appid,
            "timeStamp": ts,
            "nonceStr": n,
            "package": package,
            "signType": "RSA",
            "paySign": crypto.pay_sign(self._key, appid=self.appid, timestamp=ts, nonce_str=n, package=package),
        }

    def encrypt_sensitive(self, text: str) -> str:
        return crypto.rsa_encrypt(self._platform, text)

    # ---- payments -------------------------------------------------------------------------------

    async def jsapi_prepay(
        self,
        *,
        out_trade_no: str,
        description: str,
        amount_fen: int,
        openid: str,
        notify_url: str,
        time_expire: datetime,
        attach: str = "",
        profit_sharing: bool = False,
    ) -> str:
        body: dict[str, Any] = {
            "appid": self.appid,
            "mchid": self.mchid,
            "description": description[:127],
            "out_trade_no": out_trade_no,
            "time_expire": rfc3339(time_expire),
            "notify_url": notify_url,
            "amount": {"total": amount_fen, "currency": "CNY"},
            "payer": {"openid": openid},
        }
        if attach:
            body["attach"] = attach[:128]
        if profit_sharing:
            body["settle_info"] = {"profit_sharing": True}
        data = await self.request("POST", "/v3/pay/transactions/jsapi", body)
        return str(data["prepay_id"])

    async def query(self, out_trade_no: str) -> dict[str, Any]:
        return await self.request(
            "GET", f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}?mchid={quote(self.mchid)}"
        )

    async def close(self, out_trade_no: str) -> None:
        await self.request(
            "POST", f"/v3/pay/transactions/out-trade-no/{quote(out_trade_no)}/close", {"mchid": self.mchid}
        )

    async def refund(
        self, *, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int, notify_url: str, reason: str
    ) -> dict[str, Any]:
        body = {
            "out_trade_no": out_trade_no,
            "out_refund_no": out_refund_no,
            "reason": reason[:80],
            "notify_url": notify_url,
            "amount": {"refund": refund_fen, "total": total_fen, "currency": "CNY"},
        }
        return await self.request("POST", "/v3/refund/domestic/refunds", body)

    async def query_refund(self, out_refund_no: str) -> dict[str, Any]:
        return await self.request("GET", f"/v3/refund/domestic/refunds/{quote(out_refund_no)}")

    # ---- profit sharing -------------------------------------------------------------------------

    async def add_receiver(self, *, openid: str, relation_type: str = "DISTRIBUTOR") -> dict[str, Any]:
        body = {"appid": self.appid, "type": "PERSONAL_OPENID", "account": openid, "relation_type": relation_type}
        return await self.request("POST", "/v3/profitsharing/receivers/add", body)

    async def split(
        self, *, transaction_id: str, out_order_no: str, receivers: list[dict[str, Any]], unfreeze_unsplit: bool
    ) -> dict[str, Any]:
        body = {
            "appid": self.appid,
            "transaction_id": transaction_id,
            "out_order_no": out_order_no,
            "receivers": receivers,
            "unfreeze_unsplit": unfreeze_unsplit,
        }
        return await self.request("POST", "/v3/profitsharing/orders", body)

    async def query_split(self, *, out_order_no: str, transaction_id: str) -> dict[str, Any]:
        return await self.request(
            "GET", f"/v3/profitsharing/orders/{quote(out_order_no)}?transaction_id={quote(transaction_id)}"
        )

    async def unfreeze(self, *, transaction_id: str, out_order_no: str, description: str) -> dict[str, Any]:
        body = {"transaction_id": transaction_id, "out_order_no": out_order_no, "description": description}
        return await self.request("POST", "/v3/profitsharing/orders/unfreeze", body)

    # ---- merchant transfers ---------------------------------------------------------------------

    # From 2,000 元 on, WeChat wants the payee's real name (user_name, encrypted) with the transfer.
    REAL_NAME_FROM_FEN = 200_000

    async def transfer(
        self,
        *,
        out_bill_no: str,
        openid: str,
        amount_fen: int,
        remark: str,
        scene_id: str,
        notify_url: str,
        user_name: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "appid": self.appid,
            "out_bill_no": out_bill_no,
            "transfer_scene_id": scene_id,
            "openid": openid,
            "transfer_amount": amount_fen,
            "transfer_remark": remark[:32],
            "notify_url": notify_url,
            "user_recv_perception": "佣金报酬",
            "transfer_scene_report_infos": [
                {"info_type": "岗位类型", "info_content": "分销推广员"},
                {"info_type": "报酬说明", "info_content": "分销佣金提现"},
            ],
        }
        if user_name:
            body["user_name"] = self.encrypt_sensitive(user_name)
        elif amount_fen >= self.REAL_NAME_FROM_FEN:
            raise AppError(PaymentsError.REAL_NAME_REQUIRED)
        return await self.request("POST", "/v3/fund-app/mch-transfer/transfer-bills", body)

    async def query_transfer(self, out_bill_no: str) -> dict[str, Any]:
        return await self.request("GET", f"/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/{quote(out_bill_no)}")
