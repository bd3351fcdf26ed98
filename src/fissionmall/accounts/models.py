from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
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


class AdminUser(Base):
    __tablename__ = "admin_users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
