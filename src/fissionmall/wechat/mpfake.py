"""A local fake of the mini-program server APIs: code2Session, stable_token, share codes, messages.

Codes are single-use (40163 the second time, 40029 when never issued unless `accept_any_code`);
tokens expire (`expire_token()` makes the current one answer 42001); share codes are real PNGs;
subscribe messages run out of quota per openid (`refuse(openid)` → 43101); msg_sec_check marks
text containing a `banned` word as risky.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (43, 43), (7, 193, 96)).save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class FakeMpState:
    codes: dict[str, str] = field(default_factory=dict)  # code → openid
    used: set[str] = field(default_factory=set)
    tokens: dict[str, bool] = field(default_factory=dict)  # token → still valid
    current: str | None = None
    token_fetches: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)


class FakeMiniProgram:
    def __init__(self, *, appid: str, secret: str, accept_any_code: bool = True, banned: tuple[str, ...] = ()) -> None:
        self.appid = appid
        self.secret = secret
        self.accept_any_code = accept_any_code
        self.banned = banned or ("违禁词",)
        self.state = FakeMpState()
        self.app = Starlette(
            routes=[
                Route("/sns/jscode2session", self._code2session, methods=["GET"]),
                Route("/cgi-bin/stable_token", self._stable_token, methods=["POST"]),
                Route("/wxa/getwxacodeunlimit", self._wxacode, methods=["POST"]),
                Route("/cgi-bin/message/subscribe/send", self._subscribe, methods=["POST"]),
                Route("/wxa/msg_sec_check", self._sec_check, methods=["POST"]),
            ]
        )

    def issue_code(self, openid: str) -> str:
        """What wx.login() gives the mini-program: a code for this openid, usable once."""
        code = "0" + secrets.token_hex(15)
        self.state.codes[code] = openid
        return code

    def expire_token(self) -> None:
        for t in self.state.tokens:
            self.state.tokens[t] = False

    def refuse(self, openid: str) -> None:
        self.state.refused.add(openid)

    @staticmethod
    def _err(code: int, msg: str) -> JSONResponse:
        return JSONResponse({"errcode": code, "errmsg": msg})

    async def _code2session(self, request: Request) -> Response:
        q = request.query_params
        self.state.calls.append("jscode2session")
        if q.get("appid") != self.appid or q.get("secret") != self.secret:
            return self._err(40125, "invalid appsecret")
        code = q.get("js_code", "")
        if code in self.state.used:
            return self._err(40163, "code been used")
        openid = self.state.codes.get(code) or (f"fake-{code}" if self.accept_any_code and code else None)
        if openid is None:
            return self._err(40029, "invalid code")
        self.state.used.add(code)
        return JSONResponse({"openid": openid, "session_key": secrets.token_urlsafe(16)})

    async def _stable_token(self, request: Request) -> Response:
        d = await request.json()
        self.state.calls.append("stable_token")
        if d.get("appid") != self.appid or d.get("secret") != self.secret:
            return self._err(40125, "invalid appsecret")
        if d.get("force_refresh") or self.state.current is None or not self.state.tokens.get(self.state.current):
            self.state.current = "tok-" + secrets.token_hex(12)
            self.state.tokens[self.state.current] = True
        self.state.token_fetches += 1
        return JSONResponse({"access_token": self.state.current, "expires_in": 7200})

    def _token_error(self, request: Request) -> Response | None:
        t = request.query_params.get("access_token", "")
        if t not in self.state.tokens:
            return self._err(40001, "invalid credential, access_token is invalid or not latest")
        if not self.state.tokens[t]:
            return self._err(42001, "access_token expired")
        return None

    async def _wxacode(self, request: Request) -> Response:
        self.state.calls.append("getwxacodeunlimit")
        if (e := self._token_error(request)) is not None:
            return e
        d = await request.json()
        scene = str(d.get("scene", ""))
        if not scene or len(scene) > 32:
            return self._err(40169, "invalid length for scene")
        return Response(_png(), media_type="image/png")

    async def _subscribe(self, request: Request) -> Response:
        self.state.calls.append("subscribe")
        if (e := self._token_error(request)) is not None:
            return e
        d = await request.json()
        if not d.get("template_id"):
            return self._err(40037, "invalid template id")
        if d.get("touser") in self.state.refused:
            return self._err(43101, "user refuse to accept the msg")
        self.state.sent.append(d)
        return self._err(0, "ok")

    async def _sec_check(self, request: Request) -> Response:
        self.state.calls.append("msg_sec_check")
        if (e := self._token_error(request)) is not None:
            return e
        d = await request.json()
        risky = any(w in str(d.get("content", "")) for w in self.banned)
        suggest, label = ("risky", 20006) if risky else ("pass", 100)
        return JSONResponse(
            {"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": label}, "detail": []}
        )
