"""Tables of the org_unit module: administrative units (versioned), agencies and their areas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, JsonType, UTCDateTime
from ioc.core.time import utc_now


class OrgUnit(Base):
    """One version of an administrative unit, valid from `valid_from` to `valid_to` (inclusive).

    A code alone is not a key: codes are reused after mergers (the 2025 reform gave old codes to new,
    larger communes), so history stays queryable only when keyed on (code, valid_from).
    """

    __tablename__ = "org_unit_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Lower-case name without diacritics, for accent-insensitive search on both engines.
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    level: Mapped[str] = mapped_column(String(20), index=True)
    unit_type: Mapped[str] = mapped_column(String(40), default="")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_unit_unit.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    # GeoJSON geometry (WGS 84); deferred so that lists never drag boundaries along.
    geometry: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True, deferred=True)
    min_lon: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    min_lat: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    max_lon: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    max_lat: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    geometry_source: Mapped[str | None] = mapped_column(String(40), nullable=True)
    source_epsg: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)

    __table_args__ = (
        UniqueConstraint("code", "valid_from"),
        Index("ix_org_unit_unit_validity", "valid_from", "valid_to"),
    )


class Agency(Base):
    """A public body (department, commune committee, police...) that handles matters in some units."""

    __tablename__ = "org_unit_agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_unit_agency.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # Public office contacts only (the switchboard or office mailbox), never a person's own.
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class AgencyArea(Base):
    """A unit an agency is responsible for, by unit code so that it survives new unit versions."""

    __tablename__ = "org_unit_agency_area"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("org_unit_agency.id", ondelete="CASCADE"), index=True)
    unit_code: Mapped[str] = mapped_column(String(20), index=True)

    __table_args__ = (UniqueConstraint("agency_id", "unit_code"),)
