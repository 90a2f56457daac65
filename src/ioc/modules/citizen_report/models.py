"""Tables of the citizen_report module: categories, reports, their timeline, photos, followers and links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, JsonType, UTCDateTime
from ioc.core.models import BigIntId
from ioc.core.time import utc_now

# Personal data of reporters: kept out of the audit log, the public API and every event.
PRIVATE = {"audit": False}
ReportIdRef = BigInteger().with_variant(Integer(), "sqlite")


class Category(Base):
    """A kind of problem citizens report, with its routing rule, deadlines and Open311 attributes."""

    __tablename__ = "citizen_report_category"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    group_name: Mapped[str] = mapped_column(String(100), default="")
    keywords: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # None: the People's Committee of the commune holding the point; else a fixed agency code.
    default_agency_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # {unit_code: agency_code}: exceptions to the default, e.g. a road owned by another body.
    agency_overrides: Mapped[dict[str, str]] = mapped_column(JsonType, default=dict)
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    accept_hours: Mapped[float] = mapped_column(Float)
    resolve_days: Mapped[int] = mapped_column(Integer)
    reopen_window_days: Mapped[int] = mapped_column(Integer)
    photo_required: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Report(Base):
    """One citizen report (phản ánh) from submission to closure."""

    __tablename__ = "citizen_report_report"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    tracking_code: Mapped[str] = mapped_column(String(24), unique=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("citizen_report_category.id"))
    category_code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    unit_code: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(2), default="vi")
    status: Mapped[str] = mapped_column(String(16))
    suggested_agency_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    agency_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    agency_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    # The running deadline: phase, when it started, when it falls due, and the flags set by the timers.
    phase: Mapped[str | None] = mapped_column(String(16), nullable=True)
    phase_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolve_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approaching: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)

    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # Elapsed hours from submission to the current result: stored so that the median is plain SQL on both engines.
    hours_to_resolve: Mapped[float | None] = mapped_column(Float, nullable=True)
    result_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(String(30), nullable=True)

    extension_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    extension_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    # Kept so that a status change looks followers up only when there are some.
    follower_count: Mapped[int] = mapped_column(Integer, default=0)

    reporter_name: Mapped[str | None] = mapped_column(String(120), nullable=True, info=PRIVATE)
    reporter_phone: Mapped[str | None] = mapped_column(String(30), nullable=True, info=PRIVATE)
    reporter_email: Mapped[str | None] = mapped_column(String(200), nullable=True, info=PRIVATE)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_by_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rating_token_hash: Mapped[str] = mapped_column(String(64), info=PRIVATE)
    rating: Mapped[str | None] = mapped_column(String(16), nullable=True)
    rating_comment: Mapped[str | None] = mapped_column(Text, nullable=True, info=PRIVATE)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    merged_into_id: Mapped[int | None] = mapped_column(
        ReportIdRef, ForeignKey("citizen_report_report.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    __table_args__ = (
        Index("ix_citizen_report_report_status_due", "status", "due_at"),
        Index("ix_citizen_report_report_category_status", "category_id", "status"),
        Index("ix_citizen_report_report_lat_lon", "lat", "lon"),
        Index("ix_citizen_report_report_unit", "unit_code"),
        Index("ix_citizen_report_report_agency", "agency_id", "status"),
        # Open311 lists page by (created_at, id); with a service filter, by category then time.
        Index("ix_citizen_report_report_created_id", "created_at", "id"),
        Index("ix_citizen_report_report_category_created", "category_code", "created_at"),
        Index("ix_citizen_report_report_updated", "updated_at"),
    )


class TimelineEntry(Base):
    """One step in a report's history; `public` entries appear on the tracking page."""

    __tablename__ = "citizen_report_timeline"
    # The timeline is itself a log of who did what; the report's own changes are audited.
    __audited__ = False

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ReportIdRef, ForeignKey("citizen_report_report.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_name: Mapped[str] = mapped_column(String(120))  # staff-only: a person's account name
    agency_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)

    # servicerequestupdates (Open311) reads the timeline by time across reports.
    __table_args__ = (Index("ix_citizen_report_timeline_at", "at"),)


class Photo(Base):
    """A photo of a report, re-encoded as JPEG without metadata, with its thumbnail."""

    __tablename__ = "citizen_report_photo"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ReportIdRef, ForeignKey("citizen_report_report.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    file_name: Mapped[str] = mapped_column(String(80))
    thumb_name: Mapped[str] = mapped_column(String(80))
    original_type: Mapped[str] = mapped_column(String(40))
    content_type: Mapped[str] = mapped_column(String(40), default="image/jpeg")
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    gps_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    gps_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Follower(Base):
    """Someone who gets a report's updates besides its reporter (e.g. the reporter of a merged duplicate)."""

    __tablename__ = "citizen_report_follower"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ReportIdRef, ForeignKey("citizen_report_report.id"), index=True)
    source_report_id: Mapped[int | None] = mapped_column(ReportIdRef, nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True, info=PRIVATE)
    phone: Mapped[str | None] = mapped_column(String(30), nullable=True, info=PRIVATE)
    lang: Mapped[str] = mapped_column(String(2), default="vi")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Link(Base):
    """Two reports about related problems, linked by an operator (stored once per direction)."""

    __tablename__ = "citizen_report_link"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ReportIdRef, ForeignKey("citizen_report_report.id"), index=True)
    linked_report_id: Mapped[int] = mapped_column(ReportIdRef, ForeignKey("citizen_report_report.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)

    __table_args__ = (UniqueConstraint("report_id", "linked_report_id"),)


class TrackingSequence(Base):
    """The last tracking number handed out in a year (PA-<year>-<number>)."""

    __tablename__ = "citizen_report_sequence"
    __audited__ = False

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(Integer)


class RateHit(Base):
    """One submission from a client address (a keyed hash, not the address), for the rate limit."""

    __tablename__ = "citizen_report_rate_hit"
    __audited__ = False

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    client_key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_citizen_report_rate_hit_key_at", "client_key", "at"),)
