"""A local fake of the mini-program server APIs: code2Session, stable_token, share codes, messages.

Codes are single-use (40163 the second time, 40029 when never issued unless `accept_any_code`);
an openid in `state.high_risk` is refused 40226, one in `state.unionids` gets its unionid;
tokens expire (`expire_token()` makes the current one answer 42001); share codes are real PNGs,
refused (41030) for a page with a leading slash or a query, or, with check_path, one not in
`published_pages`; subscribe messages with an empty or ill-typed value are refused 47003 and run
out of quota per openid (`refuse(openid)` → 43101); getPhoneNumber codes (`issue_phone_code`)
are single-use (40029); msg_sec_check marks text containing a `banned` word as risky.
"""

from __future__ import annotations

import base64
import io
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fissionmall.subscribe_fields import problem


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
    high_risk: set[str] = field(default_factory=set)  # openids WeChat's risk control blocks (40226)
    unionids: dict[str, str] = field(default_factory=dict)  # openid → unionid
    session_keys: dict[str, str] = field(default_factory=dict)  # openid → the last session_key issued
    phone_codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code → (pure number, country code)
    phone_used: set[str] = field(default_factory=set)
    codes_made: list[dict[str, Any]] = field(default_factory=list)  # the getwxacodeunlimit bodies accepted
    risk_ranks: dict[str, int] = field(default_factory=dict)  # openid → getuserriskrank's rank (else 61010)


class FakeMiniProgram:
    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        accept_any_code: bool = True,
        banned: tuple[str, ...] = (),
        published_pages: set[str] | None = None,
    ) -> None:
        self.appid = appid
        self.secret = secret
        self.accept_any_code = accept_any_code
        self.banned = banned or ("违禁词",)
        # The pages of the released version (check_path=true codes must name one); None: any page.
        self.published_pages = published_pages
        self.state = FakeMpState()
        self.app = Starlette(
            routes=[
                Route("/sns/jscode2session", self._code2session, methods=["GET"]),
                Route("/cgi-bin/stable_token", self._stable_token, methods=["POST"]),
                Route("/wxa/getwxacodeunlimit", self._wxacode, methods=["POST"]),
                Route("/cgi-bin/message/subscribe/send", self._subscribe, methods=["POST"]),
                Route("/wxa/msg_sec_check", self._sec_check, methods=["POST"]),
                Route("/wxa/business/getuserphonenumber", self._phone, methods=["POST"]),
                Route("/wxa/getuserriskrank", self._risk_rank, methods=["POST"]),
            ]
        )

    def issue_code(self, openid: str) -> str:
        """What wx.login() gives the mini-program: a code for this openid, usable once."""
        code = "0" + secrets.token_hex(15)
        self.state.codes[code] = openid
        return code

    def issue_phone_code(self, number: str, country_code: str = "86") -> str:
        """What getPhoneNumber gives the mini-program: a code for this number, usable once."""
        code = "p" + secrets.token_hex(15)
        self.state.phone_codes[code] = (number, country_code)
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
        if openid in self.state.high_risk:
            return self._err(40226, "high risk user, rid: " + secrets.token_hex(8))
        # WeChat's session_key: 16 random bytes, base64 (24 characters).
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        self.state.session_keys[openid] = key
        out = {"openid": openid, "session_key": key}
        if openid in self.state.unionids:
            out["unionid"] = self.state.unionids[openid]
        return JSONResponse(out)

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
        page = str(d.get("page", ""))
        env = d.get("env_version", "release")
        if env not in ("release", "trial", "develop"):
            return self._err(40097, "invalid args: env_version")
        # WeChat: the page has no leading slash and no query string (data travels in the scene).
        if page.startswith("/") or "?" in page or any(ch.isspace() for ch in page):
            return self._err(41030, "invalid page")
        # check_path (default true) wants a page of the released version.
        checked = d.get("check_path", True) is not False
        if checked and page and self.published_pages is not None and page not in self.published_pages:
            return self._err(41030, "invalid page")
        self.state.codes_made.append(d)
        return Response(_png(), media_type="image/png")

    async def _subscribe(self, request: Request) -> Response:
        self.state.calls.append("subscribe")
        if (e := self._token_error(request)) is not None:
            return e
        d = await request.json()
        if not d.get("template_id"):
            return self._err(40037, "invalid template id")
        if d.get("miniprogram_state", "formal") not in ("formal", "trial", "developer"):
            return self._err(47003, "argument invalid! miniprogram_state")
        data = d.get("data")
        if not isinstance(data, dict) or not data:
            return self._err(47003, "argument invalid! data")
        for key, item in data.items():
            value = item.get("value") if isinstance(item, dict) else None
            # Empty, too long, or not of the field's type: WeChat answers 47003 naming the field.
            if not isinstance(value, str) or problem(key, value):
                return self._err(47003, f"argument invalid! data.{key}.value")
        if d.get("touser") in self.state.refused:
            return self._err(43101, "user refuse to accept the msg")
        self.state.sent.append(d)
        return self._err(0, "ok")

    async def _phone(self, request: Request) -> Response:
        self.state.calls.append("getuserphonenumber")
        if (e := self._token_error(request)) is not None:
            return e
        code = str((await request.json()).get("code", ""))
        if code in self.state.phone_used or code not in self.state.phone_codes:
            return self._err(40029, "invalid code")
        self.state.phone_used.add(code)
        pure, cc = self.state.phone_codes[code]
        return JSONResponse(
            {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": pure if cc == "86" else f"+{cc}{pure}",
                    "purePhoneNumber": pure,
                    "countryCode": cc,
                    "watermark": {"timestamp": int(time.time()), "appid": self.appid},
                },
            }
        )

    async def _risk_rank(self, request: Request) -> Response:
        self.state.calls.append("getuserriskrank")
        if (e := self._token_error(request)) is not None:
            return e
        d = await request.json()
        rank = self.state.risk_ranks.get(str(d.get("openid", "")))
        if rank is None:
            return self._err(61010, "user is not exist")
        return JSONResponse({"errcode": 0, "errmsg": "getuserriskrank succ", "risk_rank": rank, "unoin_id": 0})

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
