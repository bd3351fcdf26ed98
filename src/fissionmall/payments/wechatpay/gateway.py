"""The WeChat Pay APIv3 gateway (JSAPI / mini-program), behind payments.gateway.PaymentGateway.

Our ids travel as WeChat's merchant numbers: `out_trade_no = "P%010d" % payment_id`, `out_refund_no =
"R%010d" % refund_id`, so a retried refund job always reuses its `out_refund_no` and WeChat refunds
once. Notifications are verified and decrypted by the client (payments/wechatpay/client.py) and mapped onto the
platform's `Notification`; anything that does not verify is a BadNotification and changes nothing.
The client and its crypto stack are imported lazily, so the app imports this module even where the
WeChat gateway is not configured.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from fissionmall.core import clock
from fissionmall.core.errors import AppError
from fissionmall.payments.errors import PaymentsError
from fissionmall.payments.gateway import BadNotification, Notification, SandboxGateway, register
from fissionmall.settings import Settings

if TYPE_CHECKING:
    from fissionmall.payments.wechatpay.client import PayEvent, WechatPayClient

log = logging.getLogger("fissionmall.payments.wechatpay")

NOTIFY_PATH = "/api/v1/payments/wechatpay/notify"
TRANSFER_NOTIFY_PATH = "/api/v1/wechat/pay/transfer-notify"
_SIGNATURE_CODES = {"SIGNATURE_MISSING", "SIGNATURE_PROBE", "SERIAL_UNKNOWN", "TIMESTAMP_STALE", "SIGNATURE_INVALID"}


def out_trade_no(payment_id: int) -> str:
    """Our payment id as WeChat Pay's out_trade_no."""
    return f"P{payment_id:010d}"  # WeChat wants 6-32 characters


def out_refund_no(refund_id: int) -> str:
    """Our refund id as WeChat Pay's out_refund_no."""
    return f"R{refund_id:010d}"


def _our_id(prefix: str, no: object) -> int:
    """`P123` → 123; anything else → 0, which no row has (answered `unknown_reference`)."""
    s = str(no or "")
    return int(s[1:]) if s.startswith(prefix) and s[1:].isdigit() and len(s) < 20 else 0


# The promotion_detail fields worth keeping with the payment (the rest is WeChat's bookkeeping).
_PROMOTION_FIELDS = (
    "coupon_id",
    "name",
    "scope",
    "type",
    "amount",
    "stock_id",
    "wechatpay_contribute",
    "merchant_contribute",
    "other_contribute",
    "currency",
)


def _promotion(p: dict[str, Any]) -> dict[str, Any]:
    """One `promotion_detail[]` entry, kept to the fields the console shows; amounts stay integer fen."""
    out: dict[str, Any] = {}
    for k in _PROMOTION_FIELDS:
        if k in p:
            v = p[k]
            out[k] = (
                int(v)
                if k in ("amount", "wechatpay_contribute", "merchant_contribute", "other_contribute")
                else str(v)[:64]
            )
    return out


