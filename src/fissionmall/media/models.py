"""The media library's table: one row per distinct uploaded image."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId


class MediaAsset(Base):
    """An uploaded image (素材). Its files are content-addressed and never deleted: hiding an asset takes it
    out of the library only, so a product that shows it keeps working."""

    __tablename__ = "media_assets"
    __table_args__ = (Index("ix_media_assets_library", "hidden", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Of the uploaded bytes: the same file uploaded twice is one asset (and one set of files).
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    mime: Mapped[str] = mapped_column(String(32))  # of the web copy
    width: Mapped[int]  # of the web copy
    height: Mapped[int]
    bytes: Mapped[int]  # of the web copy
    url: Mapped[str] = mapped_column(String(500))  # the web copy, /media/lib/ab/<sha>.<ext>
    thumb_url: Mapped[str] = mapped_column(String(500))
    original_name: Mapped[str] = mapped_column(String(120), default="")  # sanitised, display only
    created_by: Mapped[int | None] = mapped_column(ForeignKey("admin_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    hidden: Mapped[bool] = mapped_column(default=False)
