from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fissionmall.core.db import Base, BigId


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    nickname: Mapped[str] = mapped_column(String(64))
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    level: Mapped[int] = mapped_column(default=0)
    # The distributor share code the shopper first arrived with; distribution binds on it.
    first_ref: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime]
    last_ip: Mapped[str | None] = mapped_column(String(45))
    last_device_id: Mapped[str | None] = mapped_column(String(128))
    is_blocked: Mapped[bool] = mapped_column(default=False)
    # WeChat identity (wechat/vault.py): the unionid recognises the same person across the merchant's
    # official account and apps; session_key and phone are sealed with a key derived from SECRET_KEY,
    # phone_hash is the keyed hash lookups use.
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    session_key_enc: Mapped[str | None] = mapped_column(String(255))
    phone_enc: Mapped[str | None] = mapped_column(String(255))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)


class AdminUser(Base):
    __tablename__ = "admin_users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # Login lockout (accounts.service.login_admin): failures in the current window, when it began, until
    # when logins are refused, and how many lockouts in a row (each one longer; a successful login resets).
    login_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    login_window_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    lockouts: Mapped[int] = mapped_column(default=0, server_default="0")


class AdminSession(Base):
    """One console or admin-API login. The admin token names its row (`sid`), and every admin request
    checks it, so logout or a password change ends the token at once, in every process."""

    __tablename__ = "admin_sessions"
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    admin_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))
