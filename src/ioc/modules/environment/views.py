"""What the station pages and their API show: newest readings, chart series, exceedances and quality flags."""

from __future__ import annotations

import statistics
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.time import utc_now
from ioc.modules import telemetry

from .evaluation import category_of, hour_of
from .models import Exceedance, IndexHour
from .quality import Reading, assess
from .schemas import ExceedanceRead, ParameterLatest, PublicStation, StationRead

HOUR = timedelta(hours=1)
QUALITY_WINDOW = timedelta(hours=24)
QUALITY_MAX_FLAGS = 20
# Sensor noise of a few per cent is normal: only a jump of half the series' typical level counts as a spike.
SPIKE_MIN_RELATIVE = 0.5


def category_name(standard: str | None, value: int | None, lang: str) -> str:
    """Return the name of the category an index value falls in, in the page language."""
    if standard is None or value is None:
        return ""
    return category_of(standard, value).name(lang)


def public_station(station: StationRead) -> PublicStation:
    """Return what the public may see of a station."""
    return PublicStation(
        code=station.code,
        name=station.name,
        lat=station.lat,
        lon=station.lon,
        standard=station.index_standard,
        value=station.index_value,
        category=station.index_category,
        colour=station.index_colour,
        dominant=station.index_dominant,
        at=station.index_at,
    )


async def _streams(session: AsyncSession, station: StationRead) -> dict[str, telemetry.DatastreamRead]:
    by_id = {ds: p for p, ds in station.datastreams.items()}
    if station.device_code:
        found = await telemetry.list_datastreams(session, device_code=station.device_code)
    else:
        found = [await telemetry.get_datastream(session, ds) for ds in by_id]
    return {by_id[s.id]: s for s in found if s.id in by_id}


async def latest(session: AsyncSession, station: StationRead) -> list[ParameterLatest]:
    """Return the newest reading of each of a station's parameters."""
    streams = await _streams(session, station)
    return [
        ParameterLatest(
            parameter=parameter,
            datastream_id=stream.id,
            unit=stream.unit_symbol,
            value=stream.last_value,
            time=stream.last_time,
        )
        for parameter, stream in sorted(streams.items())
    ]


async def chart(session: AsyncSession, station: StationRead, hours: int) -> dict[str, Any]:
    """Return the last hours of the index and of every parameter as aligned series (Unix seconds, nulls for gaps)."""
    end = hour_of(utc_now()) + HOUR
    start = end - HOUR * hours
    buckets = [start + HOUR * i for i in range(hours)]
    ids = {ds: p for p, ds in station.datastreams.items()}
    means = await telemetry.hourly_means(session, list(ids), start, end)
    index = {
        row.hour: row.value
        for row in await session.scalars(
            select(IndexHour).where(IndexHour.station_id == station.id, IndexHour.hour >= start, IndexHour.hour < end)
        )
    }
    parameters = sorted(ids.values())
    series = {ids[ds]: values for ds, values in means.items() if ds in ids}
    return {
        "times": [int(b.timestamp()) for b in buckets],
        "bucketSeconds": 3600,
        "index": {"label": station.index_standard or "index", "values": [index.get(b) for b in buckets]},
        "parameters": [
            {
                "label": p,
                "values": [None if b not in series.get(p, {}) else round(series[p][b], 3) for b in buckets],
            }
            for p in parameters
        ],
    }


async def exceedances(session: AsyncSession, station: StationRead, limit: int) -> list[ExceedanceRead]:
    """Return a station's exceedances, open ones first, then newest first."""
    rows = await session.scalars(
        select(Exceedance)
        .where(Exceedance.station_id == station.id)
        .order_by(Exceedance.ended_at.is_(None).desc(), Exceedance.started_at.desc(), Exceedance.id.desc())
        .limit(limit)
    )
    return [ExceedanceRead.model_validate(row) for row in rows]


async def quality_flags(session: AsyncSession, station: StationRead, lang: str) -> list[dict[str, Any]]:
    """Check the last 24 hours of raw readings of each parameter (flat lines, spikes, out-of-range values)."""
    end = utc_now()
    flags: list[dict[str, Any]] = []
    for parameter, stream in sorted((await _streams(session, station)).items()):
        series = await telemetry.series(session, stream.id, end - QUALITY_WINDOW, end)
        if series.resolution is not telemetry.Resolution.RAW:
            continue  # too many readings for a raw check on a page
        readings = [Reading(at=point.time, value=point.value) for point in series.points]
        if not readings:
            continue
        typical = abs(statistics.median(point.value for point in series.points))
        found = assess(
            readings,
            valid_range=(stream.valid_min, stream.valid_max),
            spike_min_delta=SPIKE_MIN_RELATIVE * typical,
        )
        for flag in found:
            flags.append(
                {
                    "parameter": parameter,
                    "kind": flag.kind.value,
                    "start": flag.start,
                    "end": flag.end,
                    "message": flag.message_en if lang == "en" else flag.message_vi,
                }
            )
    flags.sort(key=lambda f: f["start"], reverse=True)
    return flags[:QUALITY_MAX_FLAGS]
