"""The payment gateway port and the sandbox gateway.

A gateway turns our payment into what the client needs to pay (`prepay`),
asks for refunds (`refund`, whose result arrives later as a notification), and
verifies and decodes its notifications (`parse_notification`). The sandbox
gateway signs its notifications with HMAC-SHA256 over the raw body and sends
them through the very same notify endpoint and code path a real gateway uses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from fissionmall.core.errors import AppError
from fissionmall.payments.errors import PaymentsError

SIGNATURE_HEADER = "x-sandbox-signature"


@dataclass(frozen=True)
class Notification:
    kind: Literal["payment", "refund"]
    reference: int  # our payment id or refund id
    amount_fen: int
    external_id: str  # the gateway's transaction or refund id
    success: bool
    currency: str = "CNY"
    # How the amount was funded, where the gateway says so (WeChat Pay: `payer_total` and
    # `promotion_detail[]`). `amount_fen` is always what the merchant asked for; with a gateway
    # coupon the payer pays less and the coupon's funder (merchant or platform) the rest.
    payer_total_fen: int | None = None
    promotions: tuple[dict[str, Any], ...] = ()


# WeChat Pay takes at most 64 characters of `message` in a refused notification's answer.
FAIL_MESSAGE_MAX = 64


class BadNotification(AppError):
    """A notification that failed verification or decoding; nothing is applied."""

    def fail_body(self) -> dict[str, str]:
        """The answer WeChat documents for a refused notification: {"code": "FAIL", "message": ≤ 64}."""
        return {"code": "FAIL", "message": fail_message(self.message or self.code)}


def fail_message(text: str) -> str:
    """`text` cut to FAIL_MESSAGE_MAX characters, and as many UTF-8 bytes (whichever way WeChat counts)."""
    out = text[:FAIL_MESSAGE_MAX]
    while len(out.encode()) > FAIL_MESSAGE_MAX:
        out = out[:-1]
    return out


class PaymentGateway(Protocol):
    name: str

    async def prepay(
        self,
        *,
        payment_id: int,
        amount_fen: int,
        description: str,
        payer_openid: str,
        expires_at: datetime | None = None,
    ) -> dict[str, Any]:
        """What the client needs to pay. Called again for the same payment, it must give the same payment
        (the same parameters, `expires_at` included, so a gateway sees a repeat, not a new order)."""
        ...

    async def refund(self, *, refund_id: int, payment_id: int, amount_fen: int, total_fen: int) -> None: ...

    def parse_notification(self, headers: dict[str, str], body: bytes) -> Notification: ...


class SandboxGateway:
    """A local cashier. `refund` queues the refund notification as a job, like a gateway calling back."""

    name = "sandbox"

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(("sandbox-gateway:" + secret).encode()).digest()

    def sign(self, body: bytes) -> str:
        return hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def notification(self, payload: dict[str, Any]) -> tuple[dict[str, str], bytes]:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        return {SIGNATURE_HEADER: self.sign(body), "content-type": "application/json"}, body

    async def prepay(
        self,
        *,
        payment_id: int,
        amount_fen: int,
        description: str,
        payer_openid: str,
        expires_at: datetime | None = None,
    ) -> dict[str, Any]:
        return {"name": "sandbox", "cashier_url": f"/shop/#/cashier/{payment_id}"}

    async def refund(self, *, refund_id: int, payment_id: int, amount_fen: int, total_fen: int) -> None:
        # The sandbox "bank" accepts every refund; its notification is delivered by the worker.
        return None

    def parse_notification(self, headers: dict[str, str], body: bytes) -> Notification:
        sig = headers.get(SIGNATURE_HEADER, "")
        if not sig or not hmac.compare_digest(sig, self.sign(body)):
            raise BadNotification("SIGNATURE_INVALID", "the notification signature does not verify", status=401)
        try:
            data = json.loads(body)
            return Notification(
                kind=data["kind"],
                reference=int(data["reference"]),
                amount_fen=int(data["amount_fen"]),
                external_id=str(data["external_id"]),
                success=data["status"] == "SUCCESS",
                currency=str(data.get("currency", "CNY")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise BadNotification("NOTIFICATION_MALFORMED", "the notification body is malformed") from exc


_gateways: dict[str, PaymentGateway] = {}


def register(gw: PaymentGateway) -> None:
    """Make a payment gateway known by its name."""
    _gateways[gw.name] = gw


def get_gateway(name: str) -> PaymentGateway:
    """The gateway of this name, or GATEWAY_UNKNOWN (404)."""
    gw = _gateways.get(name)
    if gw is None:
        raise AppError(PaymentsError.GATEWAY_UNKNOWN, status=404)
    return gw
