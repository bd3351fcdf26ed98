"""Tokens, password hashing and the client's address."""

from __future__ import annotations

from datetime import timedelta
from ipaddress import ip_address, ip_network
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request

from fissionmall.core import clock
from fissionmall.core.errors import CoreError, Unauthorized

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(secret: str, *, kind: str, subject: int, ttl_seconds: int, **claims: Any) -> str:
    now = clock.now()
    payload = {
        "sub": str(subject),
        "kind": kind,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
        **claims,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def read_token(secret: str, token: str, *, kind: str) -> dict[str, Any]:
    """Decode and check a bearer token; expiry is judged by the app clock."""
    try:
        # Time claims are judged by the app clock below (which the dev clock moves), not by wall time.
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False, "verify_nbf": False}
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(CoreError.TOKEN_INVALID) from exc
    if claims.get("kind") != kind:
        raise Unauthorized(CoreError.TOKEN_INVALID)
    if int(claims.get("exp", 0)) <= clock.now().timestamp():
        raise Unauthorized(CoreError.TOKEN_EXPIRED)
    return claims


def client_ip(request: Request, trusted_proxies: list[str]) -> str:
    """The peer address, or the X-Forwarded-For hop a trusted proxy added."""
    peer = request.client.host if request.client else "0.0.0.0"
    return client_ip_of(peer, request.headers.get("x-forwarded-for"), trusted_proxies)


def client_ip_of(peer: str, forwarded_for: str | None, trusted_proxies: list[str]) -> str:
    """client_ip from the parts, for code that reads the ASGI scope itself (seckill.fast)."""
    if not trusted_proxies:
        return peer
    nets = [ip_network(p, strict=False) for p in trusted_proxies]

    def trusted(addr: str) -> bool:
        try:
            return any(ip_address(addr) in n for n in nets)
        except ValueError:
            return False

    if not trusted(peer):
        return peer
    # Walk right to left: the first hop not added by a trusted proxy is the client.
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            return hop
    return hops[0] if hops else peer
