"""Tables of the `dashboard` module: the saved video-wall layouts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ioc.core.db import Base, JsonType, UTCDateTime
from ioc.core.time import utc_now


class DashboardWallLayout(Base):
    """The screens one wall shows to one role ('' = every role); the JSON is a validated `WallLayout`."""

    __tablename__ = "dashboard_wall_layout"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    wall: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(30), default="")
    layout: Mapped[dict[str, Any]] = mapped_column(JsonType)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, onupdate=utc_now)
    updated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)

    __table_args__ = (UniqueConstraint("wall", "role"),)


class DashboardKpiSnapshot(Base):
    """A KPI tile's value at one moment, taken every hour, so that the charts can show a figure's history."""

    __tablename__ = "dashboard_kpi_snapshot"
    __audited__ = False  # written by the system's hourly job, not by a person

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tile_key: Mapped[str] = mapped_column(String(120))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_dashboard_kpi_snapshot_tile_time", "tile_key", "taken_at"),)