def client_from_settings(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> WechatPayClient:
    """A WeChat Pay client built from the merchant's settings (keys, serial, mchid, appid)."""
    from fissionmall.payments.wechatpay.client import WechatPayClient

    return WechatPayClient(
        mchid=settings.wechat_mch_id,
        appid=settings.wechat_app_id,
        private_key_pem=settings.wechat_mch_private_key_pem(),
        serial=settings.wechat_mch_serial,
        apiv3_key=settings.wechat_apiv3_key,
        platform_public_key_pem=settings.wechat_platform_public_key_pem(),
        platform_public_key_id=settings.wechat_platform_public_key_id,
        base_url=settings.wechat_pay_base_url,
        timeout_seconds=settings.wechat_http_timeout_seconds,
        max_age_seconds=settings.wechat_notify_max_age_seconds,
        transport=transport,
    )


class WechatPayGateway:
    name = "wechatpay"

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.client = client_from_settings(settings, transport)
        base = (settings.wechat_notify_base_url or settings.base_url).rstrip("/")
        self.notify_url = base + NOTIFY_PATH
        self.transfer_notify_url = base + TRANSFER_NOTIFY_PATH

    # ---- PaymentGateway -------------------------------------------------------------------------

    async def prepay(
        self,
        *,
        payment_id: int,
        amount_fen: int,
        description: str,
        payer_openid: str,
        expires_at: datetime | None = None,
    ) -> dict[str, Any]:
        """JSAPI prepay; returns the wx.requestPayment parameters (with paySign) for the mini-program.

        `time_expire` is the order's pay deadline, not "now + N minutes": a repeat for the same payment
        then sends WeChat the very same parameters and gets the same prepay_id back (a different
        time_expire is a different order to WeChat, refused as OUT_TRADE_NO_USED)."""
        openid = payer_openid
        if not openid:
            raise AppError(PaymentsError.WECHAT_OPENID_UNKNOWN, status=409)
        no = out_trade_no(payment_id)
        expire = expires_at or clock.now() + timedelta(minutes=self.settings.unpaid_cancel_minutes)
        prepay_id = await self.client.jsapi_prepay(
            out_trade_no=no,
            description=description,
            amount_fen=amount_fen,
            openid=openid,
            notify_url=self.notify_url,
            time_expire=expire,
            attach=f"payment:{payment_id}",
            profit_sharing=self.settings.wechat_profit_sharing,
        )
        return {"name": self.name, "out_trade_no": no, "request_payment": self.client.pay_params(prepay_id)}

    async def refund(self, *, refund_id: int, payment_id: int, amount_fen: int, total_fen: int) -> None:
        """Ask for a refund; its outcome arrives as a REFUND.* notification (or the refund poll)."""
        r = await self.client.refund(
            out_trade_no=out_trade_no(payment_id),
            out_refund_no=out_refund_no(refund_id),
            refund_fen=amount_fen,
            total_fen=total_fen,
            notify_url=self.notify_url,
            reason="退款",
        )
        log.info("wechat refund R%s accepted: %s", refund_id, r.get("status"))

    def parse_notification(self, headers: dict[str, str], body: bytes) -> Notification:
        event = self.decode(headers, body)
        if event.resource_type == "transaction":
            return self.transaction_note(event.resource)
        if event.resource_type == "refund":
            return self.refund_note(event.resource)
        raise BadNotification("NOTIFICATION_UNSUPPORTED", f"{event.event_type} is not a payment or refund")

    # ---- helpers the jobs and tools use -------------------------------------------------------

    def decode(self, headers: dict[str, str], body: bytes) -> PayEvent:
        from fissionmall.payments.wechatpay.client import NotificationRejected

        try:
            return self.client.decode(headers, body)
        except NotificationRejected as exc:
            log.warning("wechatpay notification refused: %s (%s)", exc.code, exc)
            raise BadNotification(exc.code, str(exc), status=401 if exc.code in _SIGNATURE_CODES else 400) from exc

    @staticmethod
    def transaction_note(t: dict[str, Any]) -> Notification:
        """A TRANSACTION resource (notification or query answer) as the platform's Notification.

        The order's amount is `amount.total`: what we asked WeChat to collect. `payer_total` is
        only the payer's part of it; with a WeChat Pay coupon (`promotion_detail[]`) it is less,
        and the coupon's funder pays the rest to the merchant. Comparing `payer_total` with the
        order would refuse every coupon-funded payment while the shopper's money is held.
        """
        try:
            amount = t.get("amount") or {}
            total = int(amount["total"])
            payer = amount.get("payer_total")
            return Notification(
                kind="payment",
                reference=_our_id("P", t.get("out_trade_no")),
                amount_fen=total,
                external_id=str(t.get("transaction_id") or ""),
                success=t.get("trade_state") == "SUCCESS",
                currency=str(amount.get("currency", "CNY")),
                payer_total_fen=None if payer is None else int(payer),
                promotions=tuple(_promotion(p) for p in t.get("promotion_detail") or ()),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadNotification("NOTIFICATION_MALFORMED", "the transaction resource is malformed") from exc

    @staticmethod
    def refund_note(r: dict[str, Any]) -> Notification:
        try:
            return Notification(
                kind="refund",
                reference=_our_id("R", r.get("out_refund_no")),
                amount_fen=int(r["amount"]["refund"]),
                external_id=str(r.get("refund_id") or ""),
                success=(r.get("refund_status") or r.get("status")) == "SUCCESS",
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise BadNotification("NOTIFICATION_MALFORMED", "the refund resource is malformed") from exc

    async def query(self, payment_id: int) -> dict[str, Any]:
        return await self.client.query(out_trade_no(payment_id))

    async def close(self, payment_id: int) -> None:
        await self.client.close(out_trade_no(payment_id))

    async def query_refund(self, refund_id: int) -> dict[str, Any]:
        return await self.client.query_refund(out_refund_no(refund_id))

    # ---- profit sharing (distributor commissions) ----------------------------------------------

    async def add_receiver(self, openid: str) -> dict[str, Any]:
        return await self.client.add_receiver(openid=openid)

    async def split(
        self, *, transaction_id: str, out_order_no: str, shares: list[tuple[str, int, str]], finish: bool = False
    ) -> dict[str, Any]:
        """Split once per `out_order_no` (e.g. f"S{commission_id}"); repeating it returns the first split."""
        receivers = [
            {"type": "PERSONAL_OPENID", "account": openid, "amount": fen, "description": desc[:80]}
            for openid, fen, desc in shares
        ]
        return await self.client.split(
            transaction_id=transaction_id, out_order_no=out_order_no, receivers=receivers, unfreeze_unsplit=finish
        )

    async def query_split(self, *, transaction_id: str, out_order_no: str) -> dict[str, Any]:
        return await self.client.query_split(out_order_no=out_order_no, transaction_id=transaction_id)

    async def unfreeze(self, *, transaction_id: str, out_order_no: str) -> dict[str, Any]:
        return await self.client.unfreeze(
            transaction_id=transaction_id, out_order_no=out_order_no, description="解冻剩余资金"
        )

    # ---- merchant transfers (withdrawals) ------------------------------------------------------

    async def transfer(
        self, *, out_bill_no: str, openid: str, amount_fen: int, remark: str, user_name: str | None = None
    ) -> dict[str, Any]:
        """Start a transfer; returns what wx.requestMerchantTransfer takes (mchId, appId, package).
        From 2,000 元 on, `user_name` (the payee's real name) is required; it travels encrypted."""
        r = await self.client.transfer(
            out_bill_no=out_bill_no,
            openid=openid,
            amount_fen=amount_fen,
            remark=remark,
            scene_id=self.settings.wechat_transfer_scene_id,
            notify_url=self.transfer_notify_url,
            user_name=user_name,
        )
        out = {"out_bill_no": r["out_bill_no"], "transfer_bill_no": r.get("transfer_bill_no"), "state": r["state"]}
        if r.get("package_info"):
            out["confirm"] = {"mchId": self.client.mchid, "appId": self.client.appid, "package": r["package_info"]}
        return out

    async def query_transfer(self, out_bill_no: str) -> dict[str, Any]:
        return await self.client.query_transfer(out_bill_no)


def register_gateways(settings: Settings) -> None:
    """Register the sandbox gateway always and the WeChat Pay gateway when it is configured."""
    register(SandboxGateway(settings.secret_key))
    if settings.wechat_pay_configured:
        register(WechatPayGateway(settings))
