"""Server-side secrets about shoppers: sealed (AES-256-GCM) or hashed (HMAC-SHA256), never in plain text.

WeChat hands us things we must keep but must not leak: the `session_key` (needed to decrypt `wx` data
later), the shopper's phone number, a distributor's real name for a large transfer. Each is sealed
with a key derived from `SECRET_KEY` by HKDF, one key per purpose, and with associated data naming
the row it belongs to, so a sealed value copied onto another row does not open. Phone numbers also
get a keyed hash of their normalised form, for lookups (the same number, however it was typed, is
the same hash; without the secret the hash cannot be brute-forced over the 10^11 mobile numbers).

Rotating `SECRET_KEY` makes the sealed values unreadable: session keys come back at the next login,
phone numbers when the shopper authorises again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


@lru_cache(maxsize=32)
def derive(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, from the application secret."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"fissionmall.vault", info=f"fissionmall/{purpose}".encode()
    ).derive(secret_key.encode())


def seal(secret_key: str, purpose: str, plaintext: str, *, bound_to: str) -> str:
    """`v1.<base64(nonce ‖ ciphertext ‖ tag)>`; `bound_to` (e.g. the row's id) is the associated data."""
    n = secrets.token_bytes(12)
    ct = AESGCM(derive(secret_key, purpose)).encrypt(n, plaintext.encode(), f"{purpose}:{bound_to}".encode())
    return f"{_VERSION}.{base64.urlsafe_b64encode(n + ct).decode()}"


class VaultError(ValueError):
    pass


def unseal(secret_key: str, purpose: str, sealed: str, *, bound_to: str) -> str:
    """Open a value sealed by `seal` for this purpose and binding, or raise VaultError."""
    version, _, payload = sealed.partition(".")
    if version != _VERSION:
        raise VaultError("unknown sealed format")
    try:
        raw = base64.urlsafe_b64decode(payload)
        plain = AESGCM(derive(secret_key, purpose)).decrypt(raw[:12], raw[12:], f"{purpose}:{bound_to}".encode())
    except (InvalidTag, ValueError) as exc:
        raise VaultError("the sealed value does not open with this key") from exc
    return plain.decode()


# ---- phone numbers ------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")


def normalize_phone(number: str, country_code: str = "86") -> str:
    """`+<country><number>`: "138 0013 8000", "+86-13800138000" and ("13800138000", "86") are one number."""
    digits = "".join(_DIGITS.findall(number))
    cc = "".join(_DIGITS.findall(country_code)) or "86"
    if number.strip().startswith("+") or (digits.startswith(cc) and len(digits) > 11):
        return "+" + digits
    return f"+{cc}{digits}"


def phone_hash(secret_key: str, number: str, country_code: str = "86") -> str:
    """The lookup key for a phone number (hex HMAC-SHA256 of its normalised form)."""
    key = derive(secret_key, "phone-hash")
    return hmac.new(key, normalize_phone(number, country_code).encode(), hashlib.sha256).hexdigest()


def mask_phone(number: str) -> str:
    """13800138000 → 138****8000 (the local part: the last 4 digits, and the first 3 when there are 11)."""
    digits = "".join(_DIGITS.findall(number))
    if len(digits) <= 4:
        return "*" * len(digits)
    head = digits[:3] if len(digits) >= 7 else ""
    return head + "*" * (len(digits) - len(head) - 4) + digits[-4:]
