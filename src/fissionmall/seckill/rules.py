"""Flash-sale decisions, pure."""

from __future__ import annotations

import secrets
from datetime import datetime

from fissionmall.addresses.errors import AddressesError
from fissionmall.catalog.errors import CatalogError
from fissionmall.core.errors import AppError, CoreError, ErrorCode
from fissionmall.core.money import yuan
from fissionmall.risk.errors import RiskError
from fissionmall.seckill.errors import SeckillError

POOL_SHARE_BP = 9000  # a pool defaults to 90% of the SKU's stock; 10% stays as the buffer
PAY_MINUTES = 5

# The refusals the hot path (Redis) answers with, by the code it returns: each member carries its
# Chinese text and HTTP status, so the fast lane and the table agree.
REFUSALS: dict[str, ErrorCode] = {
    m.value: m
    for m in (
        CoreError.RATE_LIMITED,
        RiskError.CAPTCHA_REQUIRED,
        SeckillError.NOT_STARTED,
        SeckillError.ENDED,
        RiskError.BAD_TOKEN,
        SeckillError.LIMIT_REACHED,
        CatalogError.SOLD_OUT,
        AddressesError.ADDRESS_REQUIRED,
    )
}


def window_state(now: datetime, starts_at: datetime, ends_at: datetime) -> str:
    if now < starts_at:
        return "upcoming"
    if now >= ends_at:
        return "ended"
    return "active"


def item_state(now: datetime, starts_at: datetime, ends_at: datetime, remaining: int) -> str:
    """upcoming (即将开始) | active (抢购中) | sold_out (已抢光) | ended (已结束)."""
    st = window_state(now, starts_at, ends_at)
    if st == "active" and remaining <= 0:
        return "sold_out"
    return st


def new_attempt_id(item_id: int, customer_id: int) -> str:
    """Unique across processes, and names its owner so a poll can be checked without a lookup."""
    return f"{item_id}-{customer_id}-{secrets.token_hex(8)}"


def attempt_owner(attempt_id: str) -> tuple[int, int] | None:
    parts = attempt_id.split("-")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or len(parts[2]) != 16:
        return None
    return int(parts[0]), int(parts[1])


def default_pool(sku_stock: int) -> int:
    """90% of the stock, rounded down: units, not money, and the buffer must stay whole."""
    return sku_stock * POOL_SHARE_BP // 10_000


def check_flash_price(*, price_fen: int, sku_price_fen: int, sku_id: int) -> None:
    """A flash price is a discount: at or above the SKU's own price it would sell dearer than the shop."""
    if price_fen >= sku_price_fen:
        raise AppError(
            SeckillError.PRICE_NOT_BELOW_SKU,
            f"秒杀价须低于商品原价 ¥{yuan(sku_price_fen)}",
            sku_id=sku_id,
            sku_price_fen=sku_price_fen,
            field="price_fen",
        )


def epoch_ms(d: datetime) -> int:
    """A time as Redis's scripts compare it: milliseconds since the epoch."""
    return int(d.timestamp() * 1000)
