"""What the admin API's dashboard answers (money in fen, rates in basis points, null where nothing to divide)."""

from __future__ import annotations

from datetime import date

from fissionmall.core.schemas import ApiModel


class DayFigures(ApiModel):
    day: date
    orders: int
    paid_fen: int
    refund_fen: int
    gmv_fen: int


class NonGoods(ApiModel):
    source: str
    label: str
    orders: int
    paid_fen: int
    refund_fen: int
    net_fen: int


class Overview(ApiModel):
    orders: int
    paid_fen: int
    refund_fen: int
    gmv_fen: int
    discount_fen: int
    commission_fen: int
    net_fen: int
    new_customers: int
    non_goods: list[NonGoods]


class ToolFigures(ApiModel):
    tool: str
    label: str
    views: int
    shares: int
    participants: int
    orders: int
    paid_fen: int
    refund_fen: int
    gmv_fen: int
    discount_fen: int
    commission_fen: int
    net_fen: int
    new_customers: int


class FunnelStep(ApiModel):
    step: str
    label: str
    people: int
    rate_bp: int | None
    worst: bool


class Funnel(ApiModel):
    tool: str
    label: str
    steps: list[FunnelStep]
    worst_step: str | None


class DistributorFigures(ApiModel):
    distributor_customer_id: int
    nickname: str
    groupbuy: int
    seckill: int
    bargain: int
    other: int
    orders: int
    goods_fen: int
    commission_fen: int


class Repurchase(ApiModel):
    tool: str
    label: str
    shoppers: int
    repurchased: int
    rate_bp: int | None


class AttributionRow(ApiModel):
    tool: str
    label: str
    first_orders: int
    first_paid_fen: int
    last_orders: int
    last_paid_fen: int


class DashboardOut(ApiModel):
    date_from: date
    date_to: date
    overview: Overview
    daily: list[DayFigures]
    repurchase: list[Repurchase]
    attribution: list[AttributionRow]


class ToolsOut(ApiModel):
    date_from: date
    date_to: date
    items: list[ToolFigures]


class FunnelsOut(ApiModel):
    date_from: date
    date_to: date
    items: list[Funnel]


class DistributorsOut(ApiModel):
    date_from: date
    date_to: date
    items: list[DistributorFigures]
