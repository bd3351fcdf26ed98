"""首页轮播图 as the admin API writes and reads them, and as the shop reads them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from fissionmall.catalog.schemas import MediaRef
from fissionmall.core.schemas import ApiDateTime, ApiModel, DateTimeIn, Patch

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
# A 素材库 id or a /media/ URL, exactly as a product's images[] take them (the service resolves it).
ImageRef = MediaRef
LinkKind = Literal["none", "product", "coupons"]
ProductId = Annotated[int, Field(strict=True, ge=1, le=2**62)]


class BannerCreate(ApiModel):
    """A new banner, appended after the others. `link_kind` product needs `product_id`; `coupons` opens
    the 领券中心. `starts_at` / `ends_at` (null: no bound) limit when the shop shows it."""

    image: ImageRef
    title: Title
    link_kind: LinkKind = "none"
    product_id: ProductId | None = None
    active: bool = True
    starts_at: DateTimeIn | None = None
    ends_at: DateTimeIn | None = None


class BannerUpdate(ApiModel):
    """Every field optional; `starts_at` / `ends_at` null clear the bound, `product_id` null clears it."""

    image: Patch[ImageRef] = None
    title: Patch[Title] = None
    link_kind: Patch[LinkKind] = None
    product_id: ProductId | None = None
    active: Patch[bool] = None
    starts_at: DateTimeIn | None = None
    ends_at: DateTimeIn | None = None


class BannerMove(ApiModel):
    direction: Literal["up", "down"]


class BannerAdmin(ApiModel):
    id: int
    image_url: str
    thumb_url: str
    title: str
    link_kind: str
    product_id: int | None
    product_title: str | None
    link: str | None
    sort_order: int
    active: bool
    live: bool  # active and inside its window now: the shop shows it
    starts_at: ApiDateTime | None
    ends_at: ApiDateTime | None
    created_at: ApiDateTime
    updated_at: ApiDateTime


class BannerPublic(ApiModel):
    id: int
    image_url: str
    title: str
    link: str | None  # the shop's route: "#/p/12", "#/coupons", or null (no link)


class BannerList(ApiModel):
    items: list[BannerPublic]
