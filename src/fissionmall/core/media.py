"""The project's own media files (`settings.media_dir`, served at /media/): which URLs name one, and where it is.

Every reader of a media file goes through `media_file`, so a stored URL can never reach a file outside the
media directory: an absolute part (`/media//etc/x.png`, where pathlib drops the base), `..`, or a symlink
placed inside the directory that points out of it all resolve outside and are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from pydantic import StringConstraints
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

MEDIA_PREFIX = "/media/"
# Path segments of safe characters that never start with a dot (no `.`, `..` or hidden files), one `/` apart.
_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}"
_MEDIA_URL = re.compile(rf"/media/(?:{_SEGMENT}/){{0,8}}{_SEGMENT}")


def is_media_url(url: str) -> bool:
    """Whether `url` names a file of this project's media directory: `/media/<relative path>`."""
    return len(url) <= 500 and _MEDIA_URL.fullmatch(url) is not None


# A product image as the API takes it: only the shop's own media, never a third-party URL (a tracking pixel
# or hot-linked picture in every shopper's page) and never a path that escapes the media directory. A
# pattern (not a validator function) so the OpenAPI document tells clients.
MediaUrl = Annotated[str, StringConstraints(max_length=500, pattern=f"^{_MEDIA_URL.pattern}$")]


def media_file(media_dir: Path, url: str) -> Path | None:
    """The real path of the media file `url` names, or None when it is no media URL, does not exist, or
    resolves (through symlinks or otherwise) outside `media_dir`."""
    if not is_media_url(url):
        return None
    root = media_dir.resolve()
    try:
        path = (root / url.removeprefix(MEDIA_PREFIX)).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def first_media_file(media_dir: Path, urls: Iterable[object]) -> Path | None:
    """The first of `urls` that is a readable media file (rows written before the check may hold others)."""
    for url in urls:
        if isinstance(url, str):
            path = media_file(media_dir, url)
            if path is not None:
                return path
    return None


# ---- serving ---------------------------------------------------------------------------------------------

IMMUTABLE = "public, max-age=31536000, immutable"  # the media library's files are named by their content
SHORT = "public, max-age=3600"  # anything else under /media (demo pictures, older uploads) may be replaced
_LIBRARY = re.compile(rf"lib/(?:{_SEGMENT}/){{0,4}}{_SEGMENT}")


class MediaFiles(StaticFiles):
    """/media: the local media directory with cache headers. With S3 storage (`redirect_base` set) a library
    file that is not on local disk is answered with a permanent redirect to the bucket's public URL, so the
    stored `/media/lib/...` URLs keep working whatever the storage."""

    def __init__(self, *, directory: Path, redirect_base: str = "") -> None:
        super().__init__(directory=directory)
        self.redirect_base = redirect_base.rstrip("/")

    async def get_response(self, path: str, scope: Scope) -> Response:
        library = _LIBRARY.fullmatch(path) is not None
        try:
            response = await super().get_response(path, scope)
        except StarletteHTTPException as exc:
            if exc.status_code == 404 and library and self.redirect_base:
                return RedirectResponse(
                    f"{self.redirect_base}/{path}", status_code=301, headers={"Cache-Control": IMMUTABLE}
                )
            raise
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE if library else SHORT
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
