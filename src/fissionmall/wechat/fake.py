"""Run both WeChat fakes on loopback for front-end developers: `python -m fissionmall.wechat.fake`.

(Meant to become `fissionmall fake-wechat`; cli.py is platform code.) It generates a merchant key
and a platform key, writes the FISSIONMALL_WECHAT_* settings the shop needs to `<var>/wechat-fake.env`,
and serves the Pay APIv3 fake and the mini-program fake on one port. "What WeChat does by itself"
is a POST away, and the resulting notification is delivered to the shop's notify URL:
  POST /_fake/pay/{out_trade_no}[?times=2&late=600&signtest=1]
  POST /_fake/refund/{out_refund_no}
  POST /_fake/transfer/{out_bill_no}
  POST /_fake/phone/{number}   → {"code"} for POST /api/v1/me/phone
"""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fissionmall.payments.wechatpay import crypto
from fissionmall.payments.wechatpay.fake import FakeNotification, FakeWechatPay
from fissionmall.wechat.mpfake import FakeMiniProgram


def build(var_dir: Path, port: int) -> tuple[Starlette, dict[str, str]]:
    merchant = crypto.generate_key()
    appid, mchid, serial = (
        "wx" + secrets.token_hex(8),
        "19" + str(secrets.randbelow(10**8)).zfill(8),
        "FAKE" + secrets.token_hex(18).upper(),
    )
    apiv3, secret = secrets.token_hex(16), secrets.token_hex(16)
    pay = FakeWechatPay(
        mchid=mchid,
        appid=appid,
        merchant_public_pem=crypto.public_pem(merchant),
        merchant_serial=serial,
        apiv3_key=apiv3,
    )
    mp = FakeMiniProgram(appid=appid, secret=secret, accept_any_code=True)
    base = f"http://127.0.0.1:{port}"
    var_dir.mkdir(parents=True, exist_ok=True)
    (var_dir / "wechat-merchant-key.pem").write_text(crypto.private_pem(merchant))
    (var_dir / "wechat-platform-pub.pem").write_text(pay.platform_public_pem)
    env = {
        "FISSIONMALL_PAYMENT_GATEWAY": "wechatpay",
        "FISSIONMALL_WECHAT_APP_ID": appid,
        "FISSIONMALL_WECHAT_APP_SECRET": secret,
        "FISSIONMALL_WECHAT_API_BASE_URL": base,
        "FISSIONMALL_WECHAT_MCH_ID": mchid,
        "FISSIONMALL_WECHAT_MCH_PRIVATE_KEY_PATH": str((var_dir / "wechat-merchant-key.pem").resolve()),
        "FISSIONMALL_WECHAT_MCH_SERIAL": serial,
        "FISSIONMALL_WECHAT_APIV3_KEY": apiv3,
        "FISSIONMALL_WECHAT_PLATFORM_PUBLIC_KEY_PATH": str((var_dir / "wechat-platform-pub.pem").resolve()),
        "FISSIONMALL_WECHAT_PLATFORM_PUBLIC_KEY_ID": pay.platform_key_id,
        "FISSIONMALL_WECHAT_PAY_BASE_URL": base,
    }
    (var_dir / "wechat-fake.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))

    async def send(note: FakeNotification, times: int) -> list[int]:
        codes = []
        async with httpx.AsyncClient(timeout=5) as c:
            for _ in range(times):
                codes.append((await c.post(note.notify_url, content=note.body, headers=note.headers)).status_code)
        return codes

    def opts(request: Request) -> dict[str, Any]:
        q = request.query_params
        return {"times": int(q.get("times", 1)), "late": int(q.get("late", 0)), "signtest": q.get("signtest") == "1"}

    async def do_pay(request: Request) -> JSONResponse:
        o = opts(request)
        no = request.path_params["no"]
        pay.pay(no)
        note = pay.notification(
            "TRANSACTION.SUCCESS",
            "transaction",
            pay.transaction(pay.state.orders[no]),
            pay.state.orders[no]["notify_url"],
            "支付成功",
            age_seconds=o["late"],
            signtest=o["signtest"],
        )
        return JSONResponse({"delivered": await send(note, o["times"])})

    async def do_refund(request: Request) -> JSONResponse:
        return JSONResponse(
            {"delivered": await send(pay.settle_refund(request.path_params["no"]), opts(request)["times"])}
        )

    async def do_phone(request: Request) -> JSONResponse:
        # What getPhoneNumber hands the mini-program: a single-use code for this number.
        return JSONResponse({"code": mp.issue_phone_code(request.path_params["number"])})

    async def do_transfer(request: Request) -> JSONResponse:
        note = pay.confirm_transfer(request.path_params["no"])
        return JSONResponse({"delivered": await send(note, opts(request)["times"])})

    app = Starlette(
        routes=[
            Route("/_fake/pay/{no}", do_pay, methods=["POST"]),
            Route("/_fake/refund/{no}", do_refund, methods=["POST"]),
            Route("/_fake/transfer/{no}", do_transfer, methods=["POST"]),
            Route("/_fake/phone/{number}", do_phone, methods=["POST"]),
            *pay.app.routes,
            *mp.app.routes,
        ]
    )
    return app, env


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    ap = argparse.ArgumentParser(description="Local WeChat Pay APIv3 + mini-program fakes")
    ap.add_argument("--port", type=int, default=8900)
    ap.add_argument("--var-dir", type=Path, default=Path("var"))
    args = ap.parse_args(argv)
    app, _ = build(args.var_dir, args.port)
    print(f"settings written to {args.var_dir / 'wechat-fake.env'}; start the shop with them")
    uvicorn.run(app, host="127.0.0.1", port=args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
