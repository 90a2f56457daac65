"""Tables of the notification module: message templates and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, JsonType, UTCDateTime
from ioc.core.models import BigIntId
from ioc.core.time import utc_now

from .constants import DeliveryStatus


class NotificationTemplate(Base):
    """A message template for one key, channel ("any" or a channel kind) and language."""

    __tablename__ = "notification_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    # Many Vietnamese SMS gateways bill Unicode messages at a higher rate, so a template may opt
    # to send its SMS text without diacritics.
    sms_ascii: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    __table_args__ = (UniqueConstraint("key", "channel", "lang"),)


class NotificationDelivery(Base):
    """One message to one recipient: what was sent, how it went, and why it failed."""

    __tablename__ = "notification_delivery"
    # A log, like the kernel's job table: its rows change on every attempt, and auditing them would
    # copy recipients' addresses into the audit trail. Administrator retries are audited explicitly.
    __audited__ = False

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(500))
    template_key: Mapped[str] = mapped_column(String(120))
    lang: Mapped[str] = mapped_column(String(2))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    correlation: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    requested_by: Mapped[str] = mapped_column(String(120), default="system")
    # Kept so that a delivery whose template failed can be rendered again after the template is fixed.
    params: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # The signing secret of the caller's webhook subscription; None signs with the key derived from
    # the installation's secret. Never shown through the API.
    webhook_secret: Mapped[str | None] = mapped_column(String(200), nullable=True, info={"audit": False})

    __table_args__ = (Index("ix_notification_delivery_status_channel", "status", "channel"),)
