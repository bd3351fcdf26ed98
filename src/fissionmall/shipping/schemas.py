"""运费模板 as the admin API reads and writes them. Fees and units are checked by shipping/rules.py (so a
negative fee or a zero unit gets its own code, SHIPPING_FEE_NEGATIVE / SHIPPING_UNIT_ZERO), within the
bounds every column keeps."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from fissionmall.core.schemas import MAX_FEN, ApiDateTime, ApiModel, Patch

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
SignedFen = Annotated[int, Field(strict=True, ge=-MAX_FEN, le=MAX_FEN)]
Units = Annotated[int, Field(strict=True, ge=-100_000_000, le=100_000_000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=12)]
Codes = Annotated[list[Code], Field(max_length=400)]
Mode = Literal["piece", "weight"]


class ChargeIn(ApiModel):
    """首件/首重 and 续件/续重: pieces, or grams in the weight mode (1000 = 1 kg)."""

    first_units: Units = 1
    first_fee_fen: SignedFen = 0
    additional_units: Units = 1
    additional_fee_fen: SignedFen = 0


class RegionRule(ChargeIn):
    regions: Annotated[list[Code], Field(min_length=1, max_length=400)]  # province (or city) codes


class FreeIn(ApiModel):
    """包邮条件: from an amount of goods (fen) or a number of pieces, in `regions` (empty: everywhere)."""

    min_amount_fen: SignedFen | None = None
    min_count: Units | None = None
    regions: Codes = []


class TemplateCreate(ApiModel):
    name: Name
    mode: Mode = "piece"
    is_default: bool = False
    default_rule: ChargeIn = ChargeIn()
    rules: Annotated[list[RegionRule], Field(max_length=50)] = []
    free: Annotated[list[FreeIn], Field(max_length=20)] = []
    not_delivered: Codes = []


class TemplateUpdate(ApiModel):
    """Every field optional; a list, when given, replaces the template's list. `is_default: true` makes
    it the default (the old default stops being one); `false` on the default is refused."""

    name: Patch[Name] = None
    mode: Patch[Mode] = None
    is_default: Patch[bool] = None
    default_rule: Patch[ChargeIn] = None
    rules: Patch[Annotated[list[RegionRule], Field(max_length=50)]] = None
    free: Patch[Annotated[list[FreeIn], Field(max_length=20)]] = None
    not_delivered: Patch[Codes] = None


class TemplateAdmin(ApiModel):
    id: int
    name: str
    mode: str
    is_default: bool
    default_rule: ChargeIn
    rules: list[RegionRule]
    free: list[FreeIn]
    not_delivered: list[str]
    products: int  # how many products name it
    free_everywhere: bool  # the 包邮 label its products carry
    created_at: ApiDateTime
    updated_at: ApiDateTime
