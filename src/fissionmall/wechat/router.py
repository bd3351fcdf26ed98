"""WeChat Pay callbacks that are not payments or refunds: merchant transfer results.

Answers as WeChat expects: 204 on success (duplicates included), 4xx with
{"code": "FAIL", "message": ...} when the notification does not verify or decode.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from fissionmall.accounts.deps import DbDep
from fissionmall.payments import service as payments
from fissionmall.payments.gateway import BadNotification
from fissionmall.wechat import service

router = APIRouter(tags=["wechat"])


@router.post("/wechat/pay/transfer-notify", response_model=None, include_in_schema=False)
async def transfer_notify(request: Request, db: DbDep) -> Response:
    """MCHTRANSFER.BILL.FINISHED: verified, decrypted, applied once per bill and state."""
    gw = service._gateway()
    if gw is None:
        return JSONResponse({"code": "FAIL", "message": "WeChat Pay is not configured"}, status_code=404)
    body = await request.body()
    try:
        event = gw.decode({k.lower(): v for k, v in request.headers.items()}, body)
        if event.resource_type != "mch_payment" or "out_bill_no" not in event.resource:
            raise BadNotification("NOTIFICATION_UNSUPPORTED", f"{event.event_type} is not a transfer result")
    except BadNotification as exc:
        async with db.tx() as s:
            await payments.record_rejected(
                s, gateway="wechatpay", code=exc.code, detail=body[:500].decode(errors="replace")
            )
        return JSONResponse({"code": "FAIL", "message": exc.message}, status_code=exc.status)
    async with db.tx() as s:
        await service.transfer_finished(s, event.resource)
    return Response(status_code=204)
