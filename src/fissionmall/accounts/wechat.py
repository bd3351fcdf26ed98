"""WeChat mini-program login behind one client, with a sandbox twin.

The production client (code2Session over HTTPS) arrives with the WeChat issue;
the sandbox maps any code to the openid `sandbox-<code>`, as API.md promises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from fissionmall.accounts.errors import AccountsError
from fissionmall.core.errors import AppError

_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,48}$")


@dataclass(frozen=True)
class WechatSession:
    openid: str
    unionid: str | None = None
    # Kept sealed on the customer (wechat/vault.py): decrypting `wx` data later needs it.
    session_key: str | None = None


class WechatClient(Protocol):
    async def code2session(self, code: str) -> WechatSession: ...


class SandboxWechat:
    async def code2session(self, code: str) -> WechatSession:
        if not _CODE.match(code):
            raise AppError(AccountsError.WECHAT_CODE_INVALID, "登录码只能包含字母、数字、下划线和短横线")
        return WechatSession(openid=f"sandbox-{code}")
