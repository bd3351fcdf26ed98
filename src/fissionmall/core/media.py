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
