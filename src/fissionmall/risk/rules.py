"""Anti-abuse decisions, pure: the one-time path token, the arithmetic captcha, the default limits, and
the gate a friend's help on a bargain passes (HelpLimits, help_refusal).

A path token is `item.customer.expires.nonce.signature` (HMAC-SHA256 over the first four parts with the
shop's secret): bound to one shopper and one item, short-lived, and single-use (the nonce is remembered
where the attempt is judged). A captcha is `a + b` with a signed id that carries the answer's HMAC, so
checking it needs no storage.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass, fields
from typing import Any

TOKEN_TTL_SECONDS = 120
CAPTCHA_TTL_SECONDS = 300


@dataclass(frozen=True)
class Limits:
    """Sliding-window limits for flash-sale attempts, and when a captcha is asked for."""

    window_seconds: int = 10
    per_user: int = 20  # attempts per window per shopper: past this, RATE_LIMITED
    per_ip: int = 600  # per client address (a campus or office NAT shares one)
    per_device: int = 30  # per X-Device-Id
    captcha_after: int = 8  # soft limit: past this many attempts per window, CAPTCHA_REQUIRED
    token_lead_seconds: int = 60  # path tokens are issued from this long before the start

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Limits:
        names = {f.name for f in fields(cls)}
        return cls(**{k: int(v) for k, v in data.items() if k in names})


def _sig(secret: str, msg: str) -> str:
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()[:32]


def sign_token(secret: str, *, item_id: int, customer_id: int, expires: int, nonce: str | None = None) -> str:
    nonce = nonce or secrets.token_hex(8)
    body = f"{item_id}.{customer_id}.{expires}.{nonce}"
    return f"{body}.{_sig(secret, 'sk-token:' + body)}"


def read_token(secret: str, token: str, *, item_id: int, customer_id: int, now: int) -> str | None:
    """The token's nonce if it is genuine, for this shopper and item, and not expired; else None."""
    parts = token.split(".")
    if len(parts) != 5:
        return None
    t_item, t_cust, t_exp, nonce, sig = parts
    body = f"{t_item}.{t_cust}.{t_exp}.{nonce}"
    if not hmac.compare_digest(sig, _sig(secret, "sk-token:" + body)):
        return None
    if t_item != str(item_id) or t_cust != str(customer_id) or not t_exp.isdigit() or int(t_exp) < now:
        return None
    return nonce


def new_captcha(secret: str, *, customer_id: int, now: int) -> tuple[str, str]:
    """(captcha_id, question). The id carries the expiry and an HMAC of the answer, nothing readable."""
    a, b = secrets.randbelow(40) + 10, secrets.randbelow(9) + 1
    expires = now + CAPTCHA_TTL_SECONDS
    salt = secrets.token_hex(4)
    cid = f"{customer_id}.{expires}.{salt}.{_sig(secret, f'sk-captcha:{customer_id}.{expires}.{salt}.{a + b}')}"
    return cid, f"{a} + {b} = ?"


def check_captcha(secret: str, captcha_id: str, answer: str, *, customer_id: int, now: int) -> bool:
    parts = captcha_id.split(".")
    if len(parts) != 4 or not parts[1].isdigit():
        return False
    cust, expires, salt, sig = parts
    if cust != str(customer_id) or int(expires) < now:
        return False
    expected = _sig(secret, f"sk-captcha:{cust}.{expires}.{salt}.{answer.strip()}")
    return hmac.compare_digest(sig, expected)


@dataclass(frozen=True)
class HelpLimits:
    """The gate a friend's help on a bargain (砍价) passes: the starter's own device or network, a burst of
    fresh accounts on one bargain, and accounts that only ever help and never buy."""

    # Off unless the operator turns it on: an office's or campus's friends share one address, and it is
    # exactly those friends who help. The same device is always refused.
    same_network: bool = False  # refuse a helper on the starter's client address (loopback excepted)
    new_account_minutes: int = 60  # an account younger than this counts towards a burst
    burst_window_seconds: int = 600
    burst_new_accounts: int = 20  # fresh accounts' helps one bargain takes within the window
    free_helps: int = 30  # helps an account that never paid an order may give in all

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HelpLimits:
        names = {f.name for f in fields(cls)}
        values: dict[str, Any] = {
            k: (bool(v) if k == "same_network" else int(v)) for k, v in data.items() if k in names
        }
        return cls(**values)


@dataclass(frozen=True)
class HelpFacts:
    """What the gate knows about one help: both parties' device and address, and the helper's record."""

    starter_ip: str | None
    starter_device: str | None
    ip: str
    device_id: str | None
    account_age_seconds: int
    fresh_helps_in_window: int  # helps on this bargain by accounts younger than new_account_minutes, lately
    lifetime_helps: int  # helps the helper gave before this one
    has_paid: bool


def _loopback(ip: str) -> bool:
    return ip in ("127.0.0.1", "::1", "localhost", "testclient") or ip.startswith("127.")


def help_refusal(lim: HelpLimits, f: HelpFacts) -> str | None:
    """The risk code refusing a help, or None. Checked in this order: device, network, burst, free helps."""
    if f.device_id and f.starter_device and f.device_id == f.starter_device:
        return "HELP_SAME_DEVICE"
    if lim.same_network and f.starter_ip and f.ip == f.starter_ip and not _loopback(f.ip):
        return "HELP_SAME_NETWORK"
    fresh = f.account_age_seconds < lim.new_account_minutes * 60
    if fresh and f.fresh_helps_in_window >= lim.burst_new_accounts:
        return "HELP_NEW_ACCOUNT_BURST"
    if not f.has_paid and f.lifetime_helps >= lim.free_helps:
        return "HELP_NEEDS_PURCHASE"
    return None
