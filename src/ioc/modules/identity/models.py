"""Tables of the identity module: users, web sessions, API keys and the per-address login throttle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, JsonType, UTCDateTime
from ioc.core.time import utc_now

# Secret material is never copied into the audit log.
SECRET = {"audit": False}


class User(Base):
    """A person (or an integration's owner) who can log in; the role grants the default scopes."""

    __tablename__ = "identity_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    role: Mapped[str] = mapped_column(String(32), index=True)
    # An org_unit agency id; a plain integer because modules do not share foreign keys.
    agency_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    unit_codes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    password_hash: Mapped[str] = mapped_column(String(255), info=SECRET)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    extra_scopes: Mapped[list[str]] = mapped_column(JsonType, default=list)


class WebSession(Base):
    """A browser session; the id is the SHA-256 of the cookie value, so a database leak logs nobody in."""

    __tablename__ = "identity_session"
    # Touched on every request: auditing it would bury the real changes.
    __audited__ = False

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64), info=SECRET)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)


class ApiKey(Base):
    """A bearer key acting as its user, optionally narrowed to some scopes; only its hash is stored."""

    __tablename__ = "identity_api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(24), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True, info=SECRET)
    user_id: Mapped[int] = mapped_column(ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    # None: every scope of the user; a list: only these (and only while the user still holds them).
    scopes: Mapped[list[str] | None] = mapped_column(JsonType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoginThrottle(Base):
    """Failed logins from one network address in the current window."""

    __tablename__ = "identity_login_throttle"
    __audited__ = False

    ip: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_identity_login_throttle_window", "window_started_at"),)
