"""The media library: upload (check, process, store, one asset per content), list, hide, resolve references.

`resolve_refs` is what the catalogue calls for a product's `images[]`: media ids become their web URLs,
media URLs pass through, anything else is refused.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from typing import Protocol

import anyio
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fissionmall.core import clock
from fissionmall.core.db import Database, keyset_page
from fissionmall.core.errors import AppError
from fissionmall.core.media import is_media_url
from fissionmall.media.errors import MediaError
from fissionmall.media.images import Processed, process
from fissionmall.media.models import MediaAsset
from fissionmall.media.schemas import MediaAdmin
from fissionmall.media.storage import storage_for, url_of
from fissionmall.settings import Settings

CHUNK = 64 * 1024
_THUMBABLE = re.compile(r"^(/media/lib/[0-9a-f]{2}/[0-9a-f]{64})\.(jpg|png|webp)$")
_UNSAFE_NAME = re.compile(r"[^\w.\- ()\[\]（）]+")


class Readable(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


async def read_upload(upload: Readable, *, max_bytes: int) -> bytes:
    """The uploaded bytes, read in chunks and refused (MEDIA_TOO_LARGE) as soon as they pass `max_bytes`."""
    parts: list[bytes] = []
    seen = 0
    while chunk := await upload.read(CHUNK):
        seen += len(chunk)
        if seen > max_bytes:
            raise AppError(MediaError.MEDIA_TOO_LARGE, f"图片文件太大（上限 {max_bytes // (1024 * 1024)} MB）")
        parts.append(chunk)
    if not seen:
        raise AppError(MediaError.MEDIA_EMPTY)
    return b"".join(parts)


def clean_name(name: str | None) -> str:
    """A client's file name fit to show: no directories, control characters or markup, at most 120 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    return _UNSAFE_NAME.sub("_", base).strip(" .")[:120]


def keys_of(p: Processed) -> tuple[str, str]:
    """The storage keys of an upload's web copy and thumbnail (content-addressed)."""
    stem = f"lib/{p.sha256[:2]}/{p.sha256}"
    return f"{stem}.{p.ext}", f"{stem}_t.{p.ext}"


def thumb_for(url: str) -> str | None:
    """The thumbnail URL of a library web-copy URL, or None for any other URL (e.g. an older /media file)."""
    m = _THUMBABLE.fullmatch(url)
    return f"{m.group(1)}_t.{m.group(2)}" if m else None


def to_admin(a: MediaAsset) -> MediaAdmin:
    """The admin API's view of an asset."""
    return MediaAdmin.model_validate(a)


def _store(settings: Settings, p: Processed) -> None:
    storage = storage_for(settings)
    web_key, thumb_key = keys_of(p)
    storage.put(web_key, p.web.data, content_type=p.mime)
    storage.put(thumb_key, p.thumb.data, content_type=p.mime)


async def _by_sha(db: Database, sha: str) -> MediaAsset | None:
    async with db.read() as s:
        return await s.scalar(select(MediaAsset).where(MediaAsset.sha256 == sha))


async def upload(
    db: Database, *, data: bytes, filename: str | None, admin_id: int | None, settings: Settings
) -> MediaAsset:
    """Check `data` by content, store its web copy and thumbnail, and return its asset (the existing one when
    the same bytes were uploaded before; a hidden one comes back into the library)."""
    if len(data) > settings.media_max_bytes:
        raise AppError(MediaError.MEDIA_TOO_LARGE)
    sha = hashlib.sha256(data).hexdigest()
    existing = await _by_sha(db, sha)
    if existing is None:
        # Decoding and resizing are CPU work, storing is disk or network: neither on the event loop.
        p = await anyio.to_thread.run_sync(lambda: process(data, max_pixels=settings.media_max_pixels))
        await anyio.to_thread.run_sync(lambda: _store(settings, p))
        web_key, thumb_key = keys_of(p)
        asset = MediaAsset(
            sha256=sha,
            mime=p.mime,
            width=p.web.width,
            height=p.web.height,
            bytes=len(p.web.data),
            url=url_of(web_key),
            thumb_url=url_of(thumb_key),
            original_name=clean_name(filename),
            created_by=admin_id,
            created_at=clock.now(),
        )
        try:
            async with db.tx() as s:
                s.add(asset)
            return asset
        except IntegrityError:
            pass  # the same bytes were stored by a concurrent upload: theirs is the asset (the files are equal)
        existing = await _by_sha(db, sha)
        if existing is None:  # pragma: no cover - the unique index fired, so the row exists
            raise
    if existing.hidden:
        async with db.tx() as s:
            await s.execute(update(MediaAsset).where(MediaAsset.id == existing.id).values(hidden=False))
        existing.hidden = False
    return existing


