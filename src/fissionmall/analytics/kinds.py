"""What the merchant's data counts: the kinds of events, who may send each, and the tools they belong to.

Client kinds are what only the shop knows (a view, a share, a share link opened) and arrive through
`POST /events`; every other kind is recorded by the server from its own outbox events and is refused
from a client, so an order, a payment or a participation is never taken on a shopper's word.
"""

from __future__ import annotations

CLIENT_KINDS = frozenset({"page_view", "share", "share_open"})

# Participation in a tool: the funnel's middle step.
PARTICIPATION_KINDS = frozenset(
    {
        "seckill_attempt",
        "group_open",
        "group_join",
        "bargain_start",
        "bargain_help",
        "coupon_claim",
        "distributor_apply",
    }
)
ORDER_KINDS = frozenset({"order_created", "order_paid", "order_refund"})
SERVER_KINDS = PARTICIPATION_KINDS | ORDER_KINDS | {"customer_new"}
ALL_KINDS = CLIENT_KINDS | SERVER_KINDS

# The tools the dashboard reports on, in the console's order, with the merchant's names. An order's
# `source` names its tool (normal orders are 普通订单); coupons, 满减 and membership price orders of any
# source and are counted from the order's steps.
TOOLS: dict[str, str] = {
    "groupbuy": "拼团",
    "seckill": "秒杀",
    "bargain": "砍价",
    "coupons": "优惠券",
    "promotions": "满减",
    "distribution": "分销",
    "membership": "会员",
    "vip": "付费会员",
    "points_mall": "积分商城",
    "normal": "普通订单",
}
# Orders that are not goods: shown apart from goods GMV (a top-up is a liability until it is spent, a
# membership fee is not goods revenue).
NON_GOODS_SOURCES = frozenset({"wallet_topup", "vip"})
