"""What the environment module charts for the operations picture: the VN_AQI history of the air stations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from ioc.core.module import ChartLine, ChartPlot, ChartWindow, PictureContext
from ioc.core.time import to_local

from . import stations
from .constants import AqiStandard, StationKind
from .models import IndexDay, IndexHour, Station

HOURLY = timedelta(hours=1)


def _air_stations(units: list[str] | None) -> list[Any]:
    """Return the filters that keep the active air stations (of a drill-down's units)."""
    where: list[Any] = [Station.kind == StationKind.AIR.value, Station.is_active.is_(True)]
    if units is not None:
        where.append(Station.unit_code.in_(units))
    return where


async def aqi_history(ctx: PictureContext, window: ChartWindow) -> ChartPlot:
    """The mean and the highest VN_AQI of the air stations per hour (24 h) or per day, from the stored indices.

    Hours read the hourly VN_AQI (NowCast, Decision 1459/QĐ-TCMT §2.2); days read the daily VN_AQI of each
    station (§2.3), so that a day's figure is the one the stations' reports publish, not a mean of hours.
    """
    units = await stations.unit_scope(ctx.session, ctx.unit_code)
    where = _air_stations(units)
    mean: list[float | None] = [None] * len(window.starts)
    highest: list[float | None] = [None] * len(window.starts)
    if window.bucket <= HOURLY:
        hourly = (
            select(IndexHour.hour, func.avg(IndexHour.value), func.max(IndexHour.value))
            .join(Station, Station.id == IndexHour.station_id)
            .where(
                *where,
                IndexHour.standard == AqiStandard.VN_AQI.value,
                IndexHour.hour >= window.since,
                IndexHour.hour <= window.until,
            )
            .group_by(IndexHour.hour)
        )
        rows = [(window.slot(hour), avg, top) for hour, avg, top in (await ctx.session.execute(hourly)).all()]
    else:
        daily = (
            select(IndexDay.day, func.avg(IndexDay.value), func.max(IndexDay.value))
            .join(Station, Station.id == IndexDay.station_id)
            .where(
                *where,
                IndexDay.standard == AqiStandard.VN_AQI.value,
                IndexDay.day >= to_local(window.since).date(),
                IndexDay.day <= to_local(window.until).date(),
            )
            .group_by(IndexDay.day)
        )
        rows = [(window.day_slot(day), avg, top) for day, avg, top in (await ctx.session.execute(daily)).all()]
    for slot, avg, top in rows:
        if slot is not None and avg is not None:
            mean[slot] = round(float(avg), 1)
            highest[slot] = float(top)
    english = ctx.lang == "en"
    return ChartPlot(
        lines=[
            ChartLine("Stations' mean" if english else "Trung bình các trạm", mean),
            ChartLine("Highest station" if english else "Trạm cao nhất", highest),
        ]
    )
