"""WeChat Pay APIv3 cryptography: request/response signatures, paySign, AEAD resources.

Pure functions over `cryptography`; both our client and the local fakes use them, so
the fakes check exactly what WeChat checks and nothing is signed two ways.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SCHEMA = "WECHATPAY2-SHA256-RSA2048"
SIGNTEST_PREFIX = "WECHATPAY/SIGNTEST/"
_AUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')


def generate_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    pub = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_private(pem: str | bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the merchant private key must be RSA")
    return key


def load_public(pem: str | bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the platform public key must be RSA")
    return key


def nonce() -> str:
    return secrets.token_hex(16).upper()


def lines(*parts: str) -> bytes:
    """WeChat's signing string: each part on its own line, every line ending with \\n."""
    return "".join(p + "\n" for p in parts).encode()


def sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def request_message(method: str, url_path: str, timestamp: str, nonce_str: str, body: str) -> bytes:
    """What a merchant signs: method, path with query, timestamp, nonce, body (empty for GET)."""
    return lines(method.upper(), url_path, timestamp, nonce_str, body)


def authorization(
    key: rsa.RSAPrivateKey, *, mchid: str, serial: str, method: str, url_path: str, body: str, timestamp: str
) -> str:
    n = nonce()
    sig = sign(key, request_message(method, url_path, timestamp, n, body))
    return f'{SCHEMA} mchid="{mchid}",nonce_str="{n}",signature="{sig}",timestamp="{timestamp}",serial_no="{serial}"'


def parse_authorization(header: str) -> dict[str, str] | None:
    if not header.startswith(SCHEMA + " "):
        return None
    params = dict(_AUTH_PARAM.findall(header[len(SCHEMA) + 1 :]))
    need = {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}
    return params if need <= params.keys() else None


def response_message(timestamp: str, nonce_str: str, body: bytes) -> bytes:
    """What WeChat signs on responses and notifications: timestamp, nonce, body."""
    return timestamp.encode() + b"\n" + nonce_str.encode() + b"\n" + body + b"\n"


def pay_sign(key: rsa.RSAPrivateKey, *, appid: str, timestamp: str, nonce_str: str, package: str) -> str:
    """paySign for wx.requestPayment: appId, timeStamp, nonceStr, package, signed SHA256-RSA."""
    return sign(key, lines(appid, timestamp, nonce_str, package))


def aead_encrypt(apiv3_key: str, plaintext: bytes, associated_data: str) -> dict[str, str]:
    n = secrets.token_hex(6)  # 12 characters, as WeChat's nonces are
    ct = AESGCM(apiv3_key.encode()).encrypt(n.encode(), plaintext, associated_data.encode())
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(ct).decode(),
        "associated_data": associated_data,
        "nonce": n,
    }


class DecryptError(ValueError):
    pass


def aead_decrypt(apiv3_key: str, resource: dict[str, str]) -> bytes:
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise DecryptError("unsupported algorithm")
    try:
        return AESGCM(apiv3_key.encode()).decrypt(
            str(resource["nonce"]).encode(),
            base64.b64decode(resource["ciphertext"]),
            str(resource.get("associated_data") or "").encode(),
        )
    except (InvalidTag, KeyError, ValueError, TypeError) as exc:
        raise DecryptError("the resource does not decrypt") from exc


def rsa_encrypt(key: rsa.RSAPublicKey, text: str) -> str:
    """Sensitive fields (receiver names, user names) go encrypted with the platform key (OAEP-SHA1)."""
    ct = key.encrypt(text.encode(), padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None))
    return base64.b64encode(ct).decode()


@dataclass(frozen=True)
class SignedHeaders:
    timestamp: str
    nonce: str
    signature: str
    serial: str

    @classmethod
    def from_headers(cls, headers: dict[str, str]) -> SignedHeaders | None:
        h = {k.lower(): v for k, v in headers.items()}
        try:
            return cls(
                timestamp=h["wechatpay-timestamp"],
                nonce=h["wechatpay-nonce"],
                signature=h["wechatpay-signature"],
                serial=h["wechatpay-serial"],
            )
        except KeyError:
            return None


def signed_headers(key: rsa.RSAPrivateKey, *, serial: str, body: bytes, timestamp: str) -> dict[str, str]:
    n = nonce()
    return {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": n,
        "Wechatpay-Signature": sign(key, response_message(timestamp, n, body)),
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": SCHEMA,
    }
