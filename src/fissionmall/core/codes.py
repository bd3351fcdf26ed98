"""The one table of error texts: GET /api/v1/error-codes, and what the console's error_text reads.

Every domain's `errors.py` enum is imported (registry.import_all("errors")) so the table holds every
declared code; the shop loads it once at start and the console looks codes up in it, so a refusal reads
the same Chinese on both sides and neither keeps a copy of its own.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from fissionmall import registry
from fissionmall.core.errors import error_table

# ---- FALLBACK: codes of orders/, coupons/, promotions/, pricing/, payments/ (being rewritten) -------------
# Their enums are not in the tree yet; these entries are the texts of /work/notes/codes-for-lead.py,
# served until each package's `errors.py` lands. A declared enum always wins over an entry here, and
# tests/unit/test_error_codes.py fails on an entry an enum now declares differently: delete the block then.
LEAD_FALLBACK: dict[str, str] = {
    # OrdersError
    "ORDER_STATE_INVALID": "订单当前状态不允许此操作，请刷新后查看最新状态",
    "ORDER_SOURCE_UNKNOWN": "订单来源不存在",
    "QTY_TOO_LARGE": "购买数量超出限制",
    "POINTS_NOT_APPLICABLE": "积分抵扣暂未开放",
    "LINE_NOT_IN_ORDER": "该商品不在此订单中",
    "REFUND_NOT_ALLOWED": "该订单当前不能申请退款",
    "REFUND_PENDING": "该订单已有售后申请在处理中，请先处理售后",
    "REFUND_QTY_EXCEEDED": "退款数量超出可退数量",
    "REFUND_EXCEEDS_PAID": "退款金额超出实付金额",
    "NOTHING_TO_REFUND": "没有可退款的商品",
    "REFUND_STATE_INVALID": "该售后单的状态已变化，无法再执行此操作",
    # PricingError
    "COUPON_NOT_APPLICABLE": "该券不适用于当前订单",
    "COUPON_BELOW_THRESHOLD": "未达到使用门槛",
    "SCOPE_IDS_REQUIRED": "指定商品或分类时须选择适用的商品或分类",
    "THRESHOLD_BELOW_DISCOUNT": "使用门槛不能低于优惠金额",
    # CouponsError
    "COUPON_AMOUNT_REQUIRED": "满减券须填写减免金额",
    "COUPON_PERCENT_INVALID": "折扣比例须大于 0 且小于 100%",
    "VALIDITY_INVALID": "有效期设置有误：填写截止日期或有效天数之一，且开始须早于截止",
    "CLAIM_WINDOW_INVALID": "领取开始时间须早于结束时间",
    "TOTAL_BELOW_ISSUED": "发放总量不能少于已发出的数量",
    "TEMPLATE_IN_USE": "该券已有发放记录，不能删除，请改为暂停",
    "ALREADY_GRANTED": "这次发放已经完成，无需重复发放",
    "COUPON_NOT_CLAIMABLE": "该券暂不可领取",
    "CLAIM_NOT_STARTED": "尚未开始领取",
    "CLAIM_ENDED": "领取已结束",
    "CLAIM_LIMIT_REACHED": "已达领取上限",
    "COUPON_SOLD_OUT": "来晚了，券已抢光",
    "COUPON_NOT_FOUND": "优惠券不存在",
    "COUPON_USED": "该券已被使用",
    "COUPON_EXPIRED": "该券已过期",
    "COUPON_NOT_STARTED": "该券尚未到可用时间",
    # PromotionsError
    "PROMOTION_WINDOW_INVALID": "结束时间必须晚于开始时间",
    "TIERS_REQUIRED": "请至少设置一档优惠",
    "TIER_INVALID": "每档优惠只能填减免金额或折扣之一，折扣须小于 100%",
    "TIERS_OVERLAP": "优惠档位重复或不递进：门槛越高，优惠须越大",
    "ITEMS_REQUIRED": "限时折扣须至少添加一个商品",
    "ITEMS_DUPLICATE": "同一规格只能添加一次",
    "ITEM_INVALID": "每个商品只能填活动价或折扣之一，且折扣须有效",
    "GIFT_INVALID": "满赠须填写赠品规格、赠品数量和门槛",
    "GIFT_STOCK_BELOW_GIVEN": "赠品数量不能少于已送出的数量",
    "GIFT_OUT_OF_STOCK": "赠品刚刚送完，请重新结算查看最新价格",
    "PROMOTION_IN_USE": "已有订单使用该活动，不能删除，请改为暂停",
    # PaymentsError
    "PAYMENT_NOT_FOUND": "支付单不存在",
    "PAYMENT_METHOD_UNAVAILABLE": "暂不支持该支付方式",
    "ORDER_NOT_PAYABLE": "该订单当前无法支付",
    "ORDER_PAY_EXPIRED": "订单已超过支付时间",
    "PAYMENT_CLOSED": "这笔支付已关闭（订单已取消或金额已变），请重新发起支付",
    "SANDBOX_DISABLED": "沙箱收银台未开启",
    "PAYMENT_NOT_SANDBOX": "该支付单不是沙箱支付",
    "GATEWAY_UNKNOWN": "支付渠道不存在",
    "WECHAT_OPENID_UNKNOWN": "该买家没有绑定微信，无法使用微信支付",
}
# ---- end FALLBACK ---------------------------------------------------------------------------------------

MAX_AGE_SECONDS = 300  # a new code reaches an open shop within five minutes; the ETag makes a reload cheap


@lru_cache(maxsize=1)
def table() -> dict[str, str]:
    """{code: 中文} over every domain's enum, then the fallback for codes not declared yet."""
    registry.import_all("errors")
    out = dict(error_table())
    for code, text in LEAD_FALLBACK.items():
        out.setdefault(code, text)
    return dict(sorted(out.items()))


@lru_cache(maxsize=1)
def _body() -> tuple[bytes, str]:
    body = json.dumps({"codes": table()}, ensure_ascii=False, separators=(",", ":")).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class ErrorCodesOut(BaseModel):
    codes: dict[str, str]


router = APIRouter(tags=["meta"])


@router.get("/error-codes", response_model=ErrorCodesOut)
async def error_codes(request: Request) -> Response:
    """Every refusal code with the Chinese text to show for it. No login; cacheable (ETag, 5 minutes)."""
    body, etag = _body()
    headers = {"Cache-Control": f"public, max-age={MAX_AGE_SECONDS}", "ETag": etag}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
