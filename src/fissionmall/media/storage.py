"""Where media files live: the local media directory or an S3-compatible bucket, behind one small interface.

Keys are relative paths such as `lib/ab/<sha>.jpg`; the stored URL of a key is always `/media/<key>`, whatever
the backend (with S3 the app answers it with a redirect to the bucket's public URL, see core/media.py). The
calls block (disk or network): the service runs them in a worker thread.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Protocol

from fissionmall.core.media import IMMUTABLE, MEDIA_PREFIX
from fissionmall.settings import Settings


class Storage(Protocol):
    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store `data` under `key` (overwriting the same content is harmless: keys are content-addressed)."""

    def exists(self, key: str) -> bool:
        """Whether a file is stored under `key`."""

    def get(self, key: str) -> bytes:
        """The stored bytes (tests and tools; the shop loads files by URL)."""


def url_of(key: str) -> str:
    """The URL products store for `key`."""
    return MEDIA_PREFIX + key


class LocalStorage:
    """Files under `settings.media_dir`, served by the app at /media."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"media key outside the media directory: {key!r}")
        return path

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # a reader never sees half a file

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()


class S3Storage:
    """An S3-compatible bucket (AWS, MinIO, OSS/COS in S3 mode) through boto3 (the optional `s3` extra)."""

    def __init__(self, settings: Settings) -> None:
        try:
            import boto3
        except ImportError as exc:  # pragma: no cover - the extra is part of the dev install
            raise RuntimeError("FISSIONMALL_MEDIA_STORAGE=s3 needs boto3: pip install 'fissionmall[s3]'") from exc
        kwargs: dict[str, Any] = {}
        if settings.media_s3_endpoint_url:
            kwargs["endpoint_url"] = settings.media_s3_endpoint_url
        if settings.media_s3_region:
            kwargs["region_name"] = settings.media_s3_region
        if settings.media_s3_access_key:
            kwargs["aws_access_key_id"] = settings.media_s3_access_key
            kwargs["aws_secret_access_key"] = settings.media_s3_secret_key
        self.bucket = settings.media_s3_bucket
        self.extra = {"ACL": settings.media_s3_acl} if settings.media_s3_acl else {}
        self.client = boto3.client("s3", **kwargs)

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType=content_type, CacheControl=IMMUTABLE, **self.extra
        )

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return False
        return True

    def get(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body


_cache: dict[tuple[Any, ...], Storage] = {}


def storage_for(settings: Settings) -> Storage:
    """The backend `settings` name (one client per configuration, boto3 clients are thread-safe)."""
    if settings.media_storage == "local":
        return LocalStorage(settings.media_dir)
    key = (
        settings.media_s3_bucket,
        settings.media_s3_endpoint_url,
        settings.media_s3_region,
        settings.media_s3_access_key,
        settings.media_s3_secret_key,
        settings.media_s3_acl,
    )
    if key not in _cache:
        _cache[key] = S3Storage(settings)
    return _cache[key]
