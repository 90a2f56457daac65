"""Tables of the environment module: stations linked to telemetry datastreams, their index values and exceedances."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, UTCDateTime
from ioc.core.time import utc_now


class Station(Base):
    """A monitoring station (air, surface water, wastewater discharge) and its current index."""

    __tablename__ = "environment_station"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # English name for the English screens and exports (None: the Vietnamese name is shown).
    name_en: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit_code: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    # The telemetry device whose datastreams feed the station (a code, not a foreign key: another module's table).
    device_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The QCVN 08:2023 Bảng 2 level the water body must meet (A, B, C); None for air and wastewater.
    water_class: Mapped[str | None] = mapped_column(String(1), nullable=True)
    # QCVN 40:2011/BTNMT Bảng 1 column a wastewater discharge must meet (A, B) and its coefficients Kq (receiving
    # water) and Kf (discharge flow), mục 2.1.2; None for air and surface water.
    discharge_column: Mapped[str | None] = mapped_column(String(1), nullable=True)
    kq: Mapped[float | None] = mapped_column(Float, nullable=True)
    kf: Mapped[float | None] = mapped_column(Float, nullable=True)
    # Air stations: also compute and show the US EPA AQI next to VN_AQI.
    us_aqi: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Maintained by the evaluation job (not by people): the latest hourly index.
    index_standard: Mapped[str | None] = mapped_column(String(10), nullable=True)
    index_value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    index_category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    index_colour: Mapped[str | None] = mapped_column(String(7), nullable=True)
    index_dominant: Mapped[str | None] = mapped_column(String(20), nullable=True)
    index_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The latest hourly US AQI (stations with us_aqi) and the latest daily VN_AQI (air), kept by the job as well.
    us_index_value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    us_index_category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    day_index_value: Mapped[int | None] = mapped_column(Integer, nullable=True)
    day_index_category: Mapped[str | None] = mapped_column(String(40), nullable=True)
    day_index_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The last hour whose exceedances were evaluated; older hours only refresh their index.
    evaluated_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The earliest hour that received readings since the last evaluation (None: nothing waiting).
    dirty_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class StationStream(Base):
    """Which telemetry datastream carries which parameter of a station."""

    __tablename__ = "environment_station_stream"

    station_id: Mapped[int] = mapped_column(ForeignKey("environment_station.id", ondelete="CASCADE"), primary_key=True)
    parameter: Mapped[str] = mapped_column(String(40), primary_key=True)
    datastream_id: Mapped[int] = mapped_column(Integer, index=True)
    unit_symbol: Mapped[str] = mapped_column(String(30), default="")


class IndexHour(Base):
    """A station's index for one hour (UTC hour start), as the evaluation job computed it."""

    __tablename__ = "environment_index_hour"
    __audited__ = False

    station_id: Mapped[int] = mapped_column(ForeignKey("environment_station.id", ondelete="CASCADE"), primary_key=True)
    standard: Mapped[str] = mapped_column(String(10), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    dominant: Mapped[str | None] = mapped_column(String(20), nullable=True)


class IndexDay(Base):
    """A station's daily index for one local day (Asia/Ho_Chi_Minh), Decision 1459/QĐ-TCMT mục 2.2.2."""

    __tablename__ = "environment_index_day"
    __audited__ = False

    station_id: Mapped[int] = mapped_column(ForeignKey("environment_station.id", ondelete="CASCADE"), primary_key=True)
    standard: Mapped[str] = mapped_column(String(10), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(40))
    dominant: Mapped[str | None] = mapped_column(String(20), nullable=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)


class Exceedance(Base):
    """A period during which a parameter's average broke its QCVN limit; `open_key` is set while it lasts."""

    __tablename__ = "environment_exceedance"
    __audited__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("environment_station.id", ondelete="CASCADE"))
    parameter: Mapped[str] = mapped_column(String(40))
    regulation: Mapped[str] = mapped_column(String(20))
    period: Mapped[str] = mapped_column(String(8))
    limit_value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_value: Mapped[float] = mapped_column(Float)
    peak_value: Mapped[float] = mapped_column(Float)
    # "station:parameter:period" while open, NULL once cleared: the unique index allows one open row per key.
    open_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)

    __table_args__ = (Index("ix_environment_exceedance_station_started", "station_id", "started_at"),)
