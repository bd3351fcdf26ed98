"""An ASGI fast lane for the one flash-sale call that takes the crowd.

`FastAttempts(app)` answers `POST /api/v1/seckill/items/{id}/attempts` itself, with the same checks and
the same answers as the FastAPI route in router.py (auth, body validation by the same Pydantic model,
`attempts.attempt`, the same error body), and hands every other request to `app` untouched. It skips what
costs most per request on this path when a hundred routes are mounted: route matching, dependency
solving, and the middleware stack (measured with py-spy: ~70% of the server's time per attempt).

Wiring it is the platform's call (asgi.py / app.py): `app = FastAttempts(create_app())`.
"""

from __future__ import annotations

import email.message
import json
from typing import Any

from pydantic import ValidationError

from fissionmall.accounts.state import customer_state
from fissionmall.core import clock
from fissionmall.core.db import get_db
from fissionmall.core.errors import AppError, CoreError, Forbidden, Unauthorized
from fissionmall.core.security import client_ip_of, read_token
from fissionmall.seckill import attempts
from fissionmall.seckill.schemas import AttemptCreate
from fissionmall.settings import get_settings

PREFIX = "/api/v1/seckill/items/"
SUFFIX = "/attempts"
MAX_BODY = 16 * 1024
_JSON = [(b"content-type", b"application/json")]
_WANTED = frozenset((b"authorization", b"x-device-id", b"x-forwarded-for", b"content-type"))
_MISSING_BODY = [{"loc": (), "msg": "Field required", "type": "missing"}]


def _is_json(ctype: str | None) -> bool:
    """FastAPI's test (strict content type): application/json or application/*+json, parameters allowed."""
    if ctype is None:
        return False
    if ctype == "application/json" or ctype.partition(";")[0].strip().lower() == "application/json":
        return True  # the common cases, without building a Message per attempt
    m = email.message.Message()
    m["content-type"] = ctype
    sub = m.get_content_subtype()
    return m.get_content_maintype() == "application" and (sub == "json" or sub.endswith("+json"))


def _validation_error(errors: list[Any]) -> dict[str, Any]:
    detail = [{"loc": ["body", *e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")} for e in errors]
    code = CoreError.VALIDATION_ERROR  # the same body the app's own validation handler answers with
    return {"error": {"code": code.value, "message": code.text, "detail": detail}}


def _parse(body: bytes, ctype: str | None) -> AttemptCreate | dict[str, Any]:
    """The body as FastAPI reads it for the same route, or the error body it would answer (422). An empty
    body or one that is not declared JSON is a missing / mistyped body (422), as there; JSON that does not
    parse, or is not UTF-8, is MALFORMED_JSON (400) on both lanes."""
    if not body:
        return _validation_error(_MISSING_BODY)
    try:
        if not _is_json(ctype):
            return AttemptCreate.model_validate(body)
        try:
            return AttemptCreate.model_validate_json(body)
        except ValidationError as exc:
            if not any(e.get("type") == "json_invalid" for e in exc.errors(include_url=False)):
                raise
        # What the strict parser refuses but FastAPI's json.loads takes (a BOM, UTF-16): judged the same.
        try:
            data = json.loads(body)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
            raise AppError(CoreError.MALFORMED_JSON) from None
        return AttemptCreate.model_validate(data)
    except ValidationError as exc:
        return _validation_error(exc.errors(include_url=False, include_context=False, include_input=False))


async def _send(send: Any, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*_JSON, (b"content-length", str(len(raw)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": raw})


def _item_id(path: str) -> int | None:
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    mid = path[len(PREFIX) : -len(SUFFIX)]
    if not mid.isdigit() or len(mid) > 18:
        return None
    n = int(mid)
    return n if 1 <= n <= 2**62 else None


# Verified bearer tokens → (customer id, expiry). Checking a JWT's signature was a fifth of the time of an
# attempt (py-spy); a token seen valid stays valid until it expires (blocking is checked separately).
_verified: dict[str, tuple[int, float]] = {}


def _customer_of(secret: str, token: str) -> int:
    hit = _verified.get(token)
    if hit is not None and hit[1] > clock.now().timestamp():
        return hit[0]
    claims = read_token(secret, token, kind="customer")
    if len(_verified) > 100_000:
        _verified.clear()
    _verified[token] = (int(claims["sub"]), float(claims["exp"]))
    return int(claims["sub"])


class FastAttempts:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            return await self.app(scope, receive, send)
        item_id = _item_id(scope["path"])
        if item_id is None:  # anything odd goes the long way and gets the app's own answer
            return await self.app(scope, receive, send)
        body = bytearray()
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if len(body) > MAX_BODY:
                code = CoreError.PAYLOAD_TOO_LARGE
                return await _send(send, 413, {"error": {"code": code.value, "message": code.text}})
            if not msg.get("more_body"):
                break
        try:
            await self._attempt(scope, item_id, bytes(body), send)
        except AppError as exc:
            await _send(send, exc.status, exc.body())

    async def _attempt(self, scope: dict[str, Any], item_id: int, body: bytes, send: Any) -> None:
        settings = get_settings()
        # One pass over the raw headers: Starlette's Headers.get decodes and scans them all on every
        # lookup, which was ~8% of an attempt's CPU (py-spy) for the three this lane reads.
        hdr: dict[bytes, str] = {}
        for k, v in scope["headers"]:
            if k in _WANTED and k not in hdr:
                hdr[k] = v.decode("latin-1")
        auth = hdr.get(b"authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(CoreError.AUTH_REQUIRED)
        customer_id = _customer_of(settings.secret_key, token.strip())
        db = get_db()
        state = await customer_state(db, customer_id=customer_id)
        if state is None:
            raise Unauthorized(CoreError.TOKEN_INVALID)
        if state:
            raise Forbidden(CoreError.ACCOUNT_BLOCKED)
        data = _parse(body, hdr.get(b"content-type"))
        if isinstance(data, dict):
            return await _send(send, 422, data)
        device = hdr.get(b"x-device-id")
        peer = scope["client"][0] if scope.get("client") else "0.0.0.0"
        ip = client_ip_of(peer, hdr.get(b"x-forwarded-for"), settings.trusted_proxies)
        caller = attempts.Caller(customer_id, ip, device[:128] if device else None)
        res = await attempts.attempt(
            db,
            settings=settings,
            item_id=item_id,
            caller=caller,
            qty=data.qty,
            token=data.token,
            address=data.address.model_dump() if data.address else None,
            address_id=data.address_id,
            captcha_id=data.captcha.id if data.captcha else None,
            captcha_answer=data.captcha.answer if data.captcha else None,
        )
        await _send(send, 202, res)
