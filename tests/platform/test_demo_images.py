"""Demo catalogue sanity and locally rendered product pictures."""

from __future__ import annotations

import pathlib

from PIL import Image

from fissionmall.demo.catalogue import CATEGORIES, PRODUCTS
from fissionmall.demo.images import render_product_image

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_render_product_image_is_valid_deterministic_png(tmp_path: pathlib.Path) -> None:
    first = tmp_path / "a" / "nested" / "first.png"
    again = tmp_path / "again.png"
    other = tmp_path / "other.png"

    render_product_image("赣南脐橙", 7, first, size=320)
    render_product_image("赣南脐橙", 7, again, size=320)
    render_product_image("赣南脐橙", 8, other, size=320)

    for path in (first, again, other):
        data = path.read_bytes()
        assert data.startswith(PNG_MAGIC)
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            assert img.format == "PNG"
            assert img.size == (320, 320)

    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_render_product_image_default_size(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "default.png"
    render_product_image("每日坚果混合装", 3, path)
    with Image.open(path) as img:
        assert img.size == (600, 600)


def test_demo_catalogue_is_consistent() -> None:
    assert 5 <= len(CATEGORIES) <= 6
    assert len(set(CATEGORIES)) == len(CATEGORIES)
    assert len(PRODUCTS) >= 12
    titles = [p["title"] for p in PRODUCTS]
    assert len(set(titles)) == len(titles)
    for product in PRODUCTS:
        assert isinstance(product["title"], str)
        assert product["title"]
        assert product["category"] in CATEGORIES
        assert isinstance(product["description"], str)
        assert product["description"]
        assert isinstance(product["labels"], list)
        assert all(isinstance(label, str) and label for label in product["labels"])
        skus = product["skus"]
        assert skus, product["title"]
        # The catalogue's own rules (spec matrix complete, 划线价 not below the price, names or specs unique)
        from fissionmall.catalog import rules
        from fissionmall.catalog.schemas import ProductCreate

        data = ProductCreate.model_validate(product)
        names = rules.sku_names([d.model_dump() for d in data.specs], [rules.SkuFacts(
            k.name, k.price_fen, k.list_price_fen, k.code, k.spec) for k in data.skus])  # fmt: skip
        assert len(set(names)) == len(skus) and all(names)
        for sku in skus:
            # Money is integer fen only: reject floats and bools outright.
            assert type(sku["price_fen"]) is int, (product["title"], sku)
            assert sku["price_fen"] > 0, (product["title"], sku)
            assert type(sku["stock"]) is int, (product["title"], sku)
            assert sku["stock"] >= 0, (product["title"], sku)
    # Every category should actually be used by the demo shop.
    assert {p["category"] for p in PRODUCTS} == set(CATEGORIES)


def test_pictures_follow_the_category_not_the_title(tmp_path: pathlib.Path) -> None:
    """No title is printed (the page shows it): two titles in one category draw the same picture; each
    category has its own motif and colour; a product's gallery pictures differ from one another."""
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    render_product_image("赣南脐橙", 5, a, size=200, category="生鲜水果")
    render_product_image("完全不同的标题", 5, b, size=200, category="生鲜水果")
    assert a.read_bytes() == b.read_bytes()
    colours = set()
    for i, cat in enumerate(CATEGORIES):
        path = tmp_path / f"c{i}.png"
        render_product_image("同一个标题", 5, path, size=200, category=cat)
        with Image.open(path) as img:
            colours.add(img.convert("RGB").resize((1, 1)).getpixel((0, 0)))
    assert len(colours) == len(CATEGORIES)
    gallery = []
    for v in range(3):
        path = tmp_path / f"v{v}.png"
        render_product_image("赣南脐橙", 5, path, size=200, category="生鲜水果", variant=v)
        gallery.append(path.read_bytes())
    assert len(set(gallery)) == 3
