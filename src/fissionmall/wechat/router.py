"""WeChat endpoints: merchant transfer results, the shopper's phone, the subscribe templates.

The transfer callback answers as WeChat expects: 204 on success (duplicates included), 4xx with
{"code": "FAIL", "message": ...} when the notification does not verify or decode.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import StringConstraints

from fissionmall.accounts.deps import CurrentCustomer
from fissionmall.core.deps import DbDep, SettingsDep
from fissionmall.core.errors import CoreError, TooMany
from fissionmall.core.kv import get_kv
from fissionmall.core.schemas import ApiModel
from fissionmall.payments import service as payments
from fissionmall.payments.gateway import BadNotification
from fissionmall.wechat import identity, service
from fissionmall.wechat.errors import WechatError

router = APIRouter(tags=["wechat"])

PHONE_RATE_PER_MINUTE = 5  # each getuserphonenumber call is billed to the merchant


class PhoneIn(ApiModel):
    code: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class PhoneOut(ApiModel):
    phone: str  # masked: 138****8000
    country_code: str


@router.post("/me/phone", response_model=PhoneOut)
async def set_phone(body: PhoneIn, caller: CurrentCustomer, settings: SettingsDep, db: DbDep) -> PhoneOut:
    """The shopper's phone from a getPhoneNumber `code` (bindgetphonenumber's `e.detail.code`)."""
    if not await get_kv().allow(f"wechat-phone:{caller.id}", limit=PHONE_RATE_PER_MINUTE, window_seconds=60):
        raise TooMany(CoreError.RATE_LIMITED)
    number, cc = await identity.fetch_phone(settings, body.code)
    masked = await identity.set_phone(db, settings, customer_id=caller.id, number=number, country_code=cc)
    return PhoneOut(phone=masked, country_code=cc)


class SubscribeTemplatesOut(ApiModel):
    templates: dict[str, str]  # event → template id, for wx.requestSubscribeMessage({tmplIds})
    miniprogram_state: str


@router.get("/wechat/subscribe-templates", response_model=SubscribeTemplatesOut)
async def subscribe_templates(settings: SettingsDep) -> SubscribeTemplatesOut:
    """The template ids per event, so the mini-program asks the shopper to subscribe before the moment
    it matters (e.g. OrderShipped's before paying). Events with no template are absent."""
    templates = {
        event: str(t["template_id"])
        for event, t in settings.wechat_subscribe_templates.items()
        if t.get("template_id") and settings.wechat_login_configured
    }
    return SubscribeTemplatesOut(templates=templates, miniprogram_state=settings.wechat_miniprogram_state)


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
            raise BadNotification(WechatError.NOTIFICATION_UNSUPPORTED, f"{event.event_type} is not a transfer result")
    except BadNotification as exc:
        async with db.tx() as s:
            await payments.record_rejected(
                s, gateway="wechatpay", code=exc.code, detail=body[:500].decode(errors="replace")
            )
        return JSONResponse(exc.fail_body(), status_code=exc.status)
    async with db.tx() as s:
        await service.transfer_finished(s, event.resource)
    return Response(status_code=204)
