"""What the environment module offers the operations picture: KPI tiles and the stations map layer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select

from ioc.core.module import KpiValue, PictureContext

from . import stations
from .constants import AqiStandard, StationKind
from .evaluation import hour_of
from .models import Exceedance, IndexHour, Station

DAY = timedelta(days=1)


def aqi_status(value: int | None) -> str:
    """Colour a tile by the VN_AQI band: good up to 50, normal to 100, warning to 150, critical above."""
    if value is None:
        return "normal"
    if value <= 50:
        return "good"
    if value <= 100:
        return "normal"
    return "warning" if value <= 150 else "critical"


async def worst_aqi(ctx: PictureContext) -> KpiValue:
    """The highest current VN_AQI among the air stations (of the unit), and the highest a day earlier."""
    rows = await stations.list_stations(ctx.session, StationKind.AIR, ctx.unit_code)
    values = [s.index_value for s in rows if s.index_value is not None and s.index_standard == AqiStandard.VN_AQI]
    current = max(values) if values else None
    previous = None
    if rows:
        previous = await ctx.session.scalar(
            select(func.max(IndexHour.value)).where(
                IndexHour.station_id.in_([s.id for s in rows]),
                IndexHour.standard == AqiStandard.VN_AQI.value,
                IndexHour.hour == hour_of(ctx.now) - DAY,
            )
        )
    return KpiValue(
        value=current,
        previous=None if previous is None else float(previous),
        status=aqi_status(current),
        higher_is_better=False,
    )


async def _stations_exceeding(ctx: PictureContext, at: Any) -> int:
    query = select(func.count(func.distinct(Exceedance.station_id))).join(Station, Station.id == Exceedance.station_id)
    query = query.where(Exceedance.started_at <= at, or_(Exceedance.ended_at.is_(None), Exceedance.ended_at > at))
    units = await stations.unit_scope(ctx.session, ctx.unit_code)
    if units is not None:
        query = query.where(Station.unit_code.in_(units))
    return int(await ctx.session.scalar(query) or 0)


async def stations_in_exceedance(ctx: PictureContext) -> KpiValue:
    """How many stations have an open QCVN exceedance now, and a day earlier."""
    now = await _stations_exceeding(ctx, ctx.now)
    before = await _stations_exceeding(ctx, ctx.now - DAY)
    return KpiValue(value=now, previous=before, status="warning" if now else "good", higher_is_better=False)


async def stations_layer(ctx: PictureContext) -> dict[str, Any]:
    """Every station as a point coloured by its current index (public: codes, names and index only)."""
    rows = await stations.list_stations(ctx.session, unit_code=ctx.unit_code)
    # Anonymous viewers (the public wall) get no links to the staff station pages.
    return stations.feature_collection(rows, ctx.lang, links=ctx.principal is not None)
