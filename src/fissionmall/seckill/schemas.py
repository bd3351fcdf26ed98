"""The flash-sale API's shapes: sessions and items as the operator writes them (Create / Update) and reads
them (Admin), and what a shopper sends and is answered on an attempt (AttemptCreate, AttemptPublic, TokenPublic)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from fissionmall.addresses.schemas import Address, one_address
from fissionmall.core.schemas import ApiDateTime, ApiIn, ApiModel, DateTimeIn, Fen, Patch
from fissionmall.orders.schemas import Id

PerUserLimit = Annotated[int, Field(strict=True, ge=1, le=999)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Pool = Annotated[int, Field(strict=True, ge=1, le=100_000_000)]


class ItemCreate(ApiModel):
    sku_id: Id
    price_fen: Fen
    stock: Pool | None = None  # the pool; default 90%
    per_user_limit: PerUserLimit = 1
    new_users_only: bool = False


class SessionCreate(ApiModel):
    title: Title
    starts_at: DateTimeIn
    ends_at: DateTimeIn
    items: Annotated[list[ItemCreate], Field(min_length=1, max_length=50)]
    # Come back daily at the same time this many more days (0: a one-off session).
    repeat_days: Annotated[int, Field(strict=True, ge=0, le=30)] = 0


class ItemUpdate(ApiModel):
    id: Id
    price_fen: Patch[Fen] = None
    stock: Patch[Pool] = None  # the new pool: units move between it and the SKU's stock
    per_user_limit: Patch[PerUserLimit] = None
    new_users_only: Patch[bool] = None


class SessionUpdate(ApiModel):
    title: Patch[Title] = None
    starts_at: Patch[DateTimeIn] = None
    ends_at: Patch[DateTimeIn] = None
    items: Patch[Annotated[list[ItemUpdate], Field(max_length=50)]] = None


class ItemAdmin(ApiModel):
    id: int
    sku_id: int
    price_fen: int
    pool: int
    stock: int
    sold: int
    per_user_limit: int
    new_users_only: bool


class SessionAdmin(ApiModel):
    id: int
    title: str
    starts_at: ApiDateTime
    ends_at: ApiDateTime
    status: str
    repeat_left: int = 0
    created_at: ApiDateTime
    items: list[ItemAdmin]


class CaptchaAnswer(ApiModel):
    id: Annotated[str, StringConstraints(max_length=200)]
    answer: Annotated[str, StringConstraints(max_length=16)]


class AttemptCreate(ApiIn):  # ApiIn: the fast lane (seckill/fast.py) skips the middleware
    qty: Annotated[int, Field(strict=True, ge=1, le=99)] = 1
    token: Annotated[str, StringConstraints(max_length=200)] | None = None
    # The contract's body is {qty, token}: without an address the winner's order ships to their default
    # address (resolved when the order is made, never on this hot path); `address` or `address_id` overrides.
    address: Address | None = None
    address_id: Id | None = None
    captcha: CaptchaAnswer | None = None

    @model_validator(mode="after")
    def _one_address(self) -> AttemptCreate:
        return one_address(self)


class AttemptPublic(ApiModel):
    attempt_id: str
    status: str
    order_id: int | None = None
    reason: str | None = None


class TokenPublic(ApiModel):
    token: str
    expires_at: ApiDateTime


class CaptchaPublic(ApiModel):
    captcha_id: str
    question: str


class BoardAdmin(ApiModel):
    session_id: int
    server_time: ApiDateTime
    state: str
    items: list[dict[str, Any]]


def session_admin(sess: Any) -> SessionAdmin:
    return SessionAdmin(
        id=sess.id,
        title=sess.title,
        starts_at=sess.starts_at,
        ends_at=sess.ends_at,
        status=sess.status,
        repeat_left=sess.repeat_left,
        created_at=sess.created_at,
        items=[
            ItemAdmin(
                id=i.id,
                sku_id=i.sku_id,
                price_fen=i.price_fen,
                pool=i.pool,
                stock=i.pool,
                sold=i.sold,
                per_user_limit=i.per_user_limit,
                new_users_only=i.new_users_only,
            )
            for i in sess.items
        ],
    )
