"""Demo catalogue sanity and locally rendered product pictures."""

from __future__ import annotations

import inspect
import pathlib

from PIL import Image, ImageFilter

from fissionmall.demo.catalogue import CATEGORIES, PRODUCTS
from fissionmall.demo.images import MOTIFS, render_product_image

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_render_product_image_is_valid_deterministic_png(tmp_path: pathlib.Path) -> None:
    first = tmp_path / "a" / "nested" / "first.png"
    again = tmp_path / "again.png"
    other = tmp_path / "other.png"

    render_product_image(first, category="生鲜水果", seed=7, size=320)
    render_product_image(again, category="生鲜水果", seed=7, size=320)
    render_product_image(other, category="生鲜水果", seed=8, size=320)

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
    render_product_image(path, category="休闲零食", seed=3)
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


def test_pictures_take_no_title_so_none_is_printed() -> None:
    """The shop prints the title under the picture: the drawing cannot print it a second time."""
    params = inspect.signature(render_product_image).parameters
    assert not {"title", "text", "name", "label"} & set(params), list(params)
    assert all(p.kind is not p.VAR_POSITIONAL and p.kind is not p.VAR_KEYWORD for p in params.values())


def test_each_category_has_its_own_motif_and_colour(tmp_path: pathlib.Path) -> None:
    assert set(MOTIFS) == set(CATEGORIES) and len(set(MOTIFS.values())) == len(CATEGORIES)
    colours, shapes = set(), set()
    for i, cat in enumerate(CATEGORIES):
        path = tmp_path / f"c{i}.png"
        render_product_image(path, category=cat, seed=5, size=200)
        with Image.open(path) as img:
            colours.add(img.convert("RGB").resize((1, 1)).getpixel((0, 0)))
            # the motif's outline, colour aside: a coarse black-and-white thumbnail of the middle
            edges = img.convert("L").crop((40, 30, 160, 170)).filter(ImageFilter.FIND_EDGES).resize((12, 14))
            shapes.add(bytes(255 if v > 24 else 0 for v in edges.tobytes()))
    assert len(colours) == len(CATEGORIES)
    assert len(shapes) == len(CATEGORIES)


def test_a_gallery_differs_picture_to_picture_and_a_category_stays_itself(tmp_path: pathlib.Path) -> None:
    gallery = []
    for v in range(3):
        path = tmp_path / f"v{v}.png"
        render_product_image(path, category="生鲜水果", seed=5, size=200, variant=v)
        gallery.append(path.read_bytes())
    assert len(set(gallery)) == 3
    # an unknown category still draws (a motif and hue from its name), the same way every time
    a, b = tmp_path / "x1.png", tmp_path / "x2.png"
    render_product_image(a, category="宠物用品", seed=1, size=120)
    render_product_image(b, category="宠物用品", seed=1, size=120)
    assert a.read_bytes() == b.read_bytes()
