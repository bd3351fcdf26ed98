"""What the shop sends to `POST /events` and what it gets back."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from fissionmall.core.schemas import ApiModel, DateTimeIn

# The batch is bounded twice: here, generously, so a body of a million events is refused while parsing;
# and by MAX_BATCH in ingest.py, which answers a stable EVENT_BATCH_TOO_LARGE (413) above 50.
PARSE_LIMIT = 1000


class EventIn(ApiModel):
    """One thing only the shop saw. `type`: page_view, share or share_open (server kinds are refused);
    `id`: the shop's own id of this event, so a batch sent twice is stored once; `ref`: the share code a
    link carried; `page`: where it happened, `<tool>:<id>` (`groupbuy:12`, `seckill:3`, `product:5`)."""

    type: Annotated[str, Field(min_length=1, max_length=32)]
    id: Annotated[str | None, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")] = None
    product_id: Annotated[int | None, Field(strict=True, ge=1, le=2**62)] = None
    ref: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    page: Annotated[str | None, Field(min_length=1, max_length=48, pattern=r"^[a-z_]{1,24}(:[0-9]{1,18})?$")] = None
    at: DateTimeIn | None = None  # when the shop saw it; far from the server's clock, the arrival time counts


class EventBatch(ApiModel):
    events: Annotated[list[EventIn], Field(max_length=PARSE_LIMIT)]


class EventsAccepted(ApiModel):
    received: int  # events in the request
    stored: int  # new ones (a repeat of an event id already stored is not stored again)
