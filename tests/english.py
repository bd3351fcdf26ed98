"""The ASCII-sentence detector the no-English crawls share: what a shopper or a merchant reads must be Chinese.

A run of three or more English words on one line (`Add to cart`, `No items found`) is a sentence someone
forgot to translate. Two words are let through (a brand and a product line, `WeChat Pay` aside below), and a
run made only of the allowed words below is not a sentence either.
"""

from __future__ import annotations

import re

# Words a Chinese shop writes in Latin letters on purpose; each earns its place:
ALLOWED = frozenset(
    w.lower()
    for w in (
        # brands and platforms the merchant deals with by these names
        "WeChat",
        "Excel",
        # identifiers a Chinese merchant reads as such (规格 SKU, 订单 ID, 商品 URL, 二维码 QR)
        "SKU",
        "SPU",
        "ID",
        "URL",
        "QR",
        "API",
        "H5",
        "AppID",
        "OpenID",
        # file formats offered for export and import
        "CSV",
        "XLSX",
        "PNG",
        "JPG",
        # units and retail figures written in letters
        "kg",
        "g",
        "ml",
        "cm",
        "mm",
        "GMV",
        "PV",
        "UV",
    )
)

# Addresses, file paths, e-mail and code-like tokens are not prose: a URL reads `https://a.b/c d`.
_NOT_PROSE = re.compile(r"\S*(?:://|[/@\\])\S*")
_WORD = r"[A-Za-z]+(?:['’-][A-Za-z]+)*"  # don't, e-mail
_RUN = re.compile(rf"(?<![A-Za-z0-9_.'’-]){_WORD}(?:[ \t\u00a0]+{_WORD}){{2,}}(?![A-Za-z0-9_'’-])")


def english_sentences(text: str) -> list[str]:
    """Every run of 3+ English words on one line of `text` that is not made of allowed words only."""
    hits = []
    for line in _NOT_PROSE.sub(" ", text).splitlines():
        for m in _RUN.finditer(line):
            words = m.group(0).split()
            if any(w.lower() not in ALLOWED for w in words):
                hits.append(m.group(0))
    return hits
