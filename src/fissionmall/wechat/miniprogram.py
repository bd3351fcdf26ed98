"""The mini-program server API client (api.weixin.qq.com): login, access token, share codes, messages.

- code2Session: codes are single-use; 40029 (invalid) and 40163 (already used) become clear 400s,
  40226 (a user WeChat's risk control blocks) a 403 WECHAT_USER_HIGH_RISK.
- getuserphonenumber: the number behind a getPhoneNumber code.
- Access token: the *stable* token endpoint, cached in-process and refreshed 5 minutes before it
  expires; a call answered 40001/42001 forces one refresh and is retried once.
- getwxacodeunlimit: scene ≤ 32 visible characters, the page without a leading slash, the build
  (env_version) from the settings; the answer is an image or a JSON error, told apart by content type.
- Subscribe messages: quota / refusal errors are returned (and logged), never raised.
- msgSecCheck: returns "pass" | "review" | "risky".
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx

from fissionmall.accounts.errors import AccountsError
from fissionmall.accounts.wechat import WechatSession
from fissionmall.core import clock
from fissionmall.core.errors import AppError, Forbidden, TooMany
from fissionmall.settings import Settings, get_settings
from fissionmall.subscribe_fields import normalize_page, problem
from fissionmall.wechat.errors import WechatError

log = logging.getLogger("fissionmall.wechat.mp")

TOKEN_ERRORS = {40001, 42001, 40014}
QUOTA_ERRORS = {43101, 45009, 43107, 43108}  # user refused / daily quota / …
ENV_VERSIONS = ("release", "trial", "develop")
# errcode of a subscribe message we did not send because WeChat would refuse it (its own code: 47003)
LOCAL_REFUSAL = 47003
_SCENE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")


@dataclass(frozen=True)
class SendResult:
    ok: bool
    errcode: int = 0
    errmsg: str = ""


class MiniProgramClient:
    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        base_url: str = "https://api.weixin.qq.com",
        timeout_seconds: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.appid = appid
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_seconds
        self._transport = transport
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._lock = asyncio.Lock()
        self.quota_errors: list[tuple[str, int, str]] = []  # (template_id, errcode, errmsg), newest last

    async def _http(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as c:
                return await c.request(method, self.base_url + path, **kw)
        except httpx.HTTPError as exc:
            raise AppError(WechatError.WECHAT_UNAVAILABLE) from exc

    # ---- login ----------------------------------------------------------------------------------

    async def code2session(self, code: str) -> WechatSession:
        r = await self._http(
            "GET",
            "/sns/jscode2session",
            params={"appid": self.appid, "secret": self._secret, "js_code": code, "grant_type": "authorization_code"},
        )
        data = r.json()
        err = int(data.get("errcode") or 0)
        if err == 40029:
            raise AppError(AccountsError.WECHAT_CODE_INVALID)
        if err == 40163:
            raise AppError(WechatError.WECHAT_CODE_USED)
        if err == 45011:
            raise TooMany(WechatError.WECHAT_RATE_LIMITED)
        if err == 40226:
            # WeChat's own risk control blocks this user (高风险等级用户); retrying will not help.
            raise Forbidden(WechatError.WECHAT_USER_HIGH_RISK)
        if err or not data.get("openid"):
            log.warning("code2session failed: %s %s", err, data.get("errmsg"))
            raise AppError(WechatError.WECHAT_LOGIN_FAILED)
        return WechatSession(
            openid=str(data["openid"]),
            unionid=str(data["unionid"]) if data.get("unionid") else None,
            session_key=str(data["session_key"]) if data.get("session_key") else None,
        )

    # ---- phone number ---------------------------------------------------------------------------

    async def phone_number(self, code: str) -> dict[str, str]:
        """The number behind a getPhoneNumber `code` (single use, 5 minutes): {phoneNumber,
        purePhoneNumber, countryCode}. 40029 (invalid or used) → 400 WECHAT_PHONE_CODE_INVALID."""
        r = await self._call("/wxa/business/getuserphonenumber", {"code": code})
        data = r.json()
        err = int(data.get("errcode") or 0)
        if err == 40029:
            raise AppError(WechatError.WECHAT_PHONE_CODE_INVALID)
        if err == 45011:
            raise TooMany(WechatError.WECHAT_RATE_LIMITED, "操作太频繁，请稍后再试")
        info = data.get("phone_info") or {}
        if err or not info.get("purePhoneNumber"):
            log.warning("getuserphonenumber failed: %s %s", err, data.get("errmsg"))
            raise AppError(WechatError.WECHAT_PHONE_FAILED)
        if (info.get("watermark") or {}).get("appid") not in (None, self.appid):
            raise AppError(WechatError.WECHAT_PHONE_FAILED)
        return {
            "phoneNumber": str(info.get("phoneNumber") or info["purePhoneNumber"]),
            "purePhoneNumber": str(info["purePhoneNumber"]),
            "countryCode": str(info.get("countryCode") or "86"),
        }

    # ---- access token ---------------------------------------------------------------------------

    async def access_token(self, *, force_refresh: bool = False) -> str:
        """The stable access token, refreshed 5 minutes before it expires (one fetch at a time)."""
        async with self._lock:
            now = clock.now().timestamp()
            if self._token and not force_refresh and now < self._token_expires_at - 300:
                return self._token
            r = await self._http(
                "POST",
                "/cgi-bin/stable_token",
                json={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self._secret,
                    "force_refresh": force_refresh,
                },
            )
            data = r.json()
            if not data.get("access_token"):
                raise AppError(WechatError.WECHAT_TOKEN_FAILED)
            self._token = str(data["access_token"])
            self._token_expires_at = now + int(data.get("expires_in", 7200))
            return self._token

    async def _call(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST with the token; on 40001/42001 refresh the token once and retry once."""
        for attempt in (0, 1):
            token = await self.access_token(force_refresh=attempt == 1)
            r = await self._http("POST", path, params={"access_token": token}, json=body)
            if r.headers.get("content-type", "").startswith("application/json"):
                err = int(r.json().get("errcode") or 0)
                if err in TOKEN_ERRORS and attempt == 0:
                    log.info("access token rejected (%s); refreshing and retrying once", err)
                    continue
            return r
        raise AssertionError("unreachable")

    # ---- share codes, messages, content checks ------------------------------------------------

    async def wxacode_unlimited(
        self, *, scene: str, page: str = "", width: int = 430, env_version: str | None = None
    ) -> bytes:
        """A share code image (PNG bytes) for `scene` (≤ 32 characters), opening `page` in the
        `env_version` build (release | trial | develop; default: the WECHAT_ENV_VERSION setting)."""
        if not _SCENE.match(scene):
            raise AppError(WechatError.WECHAT_SCENE_INVALID)
        env = env_version or get_settings().wechat_env_version
        if env not in ENV_VERSIONS:
            raise AppError(WechatError.WECHAT_ENV_VERSION_INVALID)
        # A release code checks that the page exists in the published version (a typo fails here, not
        # in the shopper's hand); trial and develop builds have pages the release does not, so no check.
        body: dict[str, Any] = {"scene": scene, "width": width, "env_version": env, "check_path": env == "release"}
        page = normalize_page(page)  # WeChat refuses "/pages/…" (41030)
        if page:
            body["page"] = page
        r = await self._call("/wxa/getwxacodeunlimit", body)
        ctype = r.headers.get("content-type", "")
        if ctype.startswith("image/"):
            return r.content
        data = r.json() if ctype.startswith("application/json") else {}
        log.warning("getwxacodeunlimit failed: %s", data)
        raise AppError(WechatError.WECHAT_CODE_IMAGE_FAILED)

    async def send_subscribe(
        self, *, openid: str, template_id: str, data: dict[str, str], page: str = "", state: str | None = None
    ) -> SendResult:
        """Send a subscribe message. Refusals and quota errors are recorded and returned, not raised.
        A value WeChat would refuse (empty, too long, wrong format: 47003) is not sent at all.
        `state` (formal | trial | developer) defaults to the WECHAT_ENV_VERSION setting's."""
        bad = [p for k, v in data.items() if (p := problem(k, v))]
        if bad:
            log.warning("subscribe message %s to %s not sent: %s", template_id, openid, "; ".join(bad))
            self._record(template_id, LOCAL_REFUSAL, "; ".join(bad))
            return SendResult(ok=False, errcode=LOCAL_REFUSAL, errmsg="; ".join(bad))
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
            "miniprogram_state": state or get_settings().wechat_miniprogram_state,
        }
        page = normalize_page(page)
        if page:
            body["page"] = page
        res = (await self._call("/cgi-bin/message/subscribe/send", body)).json()
        err = int(res.get("errcode") or 0)
        if err:
            self._record(template_id, err, str(res.get("errmsg", "")))
            log.info("subscribe message to %s not sent: %s %s", openid, err, res.get("errmsg"))
            return SendResult(ok=False, errcode=err, errmsg=str(res.get("errmsg", "")))
        return SendResult(ok=True)

    def _record(self, template_id: str, errcode: int, errmsg: str) -> None:
        self.quota_errors.append((template_id, errcode, errmsg))
        del self.quota_errors[:-100]

    async def msg_sec_check(self, *, openid: str, content: str, scene: int = 2) -> str:
        """Check user text (scene 1 profile, 2 comment, 3 forum, 4 social log): pass | review | risky."""
        res = (
            await self._call("/wxa/msg_sec_check", {"openid": openid, "content": content, "version": 2, "scene": scene})
        ).json()
        if int(res.get("errcode") or 0):
            raise AppError(WechatError.WECHAT_CHECK_FAILED)
        return str((res.get("result") or {}).get("suggest", "review"))

    async def user_risk_rank(self, *, openid: str, client_ip: str, scene: int = 0) -> int | None:
        """WeChat's risk rank of a user (getuserriskrank: 0 lowest … 4 highest; scene 0 sign-up, 1 marketing),
        or None when WeChat does not know (61010: no record of this user) or cannot answer: never a refusal."""
        try:
            r = await self._call(
                "/wxa/getuserriskrank",
                {"appid": self.appid, "openid": openid, "scene": scene, "client_ip": client_ip or "0.0.0.0"},
            )
            res = r.json()
        except (httpx.HTTPError, ValueError, AppError):
            return None
        if int(res.get("errcode") or 0) or "risk_rank" not in res:
            return None  # 61010 and every other error: unknown
        return int(res["risk_rank"])


# One client per (app id, base URL) per process, so the token cache is shared by every request.
CLIENTS: dict[tuple[str, str], MiniProgramClient] = {}


def client_for(settings: Settings) -> MiniProgramClient:
    """The process's mini-program client for these settings (tests may put one in CLIENTS first)."""
    key = (settings.wechat_app_id, settings.wechat_api_base_url)
    c = CLIENTS.get(key)
    if c is None:
        c = CLIENTS[key] = MiniProgramClient(
            appid=settings.wechat_app_id,
            secret=settings.wechat_app_secret,
            base_url=settings.wechat_api_base_url,
            timeout_seconds=settings.wechat_http_timeout_seconds,
        )
    return c
