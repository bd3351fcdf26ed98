"""The S3-compatible backend against a local moto server: uploads land in the bucket, /media redirects there."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from fissionmall.media import storage
from fissionmall.settings import Settings
from tests.conftest import running_app
from tests.helpers import admin
from tests.media.helpers import image_bytes

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

BUCKET = "fm-media"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    client.create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
async def s3_app(settings: Settings, s3_endpoint: str) -> AsyncIterator[Any]:
    s3 = settings.model_copy(
        update={
            "media_storage": "s3",
            "media_s3_bucket": BUCKET,
            "media_s3_endpoint_url": s3_endpoint,
            "media_s3_region": "us-east-1",
            "media_s3_access_key": "k",
            "media_s3_secret_key": "s",
            "media_s3_public_url": f"{s3_endpoint}/{BUCKET}/",
            "media_s3_acl": "public-read",
        }
    )
    async with running_app(s3) as application:
        yield application, s3


async def test_an_upload_round_trips_through_the_bucket(s3_app) -> None:
    from fissionmall.core.db import get_db

    application, s3 = s3_app
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        boss = await admin(client, get_db())
        r = await client.post(
            "/api/admin/v1/media",
            files={"file": ("a.png", image_bytes("PNG", (1500, 300)), "image/png")},
            headers=boss,
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["url"].startswith("/media/lib/")  # products store the same URLs whatever the storage
        key = body["url"].removeprefix("/media/")
        bucket = storage.storage_for(s3)
        assert bucket.exists(key) and bucket.exists(body["thumb_url"].removeprefix("/media/"))
        assert not (s3.media_dir / key).exists()  # nothing on local disk
        head = boto3.client(
            "s3",
            endpoint_url=s3.media_s3_endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="k",
            aws_secret_access_key="s",
        ).head_object(Bucket=BUCKET, Key=key)
        assert head["ContentType"] == "image/jpeg" and head["CacheControl"].endswith("immutable")

        # The shop loads /media/lib/... and is sent, for good, to the bucket's public URL.
        served = await client.get(body["url"])
        assert served.status_code == 301
        assert served.headers["location"] == f"{s3.media_s3_public_url}{key}"
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        # The pages allow images from the bucket's origin.
        page = await client.get("/admin/login")
        assert f"img-src 'self' {s3.media_s3_endpoint_url} " in page.headers["content-security-policy"]

    async with httpx.AsyncClient() as outside:  # the shopper's browser, following the redirect
        got = await outside.get(served.headers["location"])
    assert got.status_code == 200 and got.content == bucket.get(key)
    assert got.content[:3] == b"\xff\xd8\xff"  # the web copy of an opaque PNG is a JPEG


def test_s3_storage_needs_a_bucket_and_a_public_url() -> None:
    with pytest.raises(ValueError, match="MEDIA_S3_BUCKET"):
        Settings(media_storage="s3", media_s3_bucket="b")
