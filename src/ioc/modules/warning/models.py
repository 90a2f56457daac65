"""Tables of the warning module: warnings (with their target areas) and citizens' subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, JsonType, UTCDateTime
from ioc.core.time import utc_now

from .constants import CapStatus, MsgType, WarningState

# Subscribers' addresses are personal data: kept out of the audit log and every public answer.
PRIVATE = {"audit": False}


class PublicWarning(Base):
    """One public warning message (CAP alert) from its draft to its publication and replacement."""

    __tablename__ = "warning_warning"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    state: Mapped[str] = mapped_column(String(20), default=WarningState.DRAFT, index=True)
    # Set at publication: the CAP identifier and send time never change afterwards.
    identifier: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default=CapStatus.ACTUAL)
    msg_type: Mapped[str] = mapped_column(String(12), default=MsgType.ALERT)
    references_id: Mapped[int | None] = mapped_column(ForeignKey("warning_warning.id"), nullable=True)
    category: Mapped[str] = mapped_column(String(12))
    response_type: Mapped[str | None] = mapped_column(String(12), nullable=True)
    urgency: Mapped[str] = mapped_column(String(12))
    severity: Mapped[str] = mapped_column(String(12))
    certainty: Mapped[str] = mapped_column(String(12))
    event_vi: Mapped[str] = mapped_column(String(200))
    event_en: Mapped[str] = mapped_column(String(200))
    headline_vi: Mapped[str] = mapped_column(String(200))
    headline_en: Mapped[str] = mapped_column(String(200))
    description_vi: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    instruction_vi: Mapped[str] = mapped_column(Text, default="")
    instruction_en: Mapped[str] = mapped_column(Text, default="")
    effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # None: on approval
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # [{"kind": "unit"|"polygon", "code", "name", "name_en", "rings": [[[lon, lat], ...], ...]}]; unit rings are
    # copied from the boundary at publication, so a published message never changes with later boundary edits.
    areas: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    unit_codes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    min_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    min_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    alarm_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author: Mapped[str] = mapped_column(String(120))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    approver: Mapped[str | None] = mapped_column(String(120), nullable=True)
    review_note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    __table_args__ = (Index("ix_warning_warning_state_expires", "state", "expires_at"),)


class Subscriber(Base):
    """A citizen's request to be warned about some units through one channel."""

    __tablename__ = "warning_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(12))
    address: Mapped[str] = mapped_column(String(500), info=PRIVATE)
    unit_codes: Mapped[list[str]] = mapped_column(JsonType, default=list)
    lang: Mapped[str] = mapped_column(String(2), default="vi")
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Secrets in links: to confirm (e-mail double opt-in) and to unsubscribe.
    confirm_token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True, info=PRIVATE)
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True, info=PRIVATE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