PHOTO_MAX_BYTES = 5 * 1024 * 1024


async def store_photo(*, settings: Settings, customer_id: int, data: bytes) -> str:
    """A shopper's photo (after-sales evidence): checked and stripped as library uploads are, stored as its
    web copy under aftersales/<customer>/ by a random name, never listed in the merchant's library."""
    if len(data) > PHOTO_MAX_BYTES:
        raise AppError(MediaError.MEDIA_TOO_LARGE, "图片不能超过 5 MB")
    p = await anyio.to_thread.run_sync(lambda: process(data, max_pixels=settings.media_max_pixels))
    key = f"aftersales/{customer_id}/{secrets.token_hex(12)}.{p.ext}"
    await anyio.to_thread.run_sync(lambda: storage_for(settings).put(key, p.web.data, content_type=p.mime))
    return url_of(key)


async def library(s: AsyncSession, *, before_id: int | None, limit: int) -> tuple[list[MediaAsset], str | None]:
    """One page of the library (assets not hidden), newest first."""
    stmt = select(MediaAsset).where(MediaAsset.hidden.is_(False)).order_by(MediaAsset.id.desc())
    if before_id is not None:
        stmt = stmt.where(MediaAsset.id < before_id)
    return await keyset_page(s, stmt, limit=limit)


async def hide(s: AsyncSession, *, asset_id: int) -> None:
    """Take an asset out of the library (its files stay: products showing it keep working)."""
    found = await s.scalar(select(MediaAsset.id).where(MediaAsset.id == asset_id))
    if found is None:
        raise AppError(MediaError.MEDIA_NOT_FOUND)
    await s.execute(update(MediaAsset).where(MediaAsset.id == asset_id).values(hidden=True))


def _as_id(ref: int | str) -> int | None:
    if isinstance(ref, bool):
        return None
    if isinstance(ref, int):
        return ref if 0 < ref <= 2**62 else -1  # -1: no such asset, without a number the database refuses
    if ref.isascii() and ref.isdigit() and len(ref) <= 18:
        return int(ref) or -1
    return None


async def resolve_refs(s: AsyncSession, *, refs: list[int | str]) -> list[str]:
    """A product's `images[]` as URLs, in order: a media id (int or digit string) becomes its asset's web URL
    (hidden assets too), a /media/ URL passes through; an unknown id is MEDIA_NOT_FOUND (404), anything else
    MEDIA_REF_INVALID (422)."""
    ids = {i for r in refs if (i := _as_id(r)) is not None}
    urls: dict[int, str] = {}
    if ids:
        rows = await s.execute(select(MediaAsset.id, MediaAsset.url).where(MediaAsset.id.in_(ids)))
        urls = {row.id: row.url for row in rows}
    out = []
    for ref in refs:
        asset_id = _as_id(ref)
        if asset_id is not None:
            if asset_id not in urls:
                raise AppError(MediaError.MEDIA_NOT_FOUND, ref=str(ref))
            out.append(urls[asset_id])
        elif isinstance(ref, str) and is_media_url(ref):
            out.append(ref)
        else:
            raise AppError(MediaError.MEDIA_REF_INVALID, ref=str(ref)[:100])
    return out
