"""What the admin API answers about a media asset."""

from __future__ import annotations

from datetime import datetime

from fissionmall.core.schemas import ApiModel


class MediaAdmin(ApiModel):
    id: int
    url: str  # the web copy (longest side ≤ 1200 px): what a product's images[] holds
    thumb_url: str  # ≤ 360 px, for lists and the console
    width: int
    height: int
    bytes: int
    mime: str
    original_name: str
    created_at: datetime
