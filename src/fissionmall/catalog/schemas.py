from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from fissionmall.core.media import MediaUrl
from fissionmall.core.schemas import ApiDateTime, ApiModel, Fen, Patch

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Stock = Annotated[int, Field(strict=True, ge=0, le=100_000_000)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]


class SkuCreate(ApiModel):
    id: Annotated[int, Field(strict=True, ge=1, le=2**53)] | None = None  # set when editing an existing SKU
    name: Name
    price_fen: Fen
    stock: Stock = 0


class ProductCreate(ApiModel):
    title: Title
    description: Annotated[str, StringConstraints(max_length=5000)] = ""
    category: Name | None = None
    images: Annotated[list[MediaUrl], Field(max_length=20)] = []
    labels: Annotated[list[Label], Field(max_length=10)] = []
    status: Annotated[str, Field(pattern="^(on_sale|off_sale)$")] = "on_sale"
    skus: Annotated[list[SkuCreate], Field(min_length=1, max_length=100)]


class ProductUpdate(ApiModel):
    """Every field optional. `skus`, when given, is the full list: SKUs left out are retired."""

    title: Patch[Title] = None
    description: Patch[Annotated[str, StringConstraints(max_length=5000)]] = None
    category: Name | None = None
    images: Patch[Annotated[list[MediaUrl], Field(max_length=20)]] = None
    labels: Patch[Annotated[list[Label], Field(max_length=10)]] = None
    status: Patch[Annotated[str, Field(pattern="^(on_sale|off_sale)$")]] = None
    skus: Patch[Annotated[list[SkuCreate], Field(min_length=1, max_length=100)]] = None


class SkuPublic(ApiModel):
    id: int
    name: str
    price_fen: int
    stock: int


class SkuAdmin(SkuPublic):
    sold: int
    is_active: bool


class ProductPublic(ApiModel):
    id: int
    title: str
    description: str
    category: str | None
    images: list[str]
    labels: list[str]
    price_fen: int  # the lowest SKU price, for list cards
    sales: int
    skus: list[SkuPublic]
    promotions: list[dict[str, Any]] = []


class ProductAdmin(ApiModel):
    id: int
    title: str
    description: str
    category: str | None
    images: list[str]
    labels: list[str]
    status: str
    created_at: ApiDateTime
    updated_at: ApiDateTime
    skus: list[SkuAdmin]


class CategoryPublic(ApiModel):
    id: int
    name: str
